"""A conductor that stops heartbeating leaves the ring; its nodes map to the others."""

from __future__ import annotations

import signal
import time
from pathlib import Path

from app.hash_ring import HashRingManager
from tests.helpers import create_node, wait_power
from tests.services import LiveAPI, start_conductor, wait_for


def _alive(api: LiveAPI) -> set[str]:
    return {r["hostname"] for r in api.get("/v1/conductors").json()["conductors"] if r["alive"]}


def test_silent_conductor_drops_out_and_its_nodes_move(
    system: dict[str, object], api: LiveAPI, logdir: Path, run_id: str
) -> None:
    name = f"conductor-c-{run_id}@test"
    third = start_conductor(name, logdir)
    try:
        wait_for(lambda: name in _alive(api), 60, f"{name} alive")
        ring = HashRingManager(ttl=0)
        nodes = [create_node(api) for _ in range(30)]
        owned = [n for n in nodes if ring.get_conductor(n["uuid"], "fake-hardware", "") == name]
        assert owned, "the third conductor should own some of 30 nodes"
        node = owned[0]
        assert api.get(f"/v1/nodes/{node['uuid']}").json()["conductor"] == name

        third.signal(signal.SIGSTOP)  # alive as a process, but silent
        stopped_at = time.monotonic()
        wait_for(lambda: name not in _alive(api), 15, f"{name} no longer alive")
        new_owner = wait_for(
            lambda: (
                (api.get(f"/v1/nodes/{node['uuid']}").json()["conductor"] or name) != name
                and api.get(f"/v1/nodes/{node['uuid']}").json()["conductor"]
            ),
            5,
            "the node to map to another conductor",
        )
        print(f"ring dropped the silent conductor after {time.monotonic() - stopped_at:.1f}s")
        assert new_owner in system["conductors"]  # type: ignore[operator]
        # Nodes that were not the silent conductor's keep their owner (consistent hashing).
        for other in nodes:
            if other not in owned:
                owner = api.get(f"/v1/nodes/{other['uuid']}").json()["conductor"]
                assert owner == ring.get_conductor(other["uuid"], "fake-hardware", "")

        response = api.put(f"/v1/nodes/{node['uuid']}/states/power", json={"target": "power on"})
        assert response.status_code == 202
        assert wait_power(api, node["uuid"])["power_state"] == "power on"

        third.signal(signal.SIGCONT)  # it heartbeats again and rejoins
        wait_for(lambda: name in _alive(api), 15, f"{name} alive again")
        wait_for(
            lambda: api.get(f"/v1/nodes/{node['uuid']}").json()["conductor"] == name,
            5,
            "the node to map back to its owner",
        )
    finally:
        third.stop()
    rows = {r["hostname"]: r for r in api.get("/v1/conductors").json()["conductors"]}
    assert rows[name]["alive"] is False  # warm shutdown unregistered it


def test_two_conductors_listed_with_drivers(system: dict[str, object], api: LiveAPI) -> None:
    rows = {r["hostname"]: r for r in api.get("/v1/conductors").json()["conductors"]}
    for name in system["conductors"]:  # type: ignore[attr-defined]
        assert rows[name]["alive"] is True
        assert rows[name]["drivers"] == ["fake-hardware", "ipmi", "redfish"]
        assert rows[name]["last_heartbeat"]
    drivers = api.get("/v1/drivers").json()["drivers"]
    fake = next(d for d in drivers if d["name"] == "fake-hardware")
    assert set(system["conductors"]) <= set(fake["hosts"])  # type: ignore[arg-type]
    assert api.get("/v1/drivers/fake-hardware").json()["name"] == "fake-hardware"
