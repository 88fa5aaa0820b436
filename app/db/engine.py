"""One SQLAlchemy engine per process, rebuilt after ``fork``.

Prefork workers inherit the parent's engine; sharing pooled sockets across processes corrupts
them, so :func:`get_engine` notices a new pid and builds a fresh engine (dropping the inherited
pool without closing the parent's connections). SQLite runs in WAL mode with a busy timeout so
the API and several conductors can write the same file.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker

from app.config import get_settings

_lock = threading.Lock()
_state: dict[str, Any] = {
    "engine": None,
    "pid": None,
    "read": None,
    "write": None,
    "single": None,
    "core_read": None,
    "core_write": None,
}
#: SQLite has one writer at a time. Threads of one process take turns here, woken the moment
#: the previous writer commits, instead of in SQLite's busy handler, which sleeps in steps of
#: up to 100 ms (it put PATCH p95 at 100 ms with 8 API threads). Other processes still meet
#: at SQLite's lock. Reentrant: a write nested in a write (a bug SQLite would report after
#: its busy timeout) stays that, rather than a deadlock.
_sqlite_writer = threading.RLock()


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _begin(conn: Any) -> None:
    # A writing transaction takes SQLite's write lock at BEGIN: a deferred one that reads and
    # then writes fails with "database is locked" without waiting for the busy timeout.
    # Readers stay deferred so they never queue behind writers (WAL). A single statement
    # needs no BEGIN: SQLite runs it in a transaction of its own, and a write statement
    # waits in the busy handler for the write lock as BEGIN IMMEDIATE would.
    options = conn.get_execution_options()
    if options.get("single_statement", False):
        return
    conn.exec_driver_sql("BEGIN IMMEDIATE" if options.get("write", False) else "BEGIN")


def _private_sqlite_file(url: str) -> None:
    """Create the SQLite file readable by its owner only (0600; it holds BMC passwords), or
    tighten one of ours that is not. SQLite gives its -wal and -shm files the same mode."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    elif path.stat().st_uid == os.getuid() and path.stat().st_mode & 0o077:
        path.chmod(0o600)


def build_engine(url: str) -> Engine:
    """Create an engine for ``url`` with the settings Ironworks relies on.

    ``hide_parameters``: a database error's text never carries the statement's values (a
    BMC password being written, say), wherever it is logged or shown."""
    if url.startswith("sqlite"):
        _private_sqlite_file(url)
        engine = create_engine(
            url, connect_args={"timeout": 30, "isolation_level": None}, hide_parameters=True
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _begin)
        return engine
    # No ping per checkout: it was one extra round trip for every session (16% of the API's
    # time under load). A connection the server dropped fails its statement once; SQLAlchemy
    # then discards the whole pool, the API answers that request 503 and the next one works.
    return create_engine(url, pool_size=5, max_overflow=10, pool_recycle=1800, hide_parameters=True)


def _autocommit(engine: Engine) -> Engine:
    """The engine for single statements, each committed on its own."""
    if engine.dialect.name == "sqlite":
        return engine.execution_options(single_statement=True)
    return engine.execution_options(isolation_level="AUTOCOMMIT")


def _reader(engine: Engine) -> Engine:
    """Reads on a server database run in autocommit: no BEGIN and COMMIT round trips around
    each one (three round trips become one; a read never needs to be undone). SQLite is
    in process, where a transaction costs nothing and keeps multi-statement reads on one
    snapshot."""
    return engine if engine.dialect.name == "sqlite" else _autocommit(engine)


def get_engine() -> Engine:
    """The engine of this process for the configured database."""
    with _lock:
        engine = _state["engine"]
        if engine is not None and _state["pid"] == os.getpid():
            return engine  # type: ignore[no-any-return]
        if engine is not None:
            engine.dispose(close=False)
        engine = build_engine(get_settings().database_url)
        _state.update(
            engine=engine,
            pid=os.getpid(),
            read=sessionmaker(_reader(engine)),
            write=sessionmaker(engine.execution_options(write=True)),
            single=_autocommit(engine),
            core_read=_reader(engine),
            core_write=engine.execution_options(write=True),
        )
        return engine


def dispose_engine() -> None:
    """Close pooled connections (before fork or at shutdown)."""
    with _lock:
        if _state["engine"] is not None and _state["pid"] == os.getpid():
            _state["engine"].dispose()


def _writers_turn(write: bool) -> AbstractContextManager[Any]:
    """What a writer of this process waits on before it starts: ``_sqlite_writer`` on
    SQLite, nothing elsewhere. Also makes sure the engine (and ``_state``) is built."""
    sqlite = get_engine().dialect.name == "sqlite"
    return _sqlite_writer if write and sqlite else nullcontext()


@contextmanager
def session_scope(write: bool = False) -> Iterator[Session]:
    """A session in a transaction: committed on success, rolled back on any error.

    Pass ``write=True`` when the transaction changes rows, so SQLite serialises writers at
    BEGIN instead of failing half-way through.
    """
    turn = _writers_turn(write)
    factory: sessionmaker[Session] = _state["write" if write else "read"]
    with turn, factory() as session, session.begin():
        yield session


@contextmanager
def transaction_scope(write: bool = False) -> Iterator[Connection]:
    """A Core connection in one transaction: committed on success, rolled back on any error.
    :func:`session_scope` without the ORM, for statements that must be atomic together."""
    turn = _writers_turn(write)
    target: Engine = _state["core_write" if write else "core_read"]
    with turn, target.begin() as conn:
        yield conn


@contextmanager
def statement_scope(write: bool = False) -> Iterator[Connection]:
    """A connection for ONE statement, which commits on its own: no BEGIN and COMMIT around
    it, and no ORM session. The hot paths use it (read a node, PATCH a node): on SQLite the
    write section shrinks from three calls (BEGIN IMMEDIATE, UPDATE, COMMIT), each releasing
    and re-taking the GIL among the API's threads, to one; on PostgreSQL three round trips
    become one. Two statements through it are two transactions: use :func:`session_scope`
    when they must be atomic together.

    Pass ``write=True`` when the statement changes rows (SQLite writers of this process
    take turns on a lock, see ``_sqlite_writer``).
    """
    turn = _writers_turn(write)
    single: Engine = _state["single"]
    with turn, single.connect() as conn:
        yield conn
