"""The plain resources: chassis, volume connectors and volume targets, through a live API
(Ironic's shapes, codes and rules), and the node side of each (``chassis_uuid``...)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from app.db import nodes as node_db
from tests.helpers import create_node, fault, random_mac, wait_power
from tests.services import LiveAPI

pytestmark = pytest.mark.usefixtures("system")


def _at(minor: int) -> dict[str, str]:
    return {"X-OpenStack-Ironic-API-Version": f"1.{minor}"}


def _created(api: LiveAPI, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = api.post(path, json=body)
    assert response.status_code == 201, response.text
    assert response.headers["Location"].endswith(response.json()["uuid"])
    return dict(response.json())


def _powered_off(api: LiveAPI) -> dict[str, Any]:
    node = create_node(api)
    assert api.put(f"/v1/nodes/{node['uuid']}/states/power", json={"target": "power off"}).ok
    wait_power(api, node["uuid"])
    return node


# -- chassis -----------------------------------------------------------------------------------
def test_chassis_lifecycle_and_its_nodes(api: LiveAPI) -> None:
    chassis = _created(api, "/v1/chassis", {"description": "rack 7", "extra": {"row": "b"}})
    url = f"/v1/chassis/{chassis['uuid']}"
    assert api.get(url).json()["description"] == "rack 7"
    patched = api.patch(url, json=[{"op": "add", "path": "/extra/answer", "value": 42}])
    assert patched.status_code == 200 and patched.json()["extra"] == {"row": "b", "answer": 42}
    node = create_node(api, chassis_uuid=chassis["uuid"])
    assert node["chassis_uuid"] == chassis["uuid"]
    members = api.get(f"{url}/nodes").json()["nodes"]
    assert [n["uuid"] for n in members] == [node["uuid"]]
    listed = api.get("/v1/nodes", params={"chassis_uuid": chassis["uuid"]}).json()["nodes"]
    assert [n["uuid"] for n in listed] == [node["uuid"]]
    held = api.delete(url)
    assert held.status_code == 400 and "contains nodes" in fault(held)
    moved = api.patch(f"/v1/nodes/{node['uuid']}", json=[{"op": "remove", "path": "/chassis_uuid"}])
    assert moved.status_code == 200 and moved.json()["chassis_uuid"] is None
    assert api.delete(url).status_code == 204
    assert api.get(url).status_code == 404
    assert api.delete(url).status_code == 404


def test_chassis_listing_fields_and_refusals(api: LiveAPI) -> None:
    made = [_created(api, "/v1/chassis", {"description": f"c{i}"}) for i in range(3)]
    page = api.get("/v1/chassis", params={"limit": 2}).json()
    assert len(page["chassis"]) == 2 and "next" in page
    assert set(page["chassis"][0]) == {"uuid", "description", "links"}
    detail = api.get("/v1/chassis/detail").json()["chassis"]
    assert {"extra", "nodes", "created_at"} <= set(detail[0])
    only = api.get("/v1/chassis", params={"fields": "uuid,extra"}).json()["chassis"]
    assert all(set(c) == {"uuid", "extra", "links"} for c in only)
    mine = {c["uuid"] for c in made}
    desc = api.get("/v1/chassis", params={"sort_key": "created_at", "sort_dir": "desc"})
    assert mine <= {c["uuid"] for c in desc.json()["chassis"]}
    assert api.post("/v1/chassis", json={"bogus": 1}).status_code == 400
    assert api.post("/v1/chassis", json={"description": "x" * 256}).status_code == 400
    again = api.post("/v1/chassis", json={"uuid": made[0]["uuid"]})
    assert again.status_code == 409
    missing = api.post(
        "/v1/nodes", json={"driver": "fake-hardware", "chassis_uuid": str(uuid.uuid4())}
    )
    assert missing.status_code == 400 and "Chassis" in fault(missing)
    read_only = api.patch(
        f"/v1/chassis/{made[0]['uuid']}", json=[{"op": "replace", "path": "/uuid", "value": "x"}]
    )
    assert read_only.status_code == 400


# -- volume connectors and targets ---------------------------------------------------------------
def test_volume_connectors_follow_ironics_rules(api: LiveAPI) -> None:
    node = create_node(api)
    iqn = f"iqn.2017-07.org.openstack:01:{uuid.uuid4().hex[:12]}"
    body = {"node_uuid": node["name"], "type": "iqn", "connector_id": iqn}
    assert api.post("/v1/volume/connectors", json=body, headers=_at(31)).status_code == 404
    connector = _created(api, "/v1/volume/connectors", body)
    assert connector["node_uuid"] == node["uuid"]
    assert api.post("/v1/volume/connectors", json=body).status_code == 409
    bad = api.post("/v1/volume/connectors", json={**body, "type": "floppy"})
    assert bad.status_code == 400 and "type" in fault(bad)
    nowhere = api.post("/v1/volume/connectors", json={**body, "node_uuid": str(uuid.uuid4())})
    assert nowhere.status_code == 400
    url = f"/v1/volume/connectors/{connector['uuid']}"
    on = api.patch(url, json=[{"op": "add", "path": "/extra/x", "value": 1}])
    assert on.status_code == 400 and "powered off" in fault(on)  # the node's power is unknown
    assert api.delete(url).status_code == 400
    listed = api.get(f"/v1/nodes/{node['uuid']}/volume/connectors").json()["connectors"]
    assert [c["uuid"] for c in listed] == [connector["uuid"]]
    filtered = api.get("/v1/volume/connectors", params={"node": node["uuid"]}).json()
    assert [c["uuid"] for c in filtered["connectors"]] == [connector["uuid"]]
    with_fields = api.get(url, params={"fields": "uuid,extra"}).json()
    assert set(with_fields) == {"uuid", "extra", "links"}


def test_volume_targets_move_between_powered_off_nodes(api: LiveAPI) -> None:
    first, second = _powered_off(api), _powered_off(api)
    body = {
        "node_uuid": first["uuid"],
        "volume_type": "iscsi",
        "boot_index": 0,
        "volume_id": str(uuid.uuid4()),
        "properties": {"auth_password": "s3cret"},
    }
    target = _created(api, "/v1/volume/targets", body)
    assert target["properties"] == {"auth_password": "******"}
    clash = api.post("/v1/volume/targets", json={**body, "volume_id": str(uuid.uuid4())})
    assert clash.status_code == 409  # boot_index 0 is taken on this node
    url = f"/v1/volume/targets/{target['uuid']}"
    moved = api.patch(url, json=[{"op": "replace", "path": "/node_uuid", "value": second["uuid"]}])
    assert moved.status_code == 200, moved.text
    assert moved.json()["node_uuid"] == second["uuid"]
    assert (
        api.get(f"/v1/nodes/{second['uuid']}/volume/targets").json()["targets"][0]["uuid"]
        == target["uuid"]
    )
    root = api.get(f"/v1/nodes/{second['uuid']}/volume").json()
    assert {"connectors", "targets", "links"} <= set(root)
    assert api.get("/v1/volume").status_code == 200
    assert api.delete(url).status_code == 204
    assert api.get(url).status_code == 404


# -- port groups -----------------------------------------------------------------------------
def test_portgroups_as_nova_lists_them_and_ports_join_them(api: LiveAPI) -> None:
    node = create_node(api)
    mac = random_mac()
    name = f"bond-{uuid.uuid4().hex[:6]}"
    group = _created(
        api, "/v1/portgroups", {"node_uuid": node["name"], "address": mac, "name": name}
    )
    assert group["node_uuid"] == node["uuid"] and group["mode"] == "active-backup"
    assert group["standalone_ports_supported"] is True
    assert api.get(f"/v1/portgroups/{name}").json()["uuid"] == group["uuid"]  # by name
    detail = api.get(f"/v1/nodes/{node['uuid']}/portgroups/detail").json()["portgroups"]
    assert [g["uuid"] for g in detail] == [group["uuid"]] and "mode" in detail[0]
    summary = api.get("/v1/portgroups", params={"address": mac.upper()}).json()["portgroups"]
    assert summary == [
        {"uuid": group["uuid"], "address": mac, "name": name, "links": group["links"]}
    ]
    port = api.post(
        "/v1/ports",
        json={"node_uuid": node["uuid"], "address": random_mac(), "portgroup_uuid": name},
    )
    assert port.status_code == 201 and port.json()["portgroup_uuid"] == group["uuid"]
    members = api.get(f"/v1/portgroups/{group['uuid']}/ports").json()["ports"]
    assert [p["uuid"] for p in members] == [port.json()["uuid"]]
    by_filter = api.get("/v1/ports", params={"portgroup": name, "detail": "true"}).json()
    assert [p["portgroup_uuid"] for p in by_filter["ports"]] == [group["uuid"]]
    full = api.delete(f"/v1/portgroups/{group['uuid']}")
    assert full.status_code == 400 and "has ports" in fault(full)
    left = api.patch(
        f"/v1/ports/{port.json()['uuid']}", json=[{"op": "remove", "path": "/portgroup_uuid"}]
    )
    assert left.status_code == 200 and left.json()["portgroup_uuid"] is None
    assert api.delete(f"/v1/portgroups/{group['uuid']}").status_code == 204


def test_portgroup_refusals(api: LiveAPI) -> None:
    node, other = create_node(api), create_node(api)
    mac = random_mac()
    group = _created(api, "/v1/portgroups", {"node_uuid": node["uuid"], "address": mac})
    assert (
        api.post("/v1/portgroups", json={"node_uuid": node["uuid"], "address": mac}).status_code
        == 409
    )
    assert api.post("/v1/portgroups", json={"address": random_mac()}).status_code == 400
    assert (
        api.post("/v1/portgroups", json={"node_uuid": node["uuid"], "name": "a b"}).status_code
        == 400
    )
    assert api.get("/v1/portgroups", headers=_at(22)).status_code == 404
    foreign = api.post(
        "/v1/ports",
        json={"node_uuid": other["uuid"], "address": random_mac(), "portgroup_uuid": group["uuid"]},
    )
    assert foreign.status_code == 400 and "another node" in fault(foreign)
    node_db.reserve(node["uuid"], "someone@else")
    try:
        locked = api.patch(
            f"/v1/portgroups/{group['uuid']}", json=[{"op": "add", "path": "/extra/a", "value": 1}]
        )
        assert locked.status_code == 409
    finally:
        node_db.release(node["uuid"], "someone@else")
    patched = api.patch(
        f"/v1/portgroups/{group['uuid']}", json=[{"op": "add", "path": "/extra/a", "value": 1}]
    )
    assert patched.status_code == 200 and patched.json()["extra"] == {"a": 1}


# -- deploy templates ----------------------------------------------------------------------------
STEP = {
    "interface": "bios",
    "step": "apply_configuration",
    "args": {"settings": [{"name": "LogicalProc", "value": "Enabled"}]},
    "priority": 150,
}


def test_deploy_templates_by_trait_name(api: LiveAPI) -> None:
    name = f"CUSTOM_TEMPLATE_{uuid.uuid4().hex[:8].upper()}"
    template = _created(api, "/v1/deploy_templates", {"name": name, "steps": [STEP]})
    assert template["steps"] == [STEP]
    assert api.get(f"/v1/deploy_templates/{name}").json()["uuid"] == template["uuid"]
    assert api.post("/v1/deploy_templates", json={"name": name, "steps": [STEP]}).status_code == 409
    listed = api.get("/v1/deploy_templates", params={"fields": "uuid"}).json()["deploy_templates"]
    assert template["uuid"] in {t["uuid"] for t in listed}
    patched = api.patch(
        f"/v1/deploy_templates/{template['uuid']}",
        json=[{"op": "replace", "path": "/steps/0/priority", "value": 10}],
    )
    assert patched.status_code == 200 and patched.json()["steps"][0]["priority"] == 10
    assert api.get("/v1/deploy_templates", headers=_at(54)).status_code == 404
    assert api.delete(f"/v1/deploy_templates/{name}").status_code == 204


@pytest.mark.parametrize(
    "body",
    [
        {"name": "not-a-trait", "steps": [STEP]},
        {"name": "CUSTOM_X", "steps": []},
        {"name": "CUSTOM_X", "steps": [STEP, STEP]},
        {"name": "CUSTOM_X", "steps": [{**STEP, "interface": "floppy"}]},
        {"name": "CUSTOM_X", "steps": [{**STEP, "priority": -1}]},
        {"name": "CUSTOM_X", "steps": [{**STEP, "bogus": 1}]},
        {"name": "CUSTOM_X"},
    ],
)
def test_a_bad_deploy_template_is_a_400(api: LiveAPI, body: dict[str, Any]) -> None:
    response = api.post("/v1/deploy_templates", json=body)
    assert response.status_code == 400, response.text
    assert fault(response)
