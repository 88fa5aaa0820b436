"""Sensor data: a conductor collects its nodes' readings, publishes them as events on the
real broker and keeps the latest per node for the API."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from kombu import Connection, Queue

from app import states
from app.db import nodes as node_db
from tests.services import LiveAPI
from tests.test_init_host import _manager
from workers.manager import ConductorManager
from workers.periodic import sensor_data
from workers.queues import SENSORS_EXCHANGE


@pytest.fixture
def manager() -> Iterator[ConductorManager]:
    mgr = _manager(conductor_group=f"sensors-{uuid.uuid4().hex[:8]}")
    mgr.init_host()
    yield mgr
    mgr.del_host()


def _node(mgr: ConductorManager, **values: Any) -> str:
    return node_db.create(
        {
            "driver": "fake-hardware",
            "conductor_group": mgr.settings.conductor_group,
            "provision_state": states.AVAILABLE,
            "name": f"sensors-{uuid.uuid4().hex[:8]}",
            **values,
        }
    ).uuid


def test_readings_are_published_and_kept(manager: ConductorManager, api: LiveAPI) -> None:
    node = _node(manager)
    skipped = _node(manager, maintenance=True)
    received: list[dict[str, Any]] = []
    with Connection(manager.settings.broker_url) as conn:
        queue = Queue(
            f"sensor-test-{uuid.uuid4().hex[:8]}",
            SENSORS_EXCHANGE,
            routing_key="hardware.#",
            auto_delete=True,
        )

        def on_message(body: dict[str, Any], message: Any) -> None:
            received.append(body)
            message.ack()

        with conn.Consumer(queue, callbacks=[on_message], accept=["json"]):
            report = sensor_data.send_sensor_data(manager)
            assert report is not None
            assert node in report.sent and skipped not in report.sent
            deadline = 10.0
            while not any(m["node_uuid"] == node for m in received) and deadline > 0:
                with contextlib.suppress(TimeoutError):
                    conn.drain_events(timeout=0.5)
                deadline -= 0.5
    event = next(m for m in received if m["node_uuid"] == node)
    assert event["event_type"] == "hardware.fake-hardware.metrics.update"
    assert event["conductor"] == manager.host
    assert "CPU1 Temp" in event["payload"]["Temperature"]

    body = api.get(f"/v1/nodes/{node}/sensors").json()
    assert body["conductor"] == manager.host and body["collected_at"]
    assert body["sensors"]["Fan"]["Fan1"]["Sensor Reading"].endswith("RPM")
    empty = api.get(f"/v1/nodes/{skipped}/sensors").json()
    assert empty["sensors"] == {} and empty["collected_at"] is None
    assert api.get(f"/v1/nodes/{uuid.uuid4()}/sensors").status_code == 404


def test_a_failing_bmc_does_not_stop_the_others(manager: ConductorManager) -> None:
    bad = _node(manager, driver_info={"fake_fail": "management"})
    good = _node(manager)
    report = sensor_data.send_sensor_data(manager)
    assert report is not None
    assert bad in report.failed and good in report.sent
