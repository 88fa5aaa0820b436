"""A conductor killed mid-work: its tasks move to the survivor, nothing is lost or doubled.

These tests run their own conductors in a conductor group of their own, so killing one
does not disturb the conductors the other tests share.
"""

from __future__ import annotations

import re
import signal
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.helpers import LATEST, create_node, wait_power
from tests.services import LiveAPI, Process, start_conductor, wait_for

NODES = 100


def _states(api: LiveAPI, group: str) -> Counter[str]:
    body = api.get("/v1/nodes/detail", params={"conductor_group": group}).json()
    return Counter(n["provision_state"] for n in body["nodes"])


def _deployed(proc: Process) -> list[tuple[float, str]]:
    """(time, node uuid) of every 'deployed' log line."""
    found = []
    for line in proc.log().splitlines():
        match = re.search(r"Node (\S+): deployed(?: \[|$)", line)  # [ids] may follow
        stamp = _stamp(line)
        if match and stamp is not None:
            found.append((stamp, match.group(1)))
    return found


def _stamp(line: str) -> float | None:
    match = re.search(r"\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d{3})", line)
    if not match:
        return None
    return (
        time.mktime(time.strptime(match.group(1), "%Y-%m-%d %H:%M:%S")) + int(match.group(2)) / 1000
    )


def _takeover_time(logdir: Path, victim: str) -> float:
    """When some conductor logged that it took over from ``victim``."""
    for path in logdir.glob("*.log"):
        for line in path.read_text(errors="replace").splitlines():
            if f"Took over from dead conductor {victim}" in line:
                stamp = _stamp(line)
                if stamp is not None:
                    return stamp
    raise AssertionError(f"no conductor logged the takeover of {victim}")


def test_kill_9_during_deploy_of_100_nodes(
    system: dict[str, object], api: LiveAPI, logdir: Path, run_id: str
) -> None:
    group = f"failover-{run_id}"
    env = {"IRONWORKS_CONDUCTOR_GROUP": group, "IRONWORKS_FAKE_DEPLOY_DELAY": "1.0"}
    names = [f"fo-a-{run_id}@test", f"fo-b-{run_id}@test"]
    procs = {name: start_conductor(name, logdir, env) for name in names}
    try:
        wait_for(
            lambda: all(n in api.get("/v1/drivers/fake-hardware").json()["hosts"] for n in names),
            60,
            "failover conductors alive",
        )
        with ThreadPoolExecutor(8) as pool:
            nodes = list(pool.map(lambda _: create_node(api, conductor_group=group), range(NODES)))
            for verb, state in (("manage", "manageable"), ("provide", "available")):
                list(
                    pool.map(
                        lambda n, v=verb: api.put(
                            f"/v1/nodes/{n['uuid']}/states/provision",
                            json={"target": v},
                            headers=LATEST,
                        ),
                        nodes,
                    )
                )
                wait_for(lambda s=state: _states(api, group)[s] == NODES, 60, f"all {state}")
            codes = list(
                pool.map(
                    lambda n: (
                        api.put(
                            f"/v1/nodes/{n['uuid']}/states/provision",
                            json={"target": "active"},
                            headers=LATEST,
                        ).status_code
                    ),
                    nodes,
                )
            )
        assert codes == [202] * NODES
        victim, survivor = names
        listed = api.get("/v1/nodes/detail", params={"conductor_group": group}).json()["nodes"]
        victims_nodes = {n["uuid"] for n in listed if n["conductor"] == victim}
        assert victims_nodes, "the ring should give the victim some of 100 nodes"
        wait_for(lambda: len(_deployed(procs[victim])) >= 3, 30, "the victim to be working")
        procs[victim].signal(signal.SIGKILL)
        killed_at = time.time()
        done_before_kill = {uuid for _t, uuid in _deployed(procs[victim])}

        wait_for(lambda: _states(api, group)["active"] == NODES, 120, "all 100 nodes active")
        final = api.get("/v1/nodes/detail", params={"conductor_group": group}).json()["nodes"]
        assert all(n["reservation"] is None for n in final), "a lock remained"
        assert all(n["last_error"] is None for n in final)
        counts = Counter(uuid for p in procs.values() for _t, uuid in _deployed(p))
        assert set(counts) == {n["uuid"] for n in nodes}, "a deploy was lost"
        assert max(counts.values()) == 1, "a deploy ran to completion twice"
        moved = [t for t, uuid in _deployed(procs[survivor]) if uuid in victims_nodes]
        assert len(moved) == len(victims_nodes - done_before_kill)
        claimed = _takeover_time(logdir, victim)
        print(
            f"\nfailover: kill -> dead conductor claimed and its tasks moved in "
            f"{claimed - killed_at:.1f}s; kill -> first moved deploy done in "
            f"{min(moved) - killed_at:.1f}s (behind the survivor's own queue); "
            f"{len(victims_nodes)} nodes were the victim's, {len(done_before_kill)} done before"
        )
        rows = {r["hostname"]: r for r in api.get("/v1/conductors").json()["conductors"]}
        assert rows[victim]["alive"] is False
    finally:
        for proc in procs.values():
            proc.stop()


def test_beat_stopped_keeps_conductors_alive(system: dict[str, object], api: LiveAPI) -> None:
    beat: Process = system["beat"]  # type: ignore[assignment]
    node = create_node(api)
    beat.signal(signal.SIGSTOP)
    try:
        time.sleep(2 * 3 + 1)  # twice the heartbeat timeout of the tests (3 s)
        alive = [r for r in api.get("/v1/conductors").json()["conductors"] if r["alive"]]
        assert set(system["conductors"]) <= {r["hostname"] for r in alive}  # type: ignore[arg-type]
        response = api.put(f"/v1/nodes/{node['uuid']}/states/power", json={"target": "power on"})
        assert response.status_code == 202
        assert wait_power(api, node["uuid"])["power_state"] == "power on"
    finally:
        beat.signal(signal.SIGCONT)


def test_drain_finishes_what_it_holds_then_stops(
    system: dict[str, object], api: LiveAPI, logdir: Path, run_id: str
) -> None:
    import subprocess
    import sys

    from tests.services import ROOT

    group = f"drain-{run_id}"
    name = f"drain-{run_id}@test"
    proc = start_conductor(
        name, logdir, {"IRONWORKS_CONDUCTOR_GROUP": group, "IRONWORKS_FAKE_DEPLOY_DELAY": "0.5"}
    )
    try:
        wait_for(
            lambda: name in api.get("/v1/drivers/fake-hardware").json()["hosts"],
            60,
            "the conductor to be alive",
        )
        nodes = [create_node(api, conductor_group=group) for _ in range(6)]
        for node in nodes:
            assert (
                api.put(
                    f"/v1/nodes/{node['uuid']}/states/provision",
                    json={"target": "manage"},
                    headers=LATEST,
                ).status_code
                == 202
            )
        wait_for(lambda: _states(api, group)["manageable"] == 6, 30, "all manageable")
        for verb in ("adopt", "rebuild"):  # rebuild deploys: 0.5 s each, running below
            if verb == "rebuild":
                wait_for(lambda: _states(api, group)["active"] == 6, 30, "all adopted")
            for node in nodes:
                response = api.put(
                    f"/v1/nodes/{node['uuid']}/states/provision",
                    json={"target": verb},
                    headers=LATEST,
                )
                assert response.status_code == 202, response.text
        out = subprocess.run(
            [sys.executable, "-m", "app.cli", "conductor", "drain", name],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode == 0 and "draining" in out.stdout, out.stderr
        late = create_node(api, conductor_group=group)
        refused = api.put(f"/v1/nodes/{late['uuid']}/states/power", json={"target": "power on"})
        assert refused.status_code == 503  # it left the ring: no new work reaches it
        proc.proc.wait(60)  # it stops by itself once everything it held is done
        final = api.get("/v1/nodes/detail", params={"conductor_group": group}).json()["nodes"]
        mine = [n for n in final if n["uuid"] in {x["uuid"] for x in nodes}]
        assert all(n["reservation"] is None for n in mine)
        assert all(n["provision_state"] == "active" for n in mine), [
            (n["provision_state"], n["last_error"]) for n in mine
        ]
        assert "drained; stopping" in proc.log()
    finally:
        proc.stop()
