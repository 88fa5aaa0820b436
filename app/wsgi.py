"""WSGI entry point: ``gunicorn app.wsgi:app``.

Logging follows ``IRONWORKS_LOG_FORMAT`` (``app/logs.py``). With ``PROMETHEUS_MULTIPROC_DIR``
set (the Procfile does), ``GET /metrics`` sums every gunicorn worker (``app/metrics.py``).
"""

from __future__ import annotations

from app import logs
from app.api import create_app

logs.setup()
app = create_app()
