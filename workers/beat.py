"""What beat runs: ``celery -A workers.beat beat``.

The Celery app with the schedule derived from the declared periodic jobs
(``workers/periodic/schedule.py``). Only beat needs the schedule, so only beat loads the job
modules this way; the API and Flower use ``workers.celery_app`` alone.
"""

from __future__ import annotations

from app.config import get_settings
from workers.celery_app import app
from workers.periodic.schedule import beat_schedule

__all__ = ["app"]

app.conf.beat_schedule = beat_schedule(get_settings())
