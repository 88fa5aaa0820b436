"""Log lines that say which node, conductor and Celery task they are about.

Every Ironworks process (API, conductors, beat) logs through handlers set up here:

* :class:`ContextFilter`, on each handler, stamps every record with ``node``, ``conductor``
  and ``task_id`` attributes: values passed explicitly (``extra={"node": ...}``) win, else
  those bound in the current context (:func:`bound`, contextvars, so each thread or task
  has its own), else ``None``. The conductor is process-wide (:func:`set_conductor`).
* ``IRONWORKS_LOG_FORMAT=text`` (default) keeps each process's usual line and, when a node
  or task is known, appends `` [node=... task=... conductor=...]`` to its first line; lines
  about neither are left exactly as they were.
* ``IRONWORKS_LOG_FORMAT=json`` writes one JSON object per line with the keys ``time``
  (UTC, ISO 8601), ``level``, ``logger``, ``message``, ``node``, ``conductor``, ``task_id``
  and, when the record carries one, ``exception`` (the formatted traceback).

The API calls :func:`setup` (``app/wsgi.py``) and runs under gunicorn with
``--logger-class app.gunicorn_logging.GunicornLogger`` (Procfile), so gunicorn's master and
access lines follow the same format; Celery workers and beat call
:func:`configure_handlers` from the ``after_setup_logger`` / ``after_setup_task_logger``
signals (``workers/signals.py``), so Celery keeps its own handlers and text format.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from app import masking

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
FIELDS = ("node", "conductor", "task_id")

_NODE: contextvars.ContextVar[str | None] = contextvars.ContextVar("node", default=None)
_TASK_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("task_id", default=None)
_process: dict[str, str | None] = {"conductor": None}


def json_enabled() -> bool:
    """``IRONWORKS_LOG_FORMAT=json``: every line a JSON object."""
    from app.config import get_settings

    return get_settings().log_format == "json"


def set_conductor(name: str | None) -> None:
    """Name the conductor this process is (every later record carries it)."""
    _process["conductor"] = name


def set_task(task_id: str | None, node: str | None = None) -> None:
    """Bind the Celery task (and its node) running in this thread until the next call.

    For ``task_prerun`` / ``task_postrun``, which bracket each task in the thread running it.
    """
    _TASK_ID.set(task_id)
    _NODE.set(node)


@contextmanager
def bound(node: str | None = None, task_id: str | None = None) -> Iterator[None]:
    """Records logged inside the block carry ``node`` / ``task_id`` (those not None)."""
    tokens: list[tuple[contextvars.ContextVar[str | None], contextvars.Token[str | None]]] = []
    if node is not None:
        tokens.append((_NODE, _NODE.set(node)))
    if task_id is not None:
        tokens.append((_TASK_ID, _TASK_ID.set(task_id)))
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


_PLAIN = logging.Formatter()


class ContextFilter(logging.Filter):
    """Adds ``node``, ``conductor`` and ``task_id`` to every record and masks any credential
    in its message (:func:`app.masking.mask_text`); never drops one."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "node", None) is None:
            record.node = _NODE.get()
        if getattr(record, "task_id", None) is None:
            record.task_id = _TASK_ID.get()
        if getattr(record, "conductor", None) is None:
            record.conductor = _process["conductor"]
        message = record.getMessage()
        masked = masking.mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:  # formatters reuse exc_text as set here
            record.exc_text = masking.mask_text(_PLAIN.formatException(record.exc_info))
        return True


def _suffix(record: logging.LogRecord) -> str:
    node, task_id = getattr(record, "node", None), getattr(record, "task_id", None)
    if node is None and task_id is None:
        return ""
    parts = [f"node={node}"] if node else []
    parts += [f"task={task_id}"] if task_id else []
    conductor = getattr(record, "conductor", None)
    parts += [f"conductor={conductor}"] if conductor else []
    return " [" + " ".join(parts) + "]"


class TextFormatter(logging.Formatter):
    """Wraps a process's usual formatter; adds the ids (when known) to the first line."""

    def __init__(self, inner: logging.Formatter | None = None) -> None:
        super().__init__()
        self.inner = inner or logging.Formatter(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        text = self.inner.format(record)
        suffix = _suffix(record)
        if not suffix:
            return text
        first, newline, rest = text.partition("\n")
        return first + suffix + newline + rest


class JSONFormatter(logging.Formatter):
    """One JSON object per record, on one line (tracebacks are escaped into a string)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in FIELDS:
            entry[name] = getattr(record, name, None)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str)


def _formatter(log_format: str, current: logging.Formatter | None) -> logging.Formatter:
    if log_format == "json":
        return JSONFormatter()
    if isinstance(current, TextFormatter):
        return current
    return TextFormatter(current or logging.Formatter())


def configure_handlers(loggers: Iterable[logging.Logger], log_format: str | None = None) -> None:
    """Give every handler of ``loggers`` the context filter and the configured format.

    Idempotent: a handler already configured is left as it is.
    """
    if log_format is None:
        from app.config import get_settings

        log_format = get_settings().log_format
    for logger in loggers:
        for handler in logger.handlers:
            if not any(isinstance(f, ContextFilter) for f in handler.filters):
                handler.addFilter(ContextFilter())
            handler.setFormatter(_formatter(log_format, handler.formatter))


def setup(level: int = logging.INFO, log_format: str | None = None) -> None:
    """Logging of a process that is not a Celery one (the API): stderr, at ``level``.

    Under gunicorn its own loggers (``gunicorn.error``, ``gunicorn.access``) get the same
    format, so in JSON mode the worker's access and error lines are JSON too.
    """
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=level, format=TEXT_FORMAT)
    root.setLevel(level)
    names = ("gunicorn.error", "gunicorn.access")
    configure_handlers([root, *(logging.getLogger(name) for name in names)], log_format)
