"""gunicorn's own logger (master and workers: errors, access) in the Ironworks format.

``gunicorn --logger-class app.gunicorn_logging.GunicornLogger`` (the Procfile) applies
``IRONWORKS_LOG_FORMAT`` to gunicorn's lines too. A module of its own so that only the API
imports gunicorn (about 6 MiB a conductor or beat would otherwise carry).
"""

from __future__ import annotations

from typing import Any

from gunicorn import glogging

from app.logs import configure_handlers


class GunicornLogger(glogging.Logger):
    """gunicorn's own logger (master and workers: errors, access) in the Ironworks format."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        configure_handlers([self.error_log, self.access_log])
