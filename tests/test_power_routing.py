"""A power request travels API → hash ring → conductor queue → driver, on real processes."""

from __future__ import annotations

import os
import subprocess
import sys

from app.db import nodes as node_db
from app.hash_ring import HashRingManager
from tests.helpers import LATEST, create_node, fault, wait_power
from tests.services import ROOT, LiveAPI, Process, wait_for


def _conductors(system: dict[str, object]) -> dict[str, Process]:
    return system["conductors"]  # type: ignore[return-value]


def test_power_request_runs_on_the_ring_owner(system: dict[str, object], api: LiveAPI) -> None:
    conductors = _conductors(system)
    ring = HashRingManager(ttl=0)
    nodes = [create_node(api) for _ in range(12)]
    for node in nodes:
        response = api.put(f"/v1/nodes/{node['uuid']}/states/power", json={"target": "power on"})
        assert response.status_code == 202, response.text
        assert response.headers["Location"].endswith(f"/v1/nodes/{node['uuid']}/states")
        assert response.content == b""
    owners = set()
    for node in nodes:
        states = wait_power(api, node["uuid"])
        assert states["power_state"] == "power on"
        assert states["last_error"] is None
        owner = ring.get_conductor(node["uuid"], "fake-hardware", "")
        owners.add(owner)
        assert api.get(f"/v1/nodes/{node['uuid']}").json()["conductor"] == owner
        done = f"Node {node['uuid']}: power 'power on' done on {owner}"
        wait_for(lambda d=done, o=owner: d in conductors[o].log(), 5, f"log line {done!r}")
        for other, proc in conductors.items():
            if other != owner:
                assert node["uuid"] not in proc.log()
    assert owners == set(conductors), "12 nodes should be spread over both conductors"


def test_power_off_and_reboot(system: dict[str, object], api: LiveAPI) -> None:
    node = create_node(api)
    path = f"/v1/nodes/{node['uuid']}/states/power"
    for target, expected in [
        ("power on", "power on"),
        ("power off", "power off"),
        ("rebooting", "power on"),
    ]:
        assert api.put(path, json={"target": target}).status_code == 202
        assert wait_power(api, node["uuid"])["power_state"] == expected
    assert api.get(f"/v1/nodes/{node['uuid']}").json()["reservation"] is None


def test_driver_failure_is_recorded_and_lock_released(
    system: dict[str, object], api: LiveAPI
) -> None:
    node = create_node(api, driver_info={"fake_fail": "power", "fake_fail_message": "BMC gone"})
    response = api.put(f"/v1/nodes/{node['uuid']}/states/power", json={"target": "power on"})
    assert response.status_code == 202
    states = wait_power(api, node["uuid"])
    assert states["power_state"] is None  # unchanged
    assert "BMC gone" in states["last_error"]
    assert api.get(f"/v1/nodes/{node['uuid']}").json()["reservation"] is None


def test_busy_node_answers_409_naming_the_holder(system: dict[str, object], api: LiveAPI) -> None:
    node = create_node(api)
    node_db.reserve(node["uuid"], "maintenance-script@ops")
    try:
        response = api.put(f"/v1/nodes/{node['uuid']}/states/power", json={"target": "power on"})
        assert response.status_code == 409
        assert "maintenance-script@ops" in fault(response)
        assert api.get(f"/v1/nodes/{node['uuid']}").json()["target_power_state"] is None
    finally:
        node_db.release(node["uuid"], "maintenance-script@ops")


def test_no_live_conductor_for_group_is_503(system: dict[str, object], api: LiveAPI) -> None:
    node = create_node(api, conductor_group="nowhere")
    assert node["conductor"] is None
    response = api.put(f"/v1/nodes/{node['uuid']}/states/power", json={"target": "power on"})
    assert response.status_code == 503
    assert "nowhere" in fault(response)
    after = api.get(f"/v1/nodes/{node['uuid']}").json()
    assert after["reservation"] is None and after["target_power_state"] is None


def test_broker_refusing_the_message_is_503_and_rolls_back(
    system: dict[str, object], api: LiveAPI
) -> None:
    node = create_node(api)
    script = (
        "from app.rpcapi import ConductorAPI\n"
        "from app import exceptions\n"
        "try:\n"
        f"    ConductorAPI().change_power_state({node['uuid']!r}, 'power on')\n"
        "except exceptions.BrokerUnavailable as exc:\n"
        "    print('503', exc.code)\n"
        "try:\n"
        f"    ConductorAPI().do_provisioning_action({node['uuid']!r}, 'manage', {{}}, {{}})\n"
        "except exceptions.BrokerUnavailable as exc:\n"
        "    print('provision', exc.code)\n"
    )
    env = {**os.environ, "IRONWORKS_BROKER_URL": "redis://127.0.0.1:1/0"}
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "503 503" in out.stdout and "provision 503" in out.stdout, out.stderr
    after = api.get(f"/v1/nodes/{node['uuid']}").json()
    assert after["reservation"] is None
    assert after["target_power_state"] is None
    assert after["provision_state"] == "enroll" and after["target_provision_state"] is None


def test_secrets_are_masked(system: dict[str, object], api: LiveAPI) -> None:
    node = create_node(
        api,
        driver_info={"ipmi_password": "hunter2", "ipmi_username": "admin"},
        instance_info={"configdrive": "secret-blob", "image_source": "http://x/img"},
    )
    for body in (node, api.get(f"/v1/nodes/{node['uuid']}", headers=LATEST).json()):
        assert body["driver_info"] == {"ipmi_password": "******", "ipmi_username": "admin"}
        assert body["instance_info"]["configdrive"] == "******"
    listing = api.get("/v1/nodes/detail").text
    assert "hunter2" not in listing and "secret-blob" not in listing
