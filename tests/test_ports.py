"""Ports: create with a unique MAC, list by node, update, delete."""

from __future__ import annotations

import random

from tests.helpers import create_node, fault
from tests.services import LiveAPI


def _mac() -> str:
    return "52:54:00:" + ":".join(f"{random.randrange(256):02x}" for _ in range(3))


def test_port_crud(system: dict[str, object], api: LiveAPI) -> None:
    node = create_node(api)
    mac = _mac()
    r = api.post(
        "/v1/ports",
        json={"node_uuid": node["uuid"], "address": mac.upper(), "extra": {"switch": "s1"}},
    )
    assert r.status_code == 201, r.text
    port = r.json()
    assert port["address"] == mac and port["node_uuid"] == node["uuid"]
    assert r.headers["Location"].endswith(f"/v1/ports/{port['uuid']}")
    assert api.get(f"/v1/ports/{port['uuid']}").json()["extra"] == {"switch": "s1"}
    listed = api.get("/v1/ports", params={"node": node["name"]}).json()["ports"]
    assert [p["uuid"] for p in listed] == [port["uuid"]]
    assert set(listed[0]) == {"uuid", "address", "links"}
    detail = api.get(f"/v1/nodes/{node['uuid']}/ports/detail").json()["ports"]
    assert detail[0]["node_uuid"] == node["uuid"]
    assert api.get("/v1/ports", params={"address": mac}).json()["ports"][0]["uuid"] == port["uuid"]
    patched = api.request(
        "PATCH",
        f"/v1/ports/{port['uuid']}",
        json=[{"op": "replace", "path": "/pxe_enabled", "value": False}],
    )
    assert patched.status_code == 200 and patched.json()["pxe_enabled"] is False
    assert api.delete(f"/v1/ports/{port['uuid']}").status_code == 204
    assert api.get(f"/v1/ports/{port['uuid']}").status_code == 404


def test_port_errors(system: dict[str, object], api: LiveAPI) -> None:
    node = create_node(api)
    mac = _mac()
    assert (
        api.post("/v1/ports", json={"node_uuid": node["uuid"], "address": mac}).status_code == 201
    )
    duplicate = api.post("/v1/ports", json={"node_uuid": node["uuid"], "address": mac})
    assert duplicate.status_code == 409 and mac in fault(duplicate)
    for body, status in [
        ({"node_uuid": node["uuid"], "address": "not-a-mac"}, 400),
        ({"address": _mac()}, 400),
        ({"node_uuid": node["uuid"]}, 400),
        ({"node_uuid": "00000000-0000-0000-0000-000000000000", "address": _mac()}, 404),
        ({"node_uuid": node["uuid"], "address": _mac(), "bogus": 1}, 400),
    ]:
        r = api.post("/v1/ports", json=body)
        assert r.status_code == status, (body, r.text)
        assert fault(r)
    assert api.get("/v1/ports", params={"node": "missing-node"}).status_code == 404
