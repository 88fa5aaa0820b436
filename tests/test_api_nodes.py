"""Node reads and updates: lookup by name, fields, sorting, pagination, JSON Patch."""

from __future__ import annotations

import uuid as uuidlib

from tests.helpers import LATEST, create_node, fault
from tests.services import NO_VERSION, LiveAPI


def _patch(api: LiveAPI, ident: str, ops: object) -> object:
    return api.request("PATCH", f"/v1/nodes/{ident}", json=ops, headers=LATEST)


def test_lookup_by_name_and_uuid(system: dict[str, object], api: LiveAPI) -> None:
    node = create_node(api)
    by_name = api.get(f"/v1/nodes/{node['name']}").json()
    by_uuid = api.get(f"/v1/nodes/{node['uuid']}").json()
    assert by_name["uuid"] == by_uuid["uuid"] == node["uuid"]


def test_old_microversion_creates_available_nodes(system: dict[str, object], api: LiveAPI) -> None:
    response = api.post("/v1/nodes", json={"driver": "fake-hardware"}, headers=NO_VERSION)
    assert response.status_code == 201
    assert response.json()["provision_state"] == "available"  # Ironic's rule below 1.11
    assert "name" not in response.json()  # a 1.5 field


def test_patch_extra_add_replace_remove(system: dict[str, object], api: LiveAPI) -> None:
    node = create_node(api, extra={"keep": 1})
    ident = node["uuid"]
    r = _patch(api, ident, [{"op": "add", "path": "/extra/rack", "value": "r1"}])
    assert r.status_code == 200 and r.json()["extra"] == {"keep": 1, "rack": "r1"}
    r = _patch(
        api,
        ident,
        [
            {"op": "replace", "path": "/extra/rack", "value": "r2"},
            {"op": "replace", "path": "/description", "value": "db host"},
        ],
    )
    assert r.json()["extra"]["rack"] == "r2" and r.json()["description"] == "db host"
    r = _patch(api, ident, [{"op": "remove", "path": "/extra/rack"}])
    assert r.json()["extra"] == {"keep": 1}
    new_name = f"renamed-{uuidlib.uuid4().hex[:6]}"
    r = _patch(api, ident, [{"op": "replace", "path": "/name", "value": new_name}])
    assert api.get(f"/v1/nodes/{new_name}").json()["uuid"] == ident


def test_patch_secrets_stay_secret(system: dict[str, object], api: LiveAPI) -> None:
    node = create_node(api, driver_info={"ipmi_password": "s3cret"})
    r = _patch(
        api, node["uuid"], [{"op": "add", "path": "/driver_info/ipmi_address", "value": "10.0.0.1"}]
    )
    assert r.json()["driver_info"] == {"ipmi_password": "******", "ipmi_address": "10.0.0.1"}


def test_patch_refusals(system: dict[str, object], api: LiveAPI) -> None:
    node = create_node(api)
    ident = node["uuid"]
    for ops in (
        [{"op": "replace", "path": "/provision_state", "value": "active"}],
        [{"op": "replace", "path": "/uuid", "value": str(uuidlib.uuid4())}],
        [{"op": "replace", "path": "/reservation", "value": "me"}],
        [{"op": "remove", "path": "/extra/missing"}],
        [{"op": "jump", "path": "/extra"}],
        [{"op": "replace", "path": "/driver_info", "value": "not an object"}],
        [{"op": "replace", "path": "/driver", "value": "no-such-driver"}],
        {"op": "add"},
        [],
        "garbage",
    ):
        r = _patch(api, ident, ops)
        assert r.status_code == 400, (ops, r.text)
        assert fault(r)
    assert api.get(f"/v1/nodes/{ident}").json()["provision_state"] == node["provision_state"]


def test_fields_selects_fields(system: dict[str, object], api: LiveAPI) -> None:
    node = create_node(api)
    shown = api.get(
        f"/v1/nodes/{node['uuid']}", params={"fields": "uuid,power_state"}, headers=LATEST
    ).json()
    assert set(shown) == {"uuid", "power_state", "links"}
    listed = api.get(
        "/v1/nodes", params={"fields": "uuid,driver", "limit": 2}, headers=LATEST
    ).json()["nodes"]
    assert all(set(n) == {"uuid", "driver", "links"} for n in listed)
    bad = api.get("/v1/nodes", params={"fields": "uuid,bogus"}, headers=LATEST)
    assert bad.status_code == 400 and "bogus" in fault(bad)
    # computed and masked fields take the full path; plain ones come from their columns only
    params = {
        "fields": "uuid,conductor,driver_info",
        "driver": "fake-hardware",
        "sort_key": "created_at",
        "sort_dir": "desc",
        "limit": 50,
    }
    computed = api.get("/v1/nodes", params=params, headers=LATEST).json()["nodes"]
    assert computed and all(
        set(n) == {"uuid", "conductor", "driver_info", "links"} for n in computed
    )
    # (other tests' nodes may sit in groups no live conductor serves: conductor None)
    mine = next(n for n in computed if n["uuid"] == node["uuid"])
    assert str(mine["conductor"]).endswith("@test")
    group = f"fields-{uuidlib.uuid4().hex[:6]}"
    alone = create_node(api, conductor_group=group)
    params = {"fields": "name,provision_state", "conductor_group": group}
    plain = api.get("/v1/nodes", params=params, headers=LATEST).json()["nodes"]
    assert plain == [{"name": alone["name"], "provision_state": "enroll", "links": alone["links"]}]


def test_pagination_and_sorting(system: dict[str, object], api: LiveAPI) -> None:
    group = f"page-{uuidlib.uuid4().hex[:6]}"
    created = [create_node(api, conductor_group=group) for _ in range(5)]
    seen: list[str] = []
    url = f"/v1/nodes?conductor_group={group}&limit=2"
    while url:
        body = api.get(url, headers=LATEST).json()
        seen += [n["uuid"] for n in body["nodes"]]
        url = body.get("next", "").replace(api.url, "")
    assert seen == [n["uuid"] for n in created]
    by_name = api.get(
        "/v1/nodes/detail",
        params={"conductor_group": group, "sort_key": "name", "sort_dir": "desc"},
        headers=LATEST,
    ).json()["nodes"]
    names = [n["name"] for n in by_name]
    assert names == sorted(names, reverse=True)
    page = api.get(
        "/v1/nodes",
        params={
            "conductor_group": group,
            "sort_key": "name",
            "sort_dir": "desc",
            "limit": 2,
            "marker": by_name[1]["uuid"],
        },
        headers=LATEST,
    ).json()["nodes"]
    assert [n["name"] for n in page] == names[2:4]
    assert (
        api.get("/v1/nodes", params={"sort_key": "driver_info"}, headers=LATEST).status_code == 400
    )
    assert api.get("/v1/nodes", params={"sort_dir": "sideways"}, headers=LATEST).status_code == 400
    assert (
        api.get("/v1/nodes", params={"marker": str(uuidlib.uuid4())}, headers=LATEST).status_code
        == 400
    )
    assert api.get("/v1/nodes", params={"limit": "x"}, headers=LATEST).status_code == 400


def test_filters(system: dict[str, object], api: LiveAPI) -> None:
    group = f"filter-{uuidlib.uuid4().hex[:6]}"
    plain = create_node(api, conductor_group=group, resource_class="small")
    other = create_node(
        api, conductor_group=group, resource_class="large", instance_uuid=str(uuidlib.uuid4())
    )

    def uuids(**params: str) -> set[str]:
        body = api.get(
            "/v1/nodes", params={"conductor_group": group, **params}, headers=LATEST
        ).json()
        return {n["uuid"] for n in body["nodes"]}

    assert uuids() == {plain["uuid"], other["uuid"]}
    assert uuids(resource_class="large") == {other["uuid"]}
    assert uuids(associated="true") == {other["uuid"]}
    assert uuids(associated="false") == {plain["uuid"]}
    assert uuids(provision_state="enroll", driver="fake-hardware") == uuids()
    assert uuids(provision_state="active") == set()
