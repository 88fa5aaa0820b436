"""Ironic API parity, correctness first (issue 15): no silent wrong answers.

An unknown query parameter is a 400, ``fields`` may be repeated, the node filters Nova and
the SDK send are honoured, and an instance association is never overwritten.
"""

from __future__ import annotations

import uuid as uuidlib

import pytest

from tests.helpers import LATEST, create_node, fault
from tests.services import LiveAPI


@pytest.mark.parametrize(
    "path",
    [
        "/v1/nodes?instance_uuidd=x",
        "/v1/nodes/detail?no_such_filter=1",
        "/v1/ports?nodee=x",
        "/v1/conductors?x=1",
    ],
)
def test_unknown_query_parameter_is_400(system: dict[str, object], api: LiveAPI, path: str) -> None:
    response = api.get(path, headers=LATEST)
    assert response.status_code == 400, response.text
    assert "unknown query parameter" in fault(response)


def test_unknown_query_parameter_on_one_node_is_400(
    system: dict[str, object], api: LiveAPI
) -> None:
    node = create_node(api)
    assert api.get(f"/v1/nodes/{node['uuid']}?fields=uuid", headers=LATEST).status_code == 200
    response = api.get(f"/v1/nodes/{node['uuid']}?field=uuid", headers=LATEST)
    assert response.status_code == 400 and "field" in fault(response)


def test_repeated_and_comma_separated_fields(system: dict[str, object], api: LiveAPI) -> None:
    node = create_node(api, description="parity")
    one = api.get(
        f"/v1/nodes/{node['uuid']}",
        params=[("fields", "uuid"), ("fields", "name,description")],
        headers=LATEST,
    ).json()
    assert set(one) == {"uuid", "name", "description", "links"}
    listed = api.get(
        "/v1/nodes", params=[("fields", "uuid"), ("fields", "name"), ("limit", "1")]
    ).json()
    assert set(listed["nodes"][0]) == {"uuid", "name", "links"}
    assert "fields=uuid" in listed["next"] and "fields=name" in listed["next"]


def test_instance_uuid_filter_finds_only_that_node(system: dict[str, object], api: LiveAPI) -> None:
    instance = str(uuidlib.uuid4())
    node = create_node(api, instance_uuid=instance)
    create_node(api)
    for spelling in (instance, instance.upper()):
        found = api.get("/v1/nodes", params={"instance_uuid": spelling}).json()["nodes"]
        assert [n["uuid"] for n in found] == [node["uuid"]]
    assert api.get("/v1/nodes", params={"instance_uuid": "nope"}).status_code == 400


def test_description_and_project_filters(system: dict[str, object], api: LiveAPI) -> None:
    tag = uuidlib.uuid4().hex[:8]
    mine = create_node(api, description=f"rack {tag} 50%_done", owner=f"p-{tag}")
    leased = create_node(api, lessee=f"p-{tag}")
    create_node(api, description="other")
    by_text = api.get("/v1/nodes", params={"description_contains": f"{tag} 50%_"}).json()
    assert [n["uuid"] for n in by_text["nodes"]] == [mine["uuid"]]
    by_project = api.get("/v1/nodes", params={"project": f"p-{tag}"}).json()["nodes"]
    assert {n["uuid"] for n in by_project} == {mine["uuid"], leased["uuid"]}
    assert api.get("/v1/nodes", params={"fault": "power failure"}).status_code == 200


def test_instance_association_is_never_overwritten(system: dict[str, object], api: LiveAPI) -> None:
    first, second = str(uuidlib.uuid4()), str(uuidlib.uuid4())
    node = create_node(api, instance_uuid=first)
    path = f"/v1/nodes/{node['uuid']}"

    def patch(value: object, op: str = "replace") -> object:
        ops = [{"op": op, "path": "/instance_uuid", **({} if op == "remove" else {"value": value})}]
        return api.request("PATCH", path, json=ops, headers=LATEST)

    taken = patch(second)
    assert taken.status_code == 409, taken.text
    assert first in fault(taken) and "associated" in fault(taken)
    assert patch(first).status_code == 200  # the same instance again changes nothing
    refused = api.delete(path)
    assert refused.status_code == 409 and "associated" in fault(refused)
    assert patch(None, "remove").status_code == 200
    assert patch(second).status_code == 200
