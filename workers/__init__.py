"""Conductors: the one Celery app, its signals, the ConductorManager and its tasks."""
