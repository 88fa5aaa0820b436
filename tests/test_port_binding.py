"""The node's network interface binds its ports while an instance is deployed."""

from __future__ import annotations

import uuid

from tests.helpers import LATEST, create_node, provision
from tests.services import LiveAPI


def _mac() -> str:
    raw = uuid.uuid4().hex[:10]
    return "52:54:01:" + ":".join(raw[i : i + 2] for i in (0, 2, 4))


def _port(api: LiveAPI, node: str) -> dict[str, object]:
    body = {"node_uuid": node, "address": _mac()}
    response = api.post("/v1/ports", json=body, headers=LATEST)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _internal_info(api: LiveAPI, port: object) -> dict[str, object]:
    return dict(api.get(f"/v1/ports/{port}", headers=LATEST).json()["internal_info"])


def test_flat_binds_on_deploy_and_unbinds_on_undeploy(system: dict[str, object]) -> None:
    api = system["api"]
    assert isinstance(api, LiveAPI)
    node = create_node(api, network_interface="flat")
    assert node["network_interface"] == "flat"
    port = _port(api, str(node["uuid"]))
    provision(api, node["uuid"], "manage", "manageable")
    provision(api, node["uuid"], "provide", "available")
    assert _internal_info(api, port["uuid"]) == {}
    provision(api, node["uuid"], "active", "active")
    binding = _internal_info(api, port["uuid"])["binding"]
    assert isinstance(binding, dict)
    assert binding["network_interface"] == "flat" and binding["mac_address"] == port["address"]
    assert str(binding["conductor"]).endswith("@test")
    provision(api, node["uuid"], "deleted", "available")
    assert "binding" not in _internal_info(api, port["uuid"])


def test_noop_binds_nothing(system: dict[str, object]) -> None:
    api = system["api"]
    assert isinstance(api, LiveAPI)
    node = create_node(api, network_interface="noop")
    port = _port(api, str(node["uuid"]))
    provision(api, node["uuid"], "manage", "manageable")
    provision(api, node["uuid"], "provide", "available")
    provision(api, node["uuid"], "active", "active")
    assert _internal_info(api, port["uuid"]) == {}


def test_default_network_interface_is_the_first_enabled(system: dict[str, object]) -> None:
    api = system["api"]
    assert isinstance(api, LiveAPI)
    assert create_node(api)["network_interface"] == "flat"
    bad = api.post(
        "/v1/nodes",
        json={"driver": "fake-hardware", "network_interface": "neutron"},
        headers=LATEST,
    )
    assert bad.status_code == 400 and "neutron" in bad.text
