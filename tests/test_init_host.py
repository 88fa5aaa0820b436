"""ConductorManager start-up and shutdown, in process against the real database."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import re
import subprocess
import threading
import uuid
from collections.abc import Iterator

import pytest

from app import exceptions, states
from app.config import get_settings
from app.db import conductors as conductor_db
from app.db import nodes as node_db
from app.db.models import Conductor
from tests.services import ROOT, celery_argv
from workers.base_manager import PoolInfo
from workers.manager import ConductorManager

GROUP = "unit-tests"  # keeps these conductors out of the rings the live tests use

STEPS = [
    "database init",
    "clear leftovers",
    "register",
    "keepalive",
    "worker pool",
    "hash ring",
    "drivers",
    "interface factories",
]


def _manager(**overrides: object) -> ConductorManager:
    settings = dataclasses.replace(get_settings(), **{"conductor_group": GROUP, **overrides})
    host = f"unit-{uuid.uuid4().hex[:8]}@test"
    return ConductorManager(host, PoolInfo("threads", 4), settings=settings)


@pytest.fixture
def manager() -> Iterator[ConductorManager]:
    """A conductor in this process, beating like a real one once started: without its
    heartbeat the suite's live conductors would declare it dead after the suite's 3 s
    timeout (a slow test on a loaded machine) and move its queue away."""
    mgr = _manager()
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(0.5):
            # a no-op until init_host() and after del_host(); never let it kill the thread
            with contextlib.suppress(Exception):
                mgr.heartbeat()

    beating = threading.Thread(target=beat, name="test-heartbeat", daemon=True)
    beating.start()
    yield mgr
    stop.set()
    beating.join()
    mgr.del_host()


def _row(host: str) -> Conductor:
    return next(r for r, _alive in conductor_db.list_conductors(3) if r.hostname == host)


def test_init_host_runs_its_steps_in_order(
    manager: ConductorManager, caplog: pytest.LogCaptureFixture
) -> None:
    joined: list[str] = []
    manager._join_heartbeat = lambda: joined.append("heartbeat")
    with caplog.at_level(logging.INFO, logger="workers.base_manager"):
        manager.init_host()
    lines = [r.getMessage() for r in caplog.records if "init_host" in r.getMessage()]
    assert [re.sub(r".* step \d/8 ([a-z ]+):.*", r"\1", line) for line in lines] == STEPS
    assert [int(re.search(r"step (\d)/8", line).group(1)) for line in lines] == list(range(1, 9))
    assert joined == ["heartbeat"]
    row = _row(manager.host)
    assert row.online and row.conductor_group == GROUP
    assert row.hardware_types == ["fake-hardware", "ipmi", "redfish"]
    kinds = {(i.interface_type, i.interface_name, i.default) for i in row.interfaces}
    assert {("power", "fake", True), ("power", "redfish", True), ("boot", "pxe", True)} <= kinds
    assert manager.topic == f"conductor.{manager.host}"
    with pytest.raises(RuntimeError, match="already started"):
        manager.init_host()


def test_restart_clears_what_the_last_run_left(manager: ConductorManager) -> None:
    values = {"driver": "fake-hardware", "conductor_group": GROUP, "provision_state": states.ENROLL}
    from workers import requeue

    locked = node_db.create(dict(values))
    pending = node_db.create(dict(values))  # its power task was lost with the last run
    manual_clean = node_db.create(
        {**values, "provision_state": states.CLEANING, "target_provision_state": states.MANAGEABLE}
    )
    node_db.reserve(locked.uuid, manager.host)
    node_db.reserve(pending.uuid, manager.host, target_power_state=states.POWER_ON)
    node_db.reserve(manual_clean.uuid, manager.host)
    manager.init_host()
    assert node_db.get(locked.uuid).reservation is None  # nothing to do: just unlocked
    assert node_db.get(locked.uuid).last_error is None
    resumed = node_db.get(pending.uuid)  # power work starts again, under its lock
    assert resumed.reservation == manager.host
    assert resumed.target_power_state == states.POWER_ON
    failed = node_db.get(manual_clean.uuid)  # its clean steps died with the task: failed
    assert failed.reservation is None and failed.provision_state == states.CLEANFAIL
    assert "restarted" in (failed.last_error or "")
    seen: list[str] = []
    requeue.drain(manager.host, lambda uuid: seen.append(uuid))
    assert seen == [pending.uuid]
    node_db.release(pending.uuid, manager.host)


def test_del_host_goes_offline_and_releases_locks(manager: ConductorManager) -> None:
    manager.init_host()
    node = manager.create_node({"driver": "fake-hardware"})
    node_db.reserve(node.uuid, manager.host)
    manager.del_host()
    assert _row(manager.host).online is False
    assert node_db.get(node.uuid).reservation is None
    manager.heartbeat()  # a late heartbeat must not bring a stopped conductor back
    assert _row(manager.host).online is False


def test_heartbeat_rejoins_after_being_marked_offline(manager: ConductorManager) -> None:
    manager.init_host()
    conductor_db.set_online(manager.host, False)
    manager.heartbeat()
    assert _row(manager.host).online is True


def test_manager_node_operations(manager: ConductorManager) -> None:
    manager.init_host()
    node = manager.create_node({"driver": "fake-hardware", "name": f"m-{uuid.uuid4().hex[:6]}"})
    assert node.provision_state == states.ENROLL and node.conductor_group == GROUP
    with pytest.raises(exceptions.UnknownDriver):
        manager.create_node({"driver": "idrac"})
    updated = manager.update_node(node.uuid, {"extra": {"rack": "r1"}})
    assert updated.extra == {"rack": "r1"} and updated.reservation is None
    assert node.uuid in manager.nodes_mapped()  # only conductor of its group: owns it
    with pytest.raises(exceptions.RequestNotRecorded):  # no API lock: never a request
        manager.change_power_state(node.uuid, states.POWER_ON)
    assert node_db.get(node.uuid).reservation is None
    node_db.reserve(node.uuid, manager.host, target_power_state=states.POWER_ON)  # as the API
    manager.change_power_state(node.uuid, states.POWER_ON)
    after = node_db.get(node.uuid)
    assert after.power_state == states.POWER_ON and after.reservation is None


def test_unknown_hardware_type_stops_the_start() -> None:
    mgr = _manager(enabled_hardware_types=["fake-hardware", "no-such-type"])
    with pytest.raises(exceptions.DriverLoadError, match=r"no-such-type.*fake-hardware"):
        mgr.init_host()
    assert _row(mgr.host).online is False


def test_worker_with_unknown_hardware_type_exits_with_a_clear_message() -> None:
    env = {
        **os.environ,
        "IRONWORKS_ENABLED_HARDWARE_TYPES": "fake-hardware,bogus-hw",
        "IRONWORKS_CONDUCTOR_GROUP": GROUP,
    }
    name = f"bad-{uuid.uuid4().hex[:6]}@test"
    argv = celery_argv("worker", "-n", name, "--pool", "solo")
    out = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert "hardware type 'bogus-hw'" in out.stderr
    assert "Available: ['fake-hardware', 'ipmi', 'redfish']" in out.stderr
    assert _row(name).online is False  # registered, then unregistered by the failed start


def test_restart_keeps_locks_of_tasks_still_queued(manager: ConductorManager) -> None:
    from workers import requeue
    from workers.celery_app import app
    from workers.queues import conductor_queue

    values = {"driver": "fake-hardware", "conductor_group": GROUP, "provision_state": states.ENROLL}
    queued = node_db.create(dict(values))
    orphan = node_db.create(dict(values))  # locked for a task that was lost
    for node in (queued, orphan):
        node_db.reserve(node.uuid, manager.host, target_power_state=states.POWER_ON)
    app.send_task(
        "ironworks.node.set_power_state",
        args=(queued.uuid, states.POWER_ON),
        queue=conductor_queue(manager.host),
    )
    manager.init_host()
    kept = node_db.get(queued.uuid)
    assert kept.reservation == manager.host and kept.target_power_state == states.POWER_ON
    resumed = node_db.get(orphan.uuid)
    assert resumed.reservation == manager.host  # its power work was sent again
    seen: list[str] = []
    requeue.drain(manager.host, lambda uuid: seen.append(uuid))  # drop them, counting
    assert sorted(seen) == sorted([queued.uuid, orphan.uuid])  # each queued exactly once
    for node in (queued, orphan):
        assert node_db.release(node.uuid, manager.host)


def test_orphaned_locks_are_released_and_queued_ones_kept(manager: ConductorManager) -> None:
    from workers.celery_app import app
    from workers.periodic import orphaned_locks
    from workers.queues import conductor_queue

    manager.settings = dataclasses.replace(manager.settings, orphan_lock_grace=0)
    manager.init_host()
    values = {"driver": "fake-hardware", "conductor_group": GROUP, "provision_state": states.ENROLL}
    queued, lost, deploying = (node_db.create(dict(values)) for _ in range(3))
    for node in (queued, lost, deploying):
        node_db.reserve(node.uuid, manager.host, target_power_state=states.POWER_ON)
    node_db.update_values(deploying.uuid, provision_state=states.DEPLOYING)
    app.send_task(
        "ironworks.node.set_power_state",
        args=(queued.uuid, states.POWER_ON),
        queue=conductor_queue(manager.host),
    )
    assert orphaned_locks.release_orphaned_locks(manager) == []  # first strike: only suspected
    assert node_db.get(lost.uuid).reservation == manager.host
    found = orphaned_locks.release_orphaned_locks(manager)
    assert found == sorted([lost.uuid, deploying.uuid])
    # Both lost tasks can start again from the top: they are sent again, with the lock.
    for uuid_ in (queued.uuid, lost.uuid, deploying.uuid):
        assert node_db.get(uuid_).reservation == manager.host
    assert node_db.get(deploying.uuid).provision_state == states.DEPLOYING
    from workers import requeue

    seen: list[str] = []
    requeue.drain(manager.host, lambda uuid: seen.append(uuid))
    assert sorted(seen) == sorted([queued.uuid, lost.uuid, deploying.uuid])
    for uuid_ in (queued.uuid, lost.uuid, deploying.uuid):
        node_db.release(uuid_, manager.host)
