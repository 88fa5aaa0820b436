"""Power-state sync over a conductor's nodes, in process against the real database."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from app import states
from app.db import nodes as node_db
from tests.test_init_host import _manager
from workers.manager import ConductorManager
from workers.periodic import power_sync


@pytest.fixture
def manager() -> Iterator[ConductorManager]:
    # A group of its own: this conductor syncs only the nodes of this test.
    mgr = _manager(conductor_group=f"sync-{uuid.uuid4().hex[:8]}", power_state_sync_max_retries=2)
    mgr.init_host()
    stop = threading.Event()

    def keepalive() -> None:  # beat's job for real conductors; else peers declare it dead
        while not stop.wait(0.5):
            mgr.heartbeat()

    beating = threading.Thread(target=keepalive, daemon=True)
    beating.start()
    yield mgr
    stop.set()
    beating.join()
    mgr.del_host()


def _node(mgr: ConductorManager, **driver_info: object) -> str:
    return node_db.create(
        {
            "driver": "fake-hardware",
            "conductor_group": mgr.settings.conductor_group,
            "provision_state": states.AVAILABLE,
            "power_state": states.POWER_ON,
            "driver_info": dict(driver_info),
            "name": f"sync-{uuid.uuid4().hex[:8]}",
        }
    ).uuid


def _history(node: str) -> list[str]:
    return [h.event for h in node_db.history(node)]


def test_drift_is_pushed_back_to_the_hardware(manager: ConductorManager) -> None:
    node = _node(manager)
    assert node in power_sync.sync_power_states(manager).checked  # type: ignore[union-attr]
    node_db.update_values(node, driver_info={"fake_power_state": states.POWER_OFF})
    report = power_sync.sync_power_states(manager)
    assert report is not None and report.drift == [node]
    assert node_db.get(node).power_state == states.POWER_ON
    assert any("hardware was 'power off'" in e for e in _history(node))
    report = power_sync.sync_power_states(manager)  # the hardware is back on: no drift
    assert report is not None and report.drift == [] and node in report.checked
    assert node_db.get(node).reservation is None


def test_drift_recorded_when_not_forcing(manager: ConductorManager) -> None:
    import dataclasses

    manager.settings = dataclasses.replace(manager.settings, force_power_state_during_sync=False)
    node = _node(manager, fake_power_state=states.POWER_OFF)
    report = power_sync.sync_power_states(manager)
    assert report is not None and report.drift == [node]
    assert node_db.get(node).power_state == states.POWER_OFF


def test_failing_bmc_goes_to_maintenance_and_recovers(manager: ConductorManager) -> None:
    node = _node(manager, fake_fail="power", fake_fail_message="BMC timeout")
    first = power_sync.sync_power_states(manager)
    assert first is not None and first.failed == [node] and first.maintenance == []
    assert manager.power_state_sync_count.get(node) == 1
    second = power_sync.sync_power_states(manager)
    assert second is not None and second.maintenance == [node]
    broken = node_db.get(node)
    assert broken.maintenance and broken.fault == power_sync.POWER_FAILURE
    assert "BMC timeout" in (broken.maintenance_reason or "")
    node_db.update_values(node, driver_info={})  # the BMC is fixed
    third = power_sync.sync_power_states(manager)
    assert third is not None and third.recovered == [node]
    healed = node_db.get(node)
    assert not healed.maintenance and healed.fault is None and healed.last_error is None


def test_sync_never_blocks_a_user_request(manager: ConductorManager) -> None:
    nodes = [_node(manager) for _ in range(6)]  # each read takes 0.2 s (conftest)
    worker = threading.Thread(target=power_sync.sync_power_states, args=(manager,))
    worker.start()
    time.sleep(0.05)
    for node in nodes:  # the sync is reading these BMCs right now; users still get the lock
        node_db.reserve(node, "user-request@api")
        node_db.release(node, "user-request@api")
    worker.join()


def test_locked_and_transient_nodes_are_skipped(manager: ConductorManager) -> None:
    locked = _node(manager, fake_power_state=states.POWER_OFF)
    node_db.reserve(locked, "someone@else")
    deploying = _node(manager)
    node_db.update_values(deploying, provision_state=states.DEPLOYING)
    report = power_sync.sync_power_states(manager)
    assert report is not None
    assert locked not in report.checked and deploying not in report.checked
    node_db.release(locked, "someone@else")


def test_beat_drives_the_sync_on_live_conductors(system: dict[str, object], logdir: Path) -> None:
    from tests.services import wait_for

    def synced() -> bool:
        logs = [p.read_text(errors="replace") for p in logdir.glob("conductor-*.log")]
        return sum("Power sync on" in text for text in logs) >= 2

    wait_for(synced, 20, "both conductors to log a power sync pass")


def test_active_nodes_move_to_their_new_owner_in_one_pass(manager: ConductorManager) -> None:
    """The takeover Ironic does 8 nodes per 180 s: here 1,000 nodes, timed."""
    from sqlalchemy import insert

    from app.db.engine import session_scope
    from app.db.models import Node
    from workers.periodic import active_nodes

    count = 1000
    with session_scope(write=True) as session:
        session.execute(
            insert(Node),
            [
                {
                    "uuid": str(uuid.uuid4()),
                    "driver": "fake-hardware",
                    "conductor_group": manager.settings.conductor_group,
                    "provision_state": states.ACTIVE,
                    "power_state": states.POWER_ON,
                    "conductor_affinity": "dead-conductor@test",
                    "driver_info": {},
                    "driver_internal_info": {},
                    "properties": {},
                    "extra": {},
                    "instance_info": {},
                }
                for _ in range(count)
            ],
        )
    started = time.monotonic()
    moved = active_nodes.take_over_active_nodes(manager)
    seconds = time.monotonic() - started
    print(f"\ntakeover: {count} active nodes moved to the new owner in {seconds:.1f}s")
    assert moved is not None and len(moved) == count
    nodes = node_db.list_nodes({"conductor_group": manager.settings.conductor_group})
    assert {n.conductor_affinity for n in nodes} == {manager.host}
    assert all(n.reservation is None for n in nodes)
    assert active_nodes.take_over_active_nodes(manager) == []  # nothing left to move
