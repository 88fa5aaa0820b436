"""Hostile input to every kind of write: a 4xx in Ironic's error format, and nothing written.

Each case sends one bad request at a node (or its port) and then reads the node back over
HTTP: the answer must be the expected 4xx with the usual JSON error body, and the node must
be exactly as before (no half-applied patch, no maintenance flag, no pending power action).
"""

from __future__ import annotations

import uuid as uuidlib
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.helpers import LATEST, create_node, fault
from tests.services import LiveAPI

JSON = {"Content-Type": "application/json"}
TWO_MIB = 2 * 1024 * 1024
#: What a write could change on a node: compared before and after every refused request.
WATCHED = (
    "name",
    "driver",
    "driver_info",
    "properties",
    "extra",
    "instance_info",
    "instance_uuid",
    "description",
    "owner",
    "lessee",
    "resource_class",
    "conductor_group",
    "network_interface",
    "maintenance",
    "maintenance_reason",
    "target_power_state",
    "provision_state",
    "target_provision_state",
    "reservation",
    "updated_at",
)


@pytest.fixture
def node(system: dict[str, object], api: LiveAPI) -> Iterator[dict[str, Any]]:
    created = create_node(api, extra={"rack": "r1"}, description="before")
    yield created
    api.delete(f"/v1/nodes/{created['uuid']}")


def watched(api: LiveAPI, ident: str) -> dict[str, Any]:
    body = api.get(f"/v1/nodes/{ident}", headers=LATEST).json()
    return {field: body[field] for field in WATCHED}


def refused(
    api: LiveAPI, node: dict[str, Any], status: int, method: str, path: str, **kwargs: Any
) -> str:
    """Send a request that must be refused with ``status``; assert the node is unchanged."""
    before = watched(api, node["uuid"])
    response = api.request(method, path.format(node=node["uuid"]), **kwargs)
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    message = fault(response)
    assert watched(api, node["uuid"]) == before
    return message


def raw(text: str) -> dict[str, Any]:
    """A body sent byte for byte (escapes such as a lone surrogate kept as written)."""
    return {"data": text.encode(), "headers": JSON}


NODE = "/v1/nodes/{node}"


@pytest.mark.parametrize(
    "method,path",
    [
        ("PATCH", NODE),
        ("PUT", NODE + "/states/power"),
        ("PUT", NODE + "/states/provision"),
        ("PUT", NODE + "/maintenance"),
        ("POST", "/v1/ports"),
    ],
)
@pytest.mark.parametrize(
    "body",
    ['{"target": "power on"', "not json", "{1: 2}", '{"a": NaN}', '{"a": 1e999}', "\xff"],
    ids=["truncated", "garbage", "non-string-key", "nan", "infinity", "not-utf8"],
)
def test_malformed_json_is_400(
    api: LiveAPI, node: dict[str, Any], method: str, path: str, body: str
) -> None:
    data = body.encode("latin-1")
    assert "JSON" in refused(api, node, 400, method, path, data=data, headers=JSON)


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml", None]
)
def test_wrong_content_type_is_415(
    api: LiveAPI, node: dict[str, Any], content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    patch = b'[{"op": "replace", "path": "/description", "value": "after"}]'
    assert "application/json" in refused(api, node, 415, "PATCH", NODE, data=patch, headers=headers)
    power = b'{"target": "power on"}'
    refused(api, node, 415, "PUT", NODE + "/states/power", data=power, headers=headers)
    refused(api, node, 415, "PUT", NODE + "/maintenance", data=b'{"reason": "x"}', headers=headers)
    name = f"typed-{uuidlib.uuid4().hex[:8]}"
    created = api.post(
        "/v1/nodes", data=f'{{"driver": "fake-hardware", "name": "{name}"}}', headers=headers
    )
    assert created.status_code == 415 and fault(created)
    assert api.get(f"/v1/nodes/{name}").status_code == 404


def test_two_mib_body_is_413(api: LiveAPI, node: dict[str, Any]) -> None:
    blob = "x" * TWO_MIB
    patch = [{"op": "add", "path": "/extra/blob", "value": blob}]
    refused(api, node, 413, "PATCH", NODE, json=patch)
    refused(api, node, 413, "PUT", NODE + "/maintenance", json={"reason": blob})
    name = f"huge-{uuidlib.uuid4().hex[:8]}"
    response = api.post("/v1/nodes", json={"driver": "fake-hardware", "name": name, "x": blob})
    assert response.status_code == 413 and fault(response)
    assert api.get(f"/v1/nodes/{name}").status_code == 404


def test_chunked_two_mib_body_is_413_not_cut(api: LiveAPI, node: dict[str, Any]) -> None:
    """Without Content-Length, Werkzeug stops reading at the limit; the API must not parse
    the first MiB as if it were the whole body."""
    chunks = (b"x" * 65536 for _ in range(TWO_MIB // 65536))
    refused(api, node, 413, "PATCH", NODE, data=chunks, headers=JSON)


@pytest.mark.parametrize(
    "method,path,body",
    [
        ("POST", "/v1/nodes", {"driver": "fake-hardware", "uuid": "not-a-uuid"}),
        ("POST", "/v1/nodes", {"driver": "fake-hardware", "uuid": 12}),
        ("PATCH", NODE, [{"op": "replace", "path": "/instance_uuid", "value": "nope"}]),
        ("PATCH", NODE, [{"op": "replace", "path": "/instance_uuid", "value": ["x"]}]),
    ],
    ids=["create-uuid", "create-uuid-int", "instance-uuid", "instance-uuid-list"],
)
def test_bad_uuid_is_400(
    api: LiveAPI, node: dict[str, Any], method: str, path: str, body: Any
) -> None:
    assert "UUID" in refused(api, node, 400, method, path, json=body)


@pytest.mark.parametrize(
    "address",
    ["52:54:00:12:34", "zz:54:00:12:34:56", "52:54:00:12:34:56\n", "52:54:00:12:34:56:78", 525400],
    ids=["short", "not-hex", "trailing-newline", "long", "number"],
)
def test_bad_mac_is_400(api: LiveAPI, node: dict[str, Any], address: Any) -> None:
    body = {"address": address, "node_uuid": node["uuid"]}
    assert "MAC" in refused(api, node, 400, "POST", "/v1/ports", json=body)
    assert api.get(f"/v1/nodes/{node['uuid']}/ports").json()["ports"] == []
    port = api.post("/v1/ports", json={**body, "address": "52:54:00:00:00:aa"}).json()
    patch = [{"op": "replace", "path": "/address", "value": address}]
    response = api.patch(f"/v1/ports/{port['uuid']}", json=patch)
    assert response.status_code == 400 and "MAC" in fault(response)
    assert api.get(f"/v1/ports/{port['uuid']}").json()["address"] == "52:54:00:00:00:aa"
    api.delete(f"/v1/ports/{port['uuid']}")


def test_too_long_values_are_400(api: LiveAPI, node: dict[str, Any]) -> None:
    for field, size in (("name", 256), ("description", 4097), ("owner", 256)):
        patch = [{"op": "replace", "path": f"/{field}", "value": "a" * size}]
        assert field in refused(api, node, 400, "PATCH", NODE, json=patch)
        created = api.post("/v1/nodes", json={"driver": "fake-hardware", field: "a" * size})
        assert created.status_code == 400 and field in fault(created)
    reason = {"reason": "r" * 4097}
    assert "reason" in refused(api, node, 400, "PUT", NODE + "/maintenance", json=reason)


@pytest.mark.parametrize(
    "method,path,body",
    [
        ("PATCH", NODE, '[{"op": "replace", "path": "/description", "value": "a\\u0000b"}]'),
        ("PATCH", NODE, '[{"op": "add", "path": "/extra/k", "value": "\\u0000"}]'),
        ("PATCH", NODE, '[{"op": "add", "path": "/extra/k\\u0000", "value": "v"}]'),
        ("PATCH", NODE, '[{"op": "replace", "path": "/description", "value": "\\ud800"}]'),
        ("PATCH", NODE, '[{"op": "add", "path": "/extra/k", "value": "x\\udfffy"}]'),
        ("PATCH", NODE, '[{"op": "add", "path": "/extra/\\ud83d", "value": "v"}]'),
        ("PUT", NODE + "/maintenance", '{"reason": "a\\u0000b"}'),
        ("PUT", NODE + "/maintenance", '{"reason": "\\ud800"}'),
        ("PUT", NODE + "/states/power", '{"target": "power on\\u0000"}'),
        ("POST", "/v1/ports", '{"address": "52:54:00:00:00:ab", "node_uuid": "\\ud800"}'),
        ("POST", "/v1/nodes", '{"driver": "fake-hardware", "description": "\\u0000"}'),
        ("POST", "/v1/nodes", '{"driver": "fake-hardware", "extra": {"\\ud800": 1}}'),
    ],
    ids=[
        "nul-string",
        "nul-nested",
        "nul-key",
        "surrogate-string",
        "surrogate-nested",
        "surrogate-key",
        "maintenance-nul",
        "maintenance-surrogate",
        "power-nul",
        "port-surrogate",
        "create-nul",
        "create-surrogate-key",
    ],
)
def test_nul_and_lone_surrogates_are_400(
    api: LiveAPI, node: dict[str, Any], method: str, path: str, body: str
) -> None:
    message = refused(api, node, 400, method, path, **raw(body))
    assert "NUL" in message or "surrogate" in message or "power on" in message


def test_nul_in_the_url_is_400(api: LiveAPI, node: dict[str, Any]) -> None:
    refused(api, node, 400, "DELETE", NODE + "%00")
    refused(api, node, 400, "PATCH", NODE + "%00", json=[{"op": "remove", "path": "/extra"}])
    refused(api, node, 400, "GET", "/v1/nodes?name=%00")


def test_deep_nesting_is_400(api: LiveAPI, node: dict[str, Any]) -> None:
    for depth in (40, 100_000):
        value = "[" * depth + "]" * depth
        body = f'[{{"op": "add", "path": "/extra/deep", "value": {value}}}]'
        assert "nested" in refused(api, node, 400, "PATCH", NODE, **raw(body))


@pytest.mark.parametrize(
    "op",
    [
        {"op": "replace", "path": "/provision_state", "value": "active"},
        {"op": "replace", "path": "/uuid", "value": str(uuidlib.uuid4())},
        {"op": "add", "path": "/reservation", "value": "someone"},
        {"op": "replace", "path": "/fault", "value": "power failure"},
        {"op": "add", "path": "/driver_internal_info/x", "value": 1},
        {"op": "copy", "from": "/reservation", "path": "/extra/r"},
        {"op": "move", "from": "/provision_state", "path": "/description"},
    ],
    ids=[
        "provision-state",
        "uuid",
        "reservation",
        "fault",
        "internal-info",
        "from-read-only",
        "move-read-only",
    ],
)
def test_patch_of_a_read_only_path_is_400(
    api: LiveAPI, node: dict[str, Any], op: dict[str, Any]
) -> None:
    ops = [{"op": "replace", "path": "/description", "value": "after"}, op]
    assert "cannot be changed" in refused(api, node, 400, "PATCH", NODE, json=ops)


@pytest.mark.parametrize(
    "op",
    [
        {"op": "add", "path": "/bogus", "value": 1},
        {"op": "add", "path": "", "value": {}},
        {"op": "replace", "path": "description", "value": "no slash"},
        {"op": "add", "path": "/extra~1x", "value": 1},
        {"op": "replace", "path": 7, "value": 1},
        {"op": "remove"},
        {"op": "rename", "path": "/extra"},
    ],
    ids=["unknown-field", "whole-doc", "no-slash", "escaped-slash", "not-string", "no-path", "op"],
)
def test_patch_of_an_unknown_path_is_400(
    api: LiveAPI, node: dict[str, Any], op: dict[str, Any]
) -> None:
    ops = [{"op": "replace", "path": "/description", "value": "after"}, op]
    refused(api, node, 400, "PATCH", NODE, json=ops)


def test_half_valid_patch_writes_nothing(api: LiveAPI, node: dict[str, Any]) -> None:
    ops = [
        {"op": "add", "path": "/extra/new", "value": 1},
        {"op": "replace", "path": "/name", "value": "bad name!"},
    ]
    refused(api, node, 400, "PATCH", NODE, json=ops)
    ops[1] = {"op": "test", "path": "/description", "value": "not what it is"}
    refused(api, node, 400, "PATCH", NODE, json=ops)


@pytest.mark.parametrize("timeout", [True, 0, -5, "10", 1.5])
def test_power_timeout_must_be_a_positive_integer(
    api: LiveAPI, node: dict[str, Any], timeout: Any
) -> None:
    body = {"target": "power on", "timeout": timeout}
    assert "timeout" in refused(api, node, 400, "PUT", NODE + "/states/power", json=body)


@pytest.mark.parametrize("body", [["reason"], "reason", 7])
def test_maintenance_body_must_be_an_object(api: LiveAPI, node: dict[str, Any], body: Any) -> None:
    refused(api, node, 400, "PUT", NODE + "/maintenance", json=body)


def test_valid_writes_still_work(api: LiveAPI, node: dict[str, Any]) -> None:
    """The checks refuse only what is wrong: charset parameters, empty maintenance bodies
    and non-ASCII text pass."""
    ops = b'[{"op": "replace", "path": "/description", "value": "caf\\u00e9 \\ud83d\\ude80"}]'
    response = api.patch(
        f"/v1/nodes/{node['uuid']}",
        data=ops,
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["description"] == "café 🚀"
    response = requests.put(f"{api.url}/v1/nodes/{node['uuid']}/maintenance", timeout=10)
    assert response.status_code == 202
    assert watched(api, node["uuid"])["maintenance"] is True
