"""The one Celery app of Ironworks; settings come from ``celeryconfig.py``."""

from __future__ import annotations

from celery import Celery

app = Celery("ironworks", include=["workers.tasks"])
app.config_from_object("celeryconfig")

# Connect the conductor life-cycle signals (they only act inside a worker of this app).
from workers import drain, signals  # noqa: E402,F401  (drain registers a control command)
from workers.heartbeat import HeartbeatConsumer  # noqa: E402

app.steps["consumer"].add(HeartbeatConsumer)
