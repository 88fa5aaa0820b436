"""The whole life of a node through the REST API, on real conductors."""

from __future__ import annotations

import json

from app.db import nodes as node_db
from tests.helpers import create_node, fault, provision, wait_provision
from tests.services import LiveAPI


def _history(api: LiveAPI, ident: str) -> list[str]:
    return [h["event"] for h in api.get(f"/v1/nodes/{ident}/history").json()["history"]]


def test_full_lifecycle(system: dict[str, object], api: LiveAPI) -> None:
    node = create_node(api)
    uuid = node["uuid"]
    assert node["provision_state"] == "enroll"
    managed = provision(api, uuid, "manage", "manageable")
    assert managed["power_state"] == "power off" and managed["target_provision_state"] is None
    inspected = provision(api, uuid, "inspect", "manageable")
    assert inspected["properties"]["cpus"] == 8
    ports = api.get(f"/v1/nodes/{uuid}/ports").json()["ports"]
    assert len(ports) == 1  # inspection created a port from the NIC it found
    provision(api, uuid, "provide", "available")
    active = provision(api, uuid, "active", "active", configdrive="secret-config-drive")
    assert active["power_state"] == "power on"
    assert active["instance_info"]["configdrive"] == "******"
    assert node_db.get(uuid).instance_info["configdrive"] == "secret-config-drive"
    provision(api, uuid, "rebuild", "active")
    available = provision(api, uuid, "deleted", "available")
    assert available["instance_info"] == {} and available["power_state"] == "power off"
    provision(api, uuid, "manage", "manageable")
    steps = [{"interface": "deploy", "step": "erase_devices", "args": {}}]
    provision(api, uuid, "clean", "manageable", clean_steps=steps)
    provision(api, uuid, "adopt", "active")
    rescued = provision(api, uuid, "rescue", "rescue", rescue_password="pw-123")
    assert rescued["instance_info"]["rescue_password"] == "******"
    provision(api, uuid, "unrescue", "active")
    provision(api, uuid, "undeploy", "available")
    events = _history(api, uuid)
    assert "enroll -> verifying (manage requested)" in events
    assert any("deploying -> active" in e for e in events)
    assert api.delete(f"/v1/nodes/{uuid}").status_code == 204
    assert api.get(f"/v1/ports/{ports[0]['uuid']}").status_code == 404  # ports go with it


def test_illegal_verb_names_state_and_allowed_verbs(
    system: dict[str, object], api: LiveAPI
) -> None:
    node = create_node(api)
    response = api.put(f"/v1/nodes/{node['uuid']}/states/provision", json={"target": "active"})
    assert response.status_code == 400
    message = fault(response)
    assert '"enroll"' in message and "manage" in message
    unknown = api.put(f"/v1/nodes/{node['uuid']}/states/provision", json={"target": "fly"})
    assert unknown.status_code == 400
    missing = api.put(f"/v1/nodes/{node['uuid']}/states/provision", json={})
    assert missing.status_code == 400
    after = api.get(f"/v1/nodes/{node['uuid']}").json()
    assert after["provision_state"] == "enroll" and after["reservation"] is None


def test_wrong_options_for_verb_are_400(system: dict[str, object], api: LiveAPI) -> None:
    node = create_node(api)
    uuid = node["uuid"]
    provision(api, uuid, "manage", "manageable")
    path = f"/v1/nodes/{uuid}/states/provision"
    for body in (
        {"target": "clean"},
        {"target": "clean", "clean_steps": [{"interface": "deploy", "step": "nope"}]},
        {"target": "provide", "configdrive": "x"},
        {"target": "provide", "clean_steps": []},
    ):
        response = api.put(path, json=body)
        assert response.status_code == 400, body
        assert fault(response)
    assert api.get(f"/v1/nodes/{uuid}").json()["provision_state"] == "manageable"


def test_deploy_failure_then_recovery(system: dict[str, object], api: LiveAPI) -> None:
    node = create_node(api, driver_info={"fake_fail": "deploy", "fake_fail_message": "disk"})
    uuid = node["uuid"]
    provision(api, uuid, "manage", "manageable")
    provision(api, uuid, "provide", "available")
    failed = provision(api, uuid, "active", "deploy failed")
    assert "disk" in failed["last_error"]
    assert failed["target_provision_state"] == "active"
    patch = [{"op": "remove", "path": "/driver_info/fake_fail"}]
    assert api.request("PATCH", f"/v1/nodes/{uuid}", json=patch).status_code == 200
    recovered = provision(api, uuid, "active", "active")
    assert recovered["last_error"] is None
    assert any(
        h["severity"] == "ERROR" for h in api.get(f"/v1/nodes/{uuid}/history").json()["history"]
    )


def test_wait_state_then_abort(system: dict[str, object], api: LiveAPI) -> None:
    node = create_node(api, driver_info={"fake_wait": "deploy"})
    uuid = node["uuid"]
    provision(api, uuid, "manage", "manageable")
    provision(api, uuid, "provide", "available")
    waiting = provision(api, uuid, "active", "wait call-back")
    assert waiting["target_provision_state"] == "active"
    aborted = provision(api, uuid, "abort", "deploy failed")
    assert "aborted" in aborted["last_error"]
    provision(api, uuid, "deleted", "available")


def test_maintenance_set_and_unset(system: dict[str, object], api: LiveAPI) -> None:
    node = create_node(api)
    uuid = node["uuid"]
    provision(api, uuid, "manage", "manageable")
    provision(api, uuid, "provide", "available")
    response = api.put(f"/v1/nodes/{uuid}/maintenance", json={"reason": "fan broken"})
    assert response.status_code == 202
    shown = api.get(f"/v1/nodes/{uuid}").json()
    assert shown["maintenance"] is True and shown["maintenance_reason"] == "fan broken"
    refused = api.put(f"/v1/nodes/{uuid}/states/provision", json={"target": "active"})
    assert refused.status_code == 400 and "maintenance" in fault(refused)
    listed = api.get("/v1/nodes", params={"maintenance": "true"}).json()["nodes"]
    assert uuid in [n["uuid"] for n in listed]
    assert api.delete(f"/v1/nodes/{uuid}/maintenance").status_code == 202
    shown = api.get(f"/v1/nodes/{uuid}").json()
    assert shown["maintenance"] is False and shown["maintenance_reason"] is None
    assert any("fan broken" in e for e in _history(api, uuid))


def test_delete_refused_while_active(system: dict[str, object], api: LiveAPI) -> None:
    node = create_node(api)
    uuid = node["uuid"]
    provision(api, uuid, "manage", "manageable")
    provision(api, uuid, "adopt", "active")
    response = api.delete(f"/v1/nodes/{uuid}")
    assert response.status_code == 409
    assert "active" in fault(response)


def test_busy_node_provision_is_409(system: dict[str, object], api: LiveAPI) -> None:
    node = create_node(api)
    node_db.reserve(node["uuid"], "someone@else")
    try:
        response = api.put(f"/v1/nodes/{node['uuid']}/states/provision", json={"target": "manage"})
        assert response.status_code == 409 and "someone@else" in fault(response)
        patch = api.request(
            "PATCH",
            f"/v1/nodes/{node['uuid']}",
            json=[{"op": "add", "path": "/extra/a", "value": 1}],
        )
        assert patch.status_code == 409
    finally:
        node_db.release(node["uuid"], "someone@else")
    wait_provision(api, node["uuid"], "enroll")


def test_validate_reports_each_interface(system: dict[str, object], api: LiveAPI) -> None:
    good = create_node(api)
    report = api.get(f"/v1/nodes/{good['uuid']}/validate").json()
    for iface in ("power", "management", "boot", "deploy", "network", "storage"):
        assert report[iface] == {"result": True, "reason": None}, iface
    assert report["console"] == {"result": True, "reason": None}  # fake-hardware's own
    absent = create_node(api, console_interface="no-console")
    report = api.get(f"/v1/nodes/{absent['uuid']}/validate").json()
    assert report["console"] == {"result": None, "reason": "not supported"}
    bad = create_node(api, driver_info={"fake_fail": "validate", "fake_fail_message": "no BMC"})
    report = api.get(f"/v1/nodes/{bad['uuid']}/validate").json()
    assert report["power"]["result"] is False and "no BMC" in report["power"]["reason"]


def test_properties_of_driver(system: dict[str, object], api: LiveAPI) -> None:
    props = api.get("/v1/drivers/fake-hardware/properties").json()
    assert "fake_fail" in props
    assert json.dumps(props)


def test_callback_wait_times_out_into_failed_state(system: dict[str, object], api: LiveAPI) -> None:
    node = create_node(api, driver_info={"fake_wait": "clean"})
    uuid = node["uuid"]
    provision(api, uuid, "manage", "manageable")
    response = api.put(f"/v1/nodes/{uuid}/states/provision", json={"target": "provide"})
    assert response.status_code == 202
    failed = wait_provision(api, uuid, "clean failed", timeout=20)
    assert "Timeout reached while waiting for callback in 'clean wait'" in failed["last_error"]
    assert failed["target_provision_state"] == "available"
    provision(api, uuid, "manage", "manageable")  # the way back out of clean failed
