"""Persistence: engine and sessions, models, migrations and the queries both sides share."""
