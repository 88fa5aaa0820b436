"""The whole node model: every interface, protection, retirement, flags, version gates.

What Metal3 and Bifrost send on enrolment (every ``*_interface``, ``automated_clean``...),
checked against Ironic's rules, against a live API and real conductors.
"""

from __future__ import annotations

from typing import Any

import pytest

from app.db import nodes as node_db
from tests.helpers import LATEST, create_node, fault, provision, wait_provision
from tests.services import LiveAPI

pytestmark = pytest.mark.usefixtures("system")

FAKE_DEFAULTS = {
    f"{kind}_interface": "fake"
    for kind in ("bios", "boot", "console", "deploy", "inspect", "management", "power")
} | {"raid_interface": "fake", "rescue_interface": "fake", "vendor_interface": "fake"}


def _at(minor: int) -> dict[str, str]:
    return {"X-OpenStack-Ironic-API-Version": f"1.{minor}"}


def _patch(api: LiveAPI, ident: str, *ops: dict[str, Any], **kw: Any) -> Any:
    return api.patch(f"/v1/nodes/{ident}", json=list(ops), headers=kw.pop("headers", LATEST), **kw)


def _replace(path: str, value: Any) -> dict[str, Any]:
    return {"op": "replace", "path": path, "value": value}


def _active(api: LiveAPI, **fields: Any) -> dict[str, Any]:
    node = create_node(api, **fields)
    provision(api, node["uuid"], "manage", "manageable")
    provision(api, node["uuid"], "provide", "available")
    return provision(api, node["uuid"], "active", "active")


def test_every_interface_on_enrolment_as_metal3_sends_them(api: LiveAPI) -> None:
    chosen = {**FAKE_DEFAULTS, "rescue_interface": "no-rescue", "bios_interface": "no-bios"}
    node = create_node(api, **chosen, network_interface="noop", storage_interface="noop")
    for field, value in chosen.items():
        assert node[field] == value, field
    assert node["network_interface"] == "noop"
    shown = api.get(f"/v1/nodes/{node['uuid']}", headers=LATEST).json()
    assert {f: shown[f] for f in chosen} == chosen


def test_defaults_come_from_the_hardware_type(api: LiveAPI) -> None:
    node = create_node(api)
    assert {f: node[f] for f in FAKE_DEFAULTS} == FAKE_DEFAULTS
    ipmi = create_node(api, driver="ipmi", driver_info={"ipmi_address": "127.0.0.1"})
    assert ipmi["power_interface"] == "ipmi" and ipmi["boot_interface"] == "pxe"
    assert ipmi["bios_interface"] == "no-bios" and ipmi["console_interface"] == "no-console"


def test_an_interface_the_hardware_type_lacks_is_a_400_naming_the_choices(api: LiveAPI) -> None:
    response = api.post(
        "/v1/nodes", json={"driver": "fake-hardware", "boot_interface": "pxe"}, headers=LATEST
    )
    assert response.status_code == 400
    assert "'pxe'" in fault(response) and "fake, no-boot" not in fault(response)
    assert "enabled: fake" in fault(response)
    node = create_node(api)
    bad = _patch(api, node["uuid"], _replace("/power_interface", "redfish"))
    assert bad.status_code == 400 and "redfish" in fault(bad)


def test_fields_appear_at_their_microversion_and_are_406_before(api: LiveAPI) -> None:
    node = create_node(api)
    url = f"/v1/nodes/{node['uuid']}"
    gates = {"boot_interface": 31, "bios_interface": 40, "protected": 48, "retired": 61}
    for field, minor in gates.items():
        assert field not in api.get(url, headers=_at(minor - 1)).json(), field
        assert field in api.get(url, headers=_at(minor)).json(), field
        early = api.get(url, params={"fields": field}, headers=_at(minor - 1))
        assert early.status_code == 406, field
    # newer than this API's maximum: never shown, and asking for them is a 406
    latest = api.get(url, headers=LATEST).json()
    assert "firmware_interface" not in latest and "shard" not in latest
    assert api.get(url, params={"fields": "firmware_interface"}, headers=LATEST).status_code == 406
    listed = api.get("/v1/nodes", params={"retired": "true"}, headers=_at(60))
    assert listed.status_code == 406
    written = _patch(api, node["uuid"], _replace("/protected", True), headers=_at(47))
    assert written.status_code == 406
    created = api.post(
        "/v1/nodes", json={"driver": "fake-hardware", "automated_clean": True}, headers=_at(46)
    )
    assert created.status_code == 406


def test_strings_for_booleans_as_ironic_accepts_them(api: LiveAPI) -> None:
    node = create_node(api)
    done = _patch(api, node["uuid"], _replace("/maintenance", "true"))
    assert done.status_code == 200 and done.json()["maintenance"] is True
    done = _patch(api, node["uuid"], _replace("/automated_clean", "off"))
    assert done.status_code == 200 and done.json()["automated_clean"] is False
    bad = _patch(api, node["uuid"], _replace("/automated_clean", "maybe"))
    assert bad.status_code == 400 and "automated_clean" in fault(bad)
    assert _patch(api, node["uuid"], _replace("/retired", None)).status_code == 400


def test_maintenance_off_clears_its_reason(api: LiveAPI) -> None:
    node = create_node(api)
    on = _patch(api, node["uuid"], _replace("/maintenance", True))
    assert on.status_code == 200
    reason = _patch(api, node["uuid"], _replace("/maintenance_reason", "disk swap"))
    assert reason.json()["maintenance_reason"] == "disk swap"
    off = _patch(api, node["uuid"], _replace("/maintenance", False)).json()
    assert off["maintenance"] is False and off["maintenance_reason"] is None


def test_interfaces_change_only_when_nothing_runs_or_in_maintenance(api: LiveAPI) -> None:
    node = _active(api)
    refused = _patch(api, node["uuid"], _replace("/rescue_interface", "no-rescue"))
    assert refused.status_code == 409 and "active" in fault(refused)
    assert _patch(api, node["uuid"], _replace("/maintenance", True)).status_code == 200
    allowed = _patch(api, node["uuid"], _replace("/rescue_interface", "no-rescue"))
    assert allowed.status_code == 200 and allowed.json()["rescue_interface"] == "no-rescue"
    # resource_class of a node in use stays (Nova would not notice)
    rc = _patch(api, node["uuid"], _replace("/resource_class", "gold"))
    assert rc.status_code == 200  # it had none: setting one is allowed
    rc = _patch(api, node["uuid"], _replace("/resource_class", "silver"))
    assert rc.status_code == 409


def test_reset_interfaces_with_a_driver_change(api: LiveAPI) -> None:
    node = create_node(api, rescue_interface="no-rescue")
    url = f"/v1/nodes/{node['uuid']}"
    alone = api.patch(
        url,
        params={"reset_interfaces": "true"},
        json=[_replace("/name", node["name"] + "x")],
        headers=LATEST,
    )
    assert alone.status_code == 400 and "reset_interfaces" in fault(alone)
    to_ipmi = [_replace("/driver", "ipmi")]
    kept = api.patch(url, json=to_ipmi, headers=LATEST)
    assert kept.status_code == 400  # ipmi has no 'fake' power interface for the node
    early = api.patch(url, params={"reset_interfaces": "true"}, json=to_ipmi, headers=_at(44))
    assert early.status_code == 406
    reset = api.patch(url, params={"reset_interfaces": "true"}, json=to_ipmi, headers=LATEST)
    assert reset.status_code == 200, reset.text
    body = reset.json()
    assert body["driver"] == "ipmi" and body["power_interface"] == "ipmi"
    assert body["rescue_interface"] == "no-rescue"  # ipmi's only rescue choice
    assert node_db.get(node["uuid"]).boot_interface == "pxe"  # ipmi's default, stored


def test_protected_nodes_refuse_undeploy_rebuild_and_delete(api: LiveAPI) -> None:
    fresh = create_node(api)
    early = _patch(api, fresh["uuid"], _replace("/protected", True))
    assert early.status_code == 409 and "protected" in fault(early)
    lonely = _patch(api, fresh["uuid"], _replace("/protected_reason", "why"))
    assert lonely.status_code == 400
    node = _active(api)
    ops = [_replace("/protected", True), _replace("/protected_reason", "tenant data")]
    protected = _patch(api, node["uuid"], *ops)
    assert protected.status_code == 200 and protected.json()["protected_reason"] == "tenant data"
    for verb in ("deleted", "rebuild"):
        refused = api.put(
            f"/v1/nodes/{node['uuid']}/states/provision", json={"target": verb}, headers=LATEST
        )
        assert refused.status_code == 403, verb
        assert "protected" in fault(refused)
    assert api.delete(f"/v1/nodes/{node['uuid']}", headers=LATEST).status_code == 403
    unprotected = _patch(api, node["uuid"], _replace("/protected", False)).json()
    assert unprotected["protected"] is False and unprotected["protected_reason"] is None
    provision(api, node["uuid"], "deleted", "available")


def test_retired_nodes_are_not_provided_and_clean_back_to_manageable(api: LiveAPI) -> None:
    node = create_node(api)
    provision(api, node["uuid"], "manage", "manageable")
    provision(api, node["uuid"], "provide", "available")
    refused = _patch(api, node["uuid"], _replace("/retired", True))
    assert refused.status_code == 409 and "available" in fault(refused)
    provision(api, node["uuid"], "active", "active")
    ops = [_replace("/retired", "True"), _replace("/retired_reason", "end of life")]
    retired = _patch(api, node["uuid"], *ops).json()
    assert retired["retired"] is True and retired["retired_reason"] == "end of life"
    listed = api.get("/v1/nodes", params={"retired": "true", "fields": "uuid"}, headers=LATEST)
    assert node["uuid"] in {n["uuid"] for n in listed.json()["nodes"]}
    others = api.get("/v1/nodes", params={"retired": "false", "fields": "uuid"}, headers=LATEST)
    assert node["uuid"] not in {n["uuid"] for n in others.json()["nodes"]}
    # undeploy cleans, and a retired node ends manageable, not available
    provision(api, node["uuid"], "deleted", "manageable")
    provide = api.put(
        f"/v1/nodes/{node['uuid']}/states/provision", json={"target": "provide"}, headers=LATEST
    )
    assert provide.status_code == 400 and "retired" in fault(provide)


def test_the_conductor_uses_the_interface_the_node_chose(api: LiveAPI) -> None:
    node = create_node(api, inspect_interface="no-inspect")
    provision(api, node["uuid"], "manage", "manageable")
    api.put(
        f"/v1/nodes/{node['uuid']}/states/provision", json={"target": "inspect"}, headers=LATEST
    )
    failed = wait_provision(api, node["uuid"], "inspect failed")
    assert "inspect" in failed["last_error"]
    validation = api.get(f"/v1/nodes/{node['uuid']}/validate", headers=LATEST).json()
    assert validation["inspect"] == {"result": None, "reason": "not supported"}
    assert validation["power"]["result"] is True


def test_chassis_must_exist(api: LiveAPI) -> None:
    response = api.post(
        "/v1/nodes",
        json={"driver": "fake-hardware", "chassis_uuid": "1be26c0b-03f2-4d2e-ae87-c02d7f33c123"},
        headers=LATEST,
    )
    assert response.status_code == 400 and "Chassis" in fault(response)


def test_every_sortable_column_sorts_and_pages(api: LiveAPI) -> None:
    for _ in range(3):
        create_node(api)
    for key in node_db.SORT_KEYS:
        first = api.get("/v1/nodes", params={"sort_key": key, "limit": 2}, headers=LATEST)
        assert first.status_code == 200, (key, first.text)
        page = first.json()
        assert "next" in page, key
        following = api.get(page["next"].removeprefix(api.url), headers=LATEST)
        assert following.status_code == 200, key
        seen = {n["uuid"] for n in page["nodes"]}
        assert not seen & {n["uuid"] for n in following.json()["nodes"]}, key
    refused = api.get("/v1/nodes", params={"sort_key": "driver_info"}, headers=LATEST)
    assert refused.status_code == 400


def test_drivers_list_every_interface_with_its_default(api: LiveAPI) -> None:
    body = api.get("/v1/drivers/fake-hardware", headers=LATEST).json()
    assert body["default_bios_interface"] == "fake"
    assert body["enabled_bios_interfaces"] == ["fake", "no-bios"]
    assert body["default_vendor_interface"] == "fake"
