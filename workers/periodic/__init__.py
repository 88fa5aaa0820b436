"""Periodic work of the conductors, driven by beat.

Each job is a function of the conductor, declared once with :func:`~workers.periodic.base.
periodic` next to its code; beat's schedule (``workers/beat.py``) and the Celery task names
(``workers/tasks.py``) are derived from those declarations, listed in
``workers/periodic/schedule.py``.
"""
