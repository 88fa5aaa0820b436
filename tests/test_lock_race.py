"""Racing requests on one node never both proceed (threads, two conductors, real HTTP)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from tests.helpers import LATEST, create_node, wait_power, wait_provision
from tests.services import LiveAPI


def _race(api: LiveAPI, path: str, body: dict[str, str], threads: int = 8) -> list[int]:
    start = threading.Barrier(threads)

    def fire(_: int) -> int:
        start.wait()
        return api.request("PUT", path, json=body, headers=LATEST).status_code

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(fire, range(threads)))


def test_racing_provision_requests_have_one_winner(system: dict[str, object], api: LiveAPI) -> None:
    for _ in range(10):
        node = create_node(api)
        codes = _race(api, f"/v1/nodes/{node['uuid']}/states/provision", {"target": "manage"})
        assert codes.count(202) == 1, codes
        # losers saw the lock (409) or a node already past enroll (400: verb not allowed)
        assert set(codes) <= {202, 409, 400}, codes
        wait_provision(api, node["uuid"], "manageable")
        history = api.get(f"/v1/nodes/{node['uuid']}/history").json()["history"]
        started = [h for h in history if h["event"].startswith("enroll -> verifying")]
        assert len(started) == 1


def test_racing_power_requests_never_overlap(system: dict[str, object], api: LiveAPI) -> None:
    node = create_node(api)
    codes = _race(api, f"/v1/nodes/{node['uuid']}/states/power", {"target": "power on"})
    # The BMC call takes 0.2 s (conftest), so every other request finds the node locked.
    assert sorted(codes) == [202] + [409] * 7, codes
    wait_power(api, node["uuid"])
    assert api.get(f"/v1/nodes/{node['uuid']}").json()["reservation"] is None
