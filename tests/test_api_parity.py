"""Ironic API parity, correctness first (issue 15): no silent wrong answers.

An unknown query parameter is a 400, ``fields`` may be repeated, the node filters Nova and
the SDK send are honoured, and an instance association is never overwritten.
"""

from __future__ import annotations

import http.client
import os
import subprocess
import time
import uuid
import uuid as uuidlib
from pathlib import Path

import pytest

from tests.helpers import LATEST, create_node, fault
from tests.services import ROOT, LiveAPI, answers, free_port, procfile_line, wait_for


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


def test_drivers_show_their_interfaces_from_1_30(system: dict[str, object], api: LiveAPI) -> None:
    new = {"X-OpenStack-Ironic-API-Version": "1.30"}
    old = {"X-OpenStack-Ironic-API-Version": "1.29"}
    one = api.get("/v1/drivers/fake-hardware", headers=new).json()
    assert one["default_power_interface"] == "fake"
    assert "fake" in one["enabled_power_interfaces"]
    assert one["enabled_network_interfaces"] and one["default_network_interface"]
    assert "default_power_interface" not in api.get("/v1/drivers/fake-hardware", headers=old).json()
    listed = api.get("/v1/drivers", params={"detail": "true"}, headers=new).json()["drivers"]
    assert all("enabled_deploy_interfaces" in d for d in listed)
    assert "default_boot_interface" not in api.get("/v1/drivers", headers=new).json()["drivers"][0]
    assert api.get("/v1/drivers", params={"type": "classic"}, headers=new).json() == {"drivers": []}
    assert api.get("/v1/drivers", params={"detail": "true"}, headers=old).status_code == 406


def test_conductor_list_takes_ironic_arguments(system: dict[str, object], api: LiveAPI) -> None:
    everyone = api.get("/v1/conductors", params={"detail": "true"}).json()["conductors"]
    names = [c["hostname"] for c in everyone]
    assert names == sorted(names) and len(names) >= 2
    first = api.get("/v1/conductors", params={"limit": 1, "fields": "hostname"}).json()
    assert [(c["hostname"], set(c)) for c in first["conductors"]] == [
        (names[0], {"hostname", "links"})
    ]
    after = api.get("/v1/conductors", params={"marker": names[0]}).json()["conductors"]
    assert [c["hostname"] for c in after] == names[1:]
    backwards = api.get("/v1/conductors", params={"sort_dir": "desc"}).json()["conductors"]
    assert [c["hostname"] for c in backwards] == names[::-1]


def test_api_keeps_idle_connections_longer_than_clients_poll(
    system: dict[str, object], logdir: Path
) -> None:
    """openstacksdk polls every 2 s on one connection: gunicorn's default 2 s keep-alive
    closed it under the client's feet. The Procfile's API keeps it 75 s."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    env["IRONWORKS_API_PORT"] = str(port)
    with open(logdir / "keepalive-api.log", "wb") as log:
        proc = subprocess.Popen(
            ["sh", "-c", procfile_line("api")], cwd=ROOT, env=env, stdout=log, stderr=log
        )
    try:

        def up() -> bool:
            assert proc.poll() is None, (logdir / "keepalive-api.log").read_text()
            return answers("127.0.0.1", port)

        wait_for(up, 60, "the Procfile's API")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            for _ in range(2):  # one connection, idle 3 s between requests
                conn.request("GET", "/v1")
                response = conn.getresponse()
                assert response.status == 200
                response.read()
                time.sleep(3)
        finally:
            conn.close()
    finally:
        proc.terminate()
        proc.wait(20)


def test_history_in_ironics_shapes(system: dict[str, object], api: LiveAPI) -> None:
    node = create_node(api)
    url = f"/v1/nodes/{node['uuid']}/history"
    api.put(f"/v1/nodes/{node['uuid']}/states/provision", json={"target": "manage"})
    wait_for(lambda: len(api.get(url).json()["history"]) >= 2, 15, "two history events")
    events = api.get(url).json()["history"]
    assert set(events[0]) == {"uuid", "created_at", "severity", "event", "links"}
    detailed = api.get(url, params={"detail": "true"}).json()["history"]
    assert {"event_type", "conductor", "user"} <= set(detailed[0])
    one = api.get(f"{url}/{events[0]['uuid']}").json()
    assert one["uuid"] == events[0]["uuid"] and "event_type" in one
    assert one["links"][0]["href"].endswith(f"/history/{events[0]['uuid']}")
    page = api.get(url, params={"limit": 1, "marker": events[0]["uuid"]}).json()["history"]
    assert [e["uuid"] for e in page] == [events[1]["uuid"]]
    assert api.get(f"{url}/{uuid.uuid4()}").status_code == 404
    assert api.get(url, params={"marker": "nope"}).status_code == 400
