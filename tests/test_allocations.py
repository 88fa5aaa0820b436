"""Allocations: reserving an available node by resource class, traits and candidates, as
Ironic's allocation process does, through a live API and real conductors."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from typing import Any

import pytest

from app.db import allocations as allocation_db
from app.db import nodes as node_db
from app.db import stores
from app.db.models import utcnow
from tests.helpers import create_node, fault, provision
from tests.services import LiveAPI, wait_for

pytestmark = pytest.mark.usefixtures("system")


def _available(api: LiveAPI, rc: str, *traits: str) -> dict[str, Any]:
    node = create_node(api, resource_class=rc)
    provision(api, node["uuid"], "manage", "manageable")
    if traits:
        assert api.put(f"/v1/nodes/{node['uuid']}/traits", json={"traits": list(traits)}).ok
    return provision(api, node["uuid"], "provide", "available")


def _allocate(api: LiveAPI, **body: Any) -> dict[str, Any]:
    """Create an allocation (recorded ``allocating``) and wait for a conductor to process it."""
    response = api.post("/v1/allocations", json=body)
    assert response.status_code == 201, response.text
    made = response.json()
    assert made["state"] == "allocating" and made["node_uuid"] is None

    def processed() -> dict[str, Any] | None:
        now = api.get(f"/v1/allocations/{made['uuid']}").json()
        return now if now["state"] != "allocating" else None

    return dict(wait_for(processed, 15, f"allocation {made['uuid']} to be processed"))


def test_an_allocation_reserves_a_matching_node_and_frees_it(api: LiveAPI) -> None:
    rc = f"rc-{uuid.uuid4().hex[:8]}"
    plain = _available(api, rc)
    gold = _available(api, rc, "CUSTOM_GOLD")
    made = _allocate(api, resource_class=rc, traits=["CUSTOM_GOLD"], name=f"a-{rc}")
    assert made["state"] == "active" and made["node_uuid"] == gold["uuid"]
    node = api.get(f"/v1/nodes/{gold['uuid']}").json()
    assert node["instance_uuid"] == made["uuid"] and node["allocation_uuid"] == made["uuid"]
    assert api.get(f"/v1/nodes/{gold['uuid']}/allocation").json()["uuid"] == made["uuid"]
    assert api.get(f"/v1/allocations/a-{rc}").json()["uuid"] == made["uuid"]
    listed = api.get("/v1/allocations", params={"resource_class": rc}).json()["allocations"]
    assert [a["uuid"] for a in listed] == [made["uuid"]]
    none_left = _allocate(api, resource_class=rc, traits=["CUSTOM_GOLD"])
    assert none_left["state"] == "error" and "traits" in none_left["last_error"]
    second = _allocate(api, resource_class=rc)
    assert second["node_uuid"] == plain["uuid"]
    third = _allocate(api, resource_class=rc)
    assert third["state"] == "error" and rc in third["last_error"]
    assert api.delete(f"/v1/allocations/{made['uuid']}").status_code == 204
    freed = api.get(f"/v1/nodes/{gold['uuid']}").json()
    assert freed["instance_uuid"] is None and freed["allocation_uuid"] is None
    patched = api.patch(
        f"/v1/nodes/{plain['uuid']}", json=[{"op": "remove", "path": "/instance_uuid"}]
    )
    assert patched.status_code == 200 and patched.json()["allocation_uuid"] is None
    assert api.get(f"/v1/allocations/{second['uuid']}").status_code == 404


def test_candidates_owner_and_refusals(api: LiveAPI) -> None:
    rc = f"rc-{uuid.uuid4().hex[:8]}"
    first, chosen = _available(api, rc), _available(api, rc)
    made = _allocate(api, resource_class=rc, candidate_nodes=[chosen["name"]])
    assert made["node_uuid"] == chosen["uuid"] and made["candidate_nodes"] == [chosen["uuid"]]
    nobody = _allocate(api, resource_class=rc, owner="nobody-owns-these")
    assert nobody["state"] == "error"
    missing = api.post("/v1/allocations", json={"resource_class": rc, "candidate_nodes": ["no"]})
    assert missing.status_code == 400 and "Candidate" in fault(missing)
    assert api.post("/v1/allocations", json={}).status_code == 400
    assert (
        api.post("/v1/allocations", json={"resource_class": rc, "traits": ["x"]}).status_code == 400
    )
    assert (
        api.get("/v1/allocations", headers={"X-OpenStack-Ironic-API-Version": "1.51"}).status_code
        == 404
    )
    renamed = api.patch(
        f"/v1/allocations/{made['uuid']}", json=[{"op": "add", "path": "/name", "value": f"n-{rc}"}]
    )
    assert renamed.status_code == 200 and renamed.json()["name"] == f"n-{rc}"
    fixed = api.patch(
        f"/v1/allocations/{made['uuid']}",
        json=[{"op": "replace", "path": "/resource_class", "value": "other"}],
    )
    assert fixed.status_code == 400
    provision(api, chosen["uuid"], "active", "active")
    busy = api.delete(f"/v1/nodes/{chosen['uuid']}/allocation")
    assert busy.status_code == 409 and "active" in fault(busy)
    assert first["uuid"] != chosen["uuid"]


def test_an_allocation_whose_message_was_lost_is_processed_later(api: LiveAPI) -> None:
    rc = f"rc-{uuid.uuid4().hex[:8]}"
    node = _available(api, rc)
    old = utcnow() - dt.timedelta(seconds=allocation_db.STALE_AFTER + 5)
    row = stores.ALLOCATIONS.create(
        {"resource_class": rc, "state": "allocating", "created_at": old}  # never queued
    )
    assert str(row["uuid"]) in allocation_db.stale(allocation_db.STALE_AFTER)
    assert allocation_db.process(str(row["uuid"])) == "active"
    assert allocation_db.process(str(row["uuid"])) is None  # a second copy does nothing
    shown = api.get(f"/v1/allocations/{row['uuid']}").json()
    assert shown["state"] == "active" and shown["node_uuid"] == node["uuid"]


def test_a_locked_match_is_waited_for(api: LiveAPI) -> None:
    rc = f"rc-{uuid.uuid4().hex[:8]}"
    node = _available(api, rc)
    node_db.reserve(node["uuid"], "someone@else")  # a request still finishing on it
    threading.Timer(1.5, node_db.release, (node["uuid"], "someone@else")).start()
    made = _allocate(api, resource_class=rc)
    assert made["state"] == "active" and made["node_uuid"] == node["uuid"]
