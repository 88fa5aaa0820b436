"""The node lock is an atomic row reservation: racing holders never both win."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from app import exceptions, states
from app.db import nodes as node_db
from tests.test_power_sync import _node as _sync_node
from tests.test_power_sync import manager  # noqa: F401  (an in-process conductor)
from workers import task_manager
from workers.manager import ConductorManager


def _node() -> str:
    return node_db.create({"driver": "fake-hardware", "provision_state": states.ENROLL}).uuid


def test_racing_reservations_have_exactly_one_winner() -> None:
    for _ in range(5):
        uuid = _node()
        start = threading.Barrier(8)

        def grab(i: int, uuid: str = uuid, start: threading.Barrier = start) -> str | None:
            start.wait()
            try:
                node_db.reserve(uuid, f"conductor-{i}")
            except exceptions.NodeLocked:
                return None
            return f"conductor-{i}"

        with ThreadPoolExecutor(8) as pool:
            winners = [w for w in pool.map(grab, range(8)) if w]
        assert len(winners) == 1
        assert node_db.get(uuid).reservation == winners[0]


def test_locked_error_names_the_holder() -> None:
    uuid = _node()
    node_db.reserve(uuid, "conductor-x")
    with pytest.raises(exceptions.NodeLocked, match="conductor-x") as err:
        node_db.reserve(uuid, "conductor-y")
    assert err.value.code == 409


def test_only_the_holder_releases() -> None:
    uuid = _node()
    node_db.reserve(uuid, "conductor-x", target_power_state=states.POWER_ON)
    assert node_db.release(uuid, "conductor-y", power_state=states.POWER_OFF) is False
    assert node_db.get(uuid).reservation == "conductor-x"
    assert node_db.release(uuid, "conductor-x", power_state=states.POWER_ON) is True
    node = node_db.get(uuid)
    assert node.reservation is None and node.power_state == states.POWER_ON


def test_locked_node_cannot_be_deleted() -> None:
    uuid = _node()
    node_db.reserve(uuid, "conductor-x")
    with pytest.raises(exceptions.NodeLocked):
        node_db.destroy(uuid, states.DELETE_ALLOWED_STATES)
    node_db.release(uuid, "conductor-x")
    node_db.destroy(uuid, states.DELETE_ALLOWED_STATES)
    with pytest.raises(exceptions.NodeNotFound):
        node_db.get(uuid)


def test_two_patches_from_the_same_read_cannot_overwrite_each_other() -> None:
    uuid = _node()
    first, second = node_db.get(uuid), node_db.get(uuid)
    written = node_db.update_unlocked(first, {"extra": {"from": "first"}})
    assert written.extra == {"from": "first"}
    with pytest.raises(exceptions.NodeStateChanged):
        node_db.update_unlocked(second, {"extra": {"from": "second"}})
    assert node_db.get(uuid).extra == {"from": "first"}
    # a fresh read writes; a locked node names its holder
    assert node_db.update_unlocked(node_db.get(uuid), {"description": "ok"}).description == "ok"
    node_db.reserve(uuid, "conductor-y")
    with pytest.raises(exceptions.NodeLocked, match="conductor-y"):
        node_db.update_unlocked(node_db.get(uuid), {"description": "no"})


def test_an_outcome_is_logged_only_once_it_is_written(
    manager: ConductorManager,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A conductor that lost the lock mid-work must not log an outcome nobody recorded."""
    log = logging.getLogger("tests.outcome")
    kept, lost = _sync_node(manager), _sync_node(manager)
    with caplog.at_level(logging.INFO, logger="tests.outcome"):
        with task_manager.acquire(manager, kept) as task:
            task.report(log, "Node %s: outcome", kept)
            assert "outcome" not in caplog.text  # not before the commit
        with pytest.raises(exceptions.LockLost), task_manager.acquire(manager, lost) as task:
            task.report(log, "Node %s: outcome", lost)
            node_db.release(lost, manager.host)
            node_db.reserve(lost, "conductor-x")  # a peer took the node meanwhile
    assert f"Node {kept}: outcome" in caplog.text
    assert lost not in caplog.text
