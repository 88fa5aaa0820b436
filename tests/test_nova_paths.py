"""The calls Nova's ironic driver makes, against a live API and real conductors: node traits
(scheduling) and VIF attach/detach (plugging an instance's Neutron ports)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from app.db import nodes as node_db
from tests.helpers import LATEST, create_node, fault, random_mac
from tests.services import LiveAPI

pytestmark = pytest.mark.usefixtures("system")


def _at(minor: int) -> dict[str, str]:
    return {"X-OpenStack-Ironic-API-Version": f"1.{minor}"}


def _port(api: LiveAPI, node: dict[str, Any], **fields: Any) -> dict[str, Any]:
    body = {"node_uuid": node["uuid"], "address": random_mac(), **fields}
    response = api.post("/v1/ports", json=body, headers=LATEST)
    assert response.status_code == 201, response.text
    return dict(response.json())


# -- traits ------------------------------------------------------------------------------------
def test_traits_are_set_added_listed_and_removed(api: LiveAPI) -> None:
    owner = f"project-{uuid.uuid4().hex[:8]}"
    node = create_node(api, owner=owner)
    url = f"/v1/nodes/{node['uuid']}/traits"
    assert api.put(url, json={"traits": ["CUSTOM_GOLD", "HW_CPU_X86_AVX2"]}).status_code == 204
    assert api.put(f"{url}/CUSTOM_RAID").status_code == 204
    assert api.put(f"{url}/CUSTOM_RAID").status_code == 204  # already there: no change
    listed = api.get(url).json()["traits"]
    assert listed == ["CUSTOM_GOLD", "CUSTOM_RAID", "HW_CPU_X86_AVX2"]
    shown = api.get(f"/v1/nodes/{node['uuid']}").json()["traits"]
    assert shown == listed
    detail = api.get("/v1/nodes/detail", params={"owner": owner}).json()["nodes"]
    assert [n["traits"] for n in detail] == [listed]
    fields = api.get("/v1/nodes", params={"owner": owner, "fields": "uuid,traits"}).json()
    assert [n["traits"] for n in fields["nodes"]] == [listed]
    assert api.delete(f"{url}/CUSTOM_GOLD").status_code == 204
    missing = api.delete(f"{url}/CUSTOM_GOLD")
    assert missing.status_code == 404 and "CUSTOM_GOLD" in fault(missing)
    assert api.delete(url).status_code == 204
    assert api.get(url).json()["traits"] == []


@pytest.mark.parametrize(
    "trait", ["custom_lower", "CUSTOM_", "NOT_A_TRAIT", "CUSTOM_" + "X" * 250, "CUSTOM_A-B"]
)
def test_a_bad_trait_is_a_400(api: LiveAPI, trait: str) -> None:
    node = create_node(api)
    url = f"/v1/nodes/{node['uuid']}/traits"
    assert api.put(url, json={"traits": [trait]}).status_code == 400
    assert api.put(f"{url}/{trait}").status_code == 400
    assert api.get(url).json()["traits"] == []


def test_traits_are_limited_gated_and_wait_for_the_lock(api: LiveAPI) -> None:
    node = create_node(api)
    url = f"/v1/nodes/{node['uuid']}/traits"
    many = {"traits": [f"CUSTOM_T{i}" for i in range(51)]}
    too_many = api.put(url, json=many)
    assert too_many.status_code == 400 and "50" in fault(too_many)
    assert api.put(url, json={"traits": "CUSTOM_X"}).status_code == 400
    assert api.get(url, headers=_at(36)).status_code == 404
    assert "traits" not in api.get(f"/v1/nodes/{node['uuid']}", headers=_at(36)).json()
    node_db.reserve(node["uuid"], "someone@else")
    try:
        locked = api.put(f"{url}/CUSTOM_X")
        assert locked.status_code == 409 and "someone@else" in fault(locked)
    finally:
        node_db.release(node["uuid"], "someone@else")
    assert api.get(url).json()["traits"] == []


# -- VIFs --------------------------------------------------------------------------------------
def test_vifs_attach_to_free_ports_pxe_first_and_detach(api: LiveAPI) -> None:
    node = create_node(api)
    other = _port(api, node, pxe_enabled=False)
    pxe = _port(api, node, pxe_enabled=True)
    url = f"/v1/nodes/{node['uuid']}/vifs"
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    assert api.post(url, json={"id": first}).status_code == 204
    carried = api.get(f"/v1/ports/{pxe['uuid']}").json()["internal_info"]
    assert carried["tenant_vif_port_id"] == first  # the PXE-enabled port first
    again = api.post(url, json={"id": first})
    assert again.status_code == 409 and pxe["uuid"] in fault(again)
    assert api.post(url, json={"id": second}).status_code == 204
    assert api.get(url).json() == {"vifs": [{"id": second}, {"id": first}]}  # port order
    full = api.post(url, json={"id": str(uuid.uuid4())})
    assert full.status_code == 400 and "free physical ports" in fault(full)
    assert api.delete(f"{url}/{first}").status_code == 204
    gone = api.delete(f"{url}/{first}")
    assert gone.status_code == 400 and "not attached" in fault(gone)
    assert api.get(url).json() == {"vifs": [{"id": second}]}
    assert "tenant_vif_port_id" not in api.get(f"/v1/ports/{pxe['uuid']}").json()["internal_info"]
    assert api.get(f"/v1/ports/{other['uuid']}").json()["internal_info"] == {
        "tenant_vif_port_id": second
    }


def test_vif_on_a_chosen_port_and_the_refusals(api: LiveAPI) -> None:
    node = create_node(api)
    _port(api, node)
    chosen = _port(api, node, pxe_enabled=False)
    url = f"/v1/nodes/{node['uuid']}/vifs"
    vif = str(uuid.uuid4())
    early = api.post(url, json={"id": vif, "port_uuid": chosen["uuid"]}, headers=_at(66))
    assert early.status_code == 406
    done = api.post(url, json={"id": vif, "port_uuid": chosen["uuid"]})
    assert done.status_code == 204
    taken = api.post(url, json={"id": str(uuid.uuid4()), "port_uuid": chosen["uuid"]})
    assert taken.status_code == 409
    stranger = _port(api, create_node(api))
    foreign = api.post(url, json={"id": str(uuid.uuid4()), "port_uuid": stranger["uuid"]})
    assert foreign.status_code == 400
    assert api.post(url, json={}).status_code == 400
    assert api.post(url, json={"id": "x", "bogus": 1}).status_code == 400
    assert api.get(url, headers=_at(27)).status_code == 404
    node_db.reserve(node["uuid"], "someone@else")
    try:
        locked = api.delete(f"{url}/{vif}")
        assert locked.status_code == 409
    finally:
        node_db.release(node["uuid"], "someone@else")
    assert api.get(url).json() == {"vifs": [{"id": vif}]}


def test_the_noop_network_interface_accepts_vifs_and_lists_none(api: LiveAPI) -> None:
    node = create_node(api, network_interface="noop")
    _port(api, node)
    url = f"/v1/nodes/{node['uuid']}/vifs"
    vif = str(uuid.uuid4())
    assert api.post(url, json={"id": vif}).status_code == 204
    assert api.get(url).json() == {"vifs": []}
    assert api.delete(f"{url}/{vif}").status_code == 204
    missing = f"/v1/nodes/{uuid.uuid4()}/vifs"
    assert api.post(missing, json={"id": vif}).status_code == 404
    assert api.get(missing).status_code == 404
