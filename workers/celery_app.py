"""The one Celery app of Ironworks; its settings come from ``celeryconfig.py``.

A leaf: it imports nothing else of ``workers/``, so the processes that only publish or watch
(the API, the CLI, Flower) load Celery and its settings and nothing of the conductor. The
processes that do more start from a module on top of this one:

* a conductor is ``celery -A workers.service worker``: this app plus the worker's life cycle
  (``workers/service.py``) and the tasks (``workers/tasks.py``);
* beat is ``celery -A workers.beat beat``: this app plus the schedule derived from the
  periodic jobs (``workers/periodic/``).

Every Celery process of ours logs in the Ironworks format (``app/logs.py``): Celery sets its
loggers up itself, and the two signals below add the ids and the configured format.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery, signals

from app import logs


class IronworksCelery(Celery):
    #: The conductor this process runs (a ``ConductorManager``), set by the worker's life
    #: cycle once ``init_host()`` is done; None in every process that only publishes.
    #: Tasks reach it through their base class (``workers/tasks.py``).
    conductor: Any = None


app = IronworksCelery("ironworks")
app.config_from_object("celeryconfig")


@signals.after_setup_logger.connect
@signals.after_setup_task_logger.connect
def on_setup_logger(logger: logging.Logger, **_: Any) -> None:
    """Celery set a logger up (worker, beat): add the ids and the configured format."""
    logs.configure_handlers([logger])
