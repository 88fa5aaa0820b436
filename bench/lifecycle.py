"""``python -m bench lifecycle``: N nodes through their whole life over the REST API.

Phases, each for every node still in the run, with C client threads:
enroll (``POST /v1/nodes``) -> power on -> manage -> provide -> deploy (``active``) ->
undeploy (``deleted``) -> delete (``DELETE /v1/nodes/<uuid>``).

Per phase it measures the wall time until every call was answered (and ops/s from it), the
latency of each single HTTP call (p50/p95/p99), the 409 "locked" / 503 answers it retried,
and the time from the phase's start until every node converged: no reservation and the
expected provision state (for power: no target power state and "power on"; for delete:
gone). Convergence is polled with one paginated list call filtered on the run's ``owner``
tag, so polling costs a few requests per second whatever N is. A node that lands in a
failed state leaves the run (counted, with an example) so later phases are not blocked.
"""

from __future__ import annotations

import time
import uuid as uuidlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from bench.client import Client, Tally, run_concurrently
from bench.progress import Progress
from bench.stats import latency_summary, print_table, rate

Judge = Callable[[dict[str, Any] | None], str]  # "done", "failed" or "pending"
PROVISION = "/v1/nodes/{uuid}/states/provision"
POLL_FIELDS = "uuid,provision_state,power_state,target_power_state,reservation,last_error"
POLL_INTERVAL = 0.25
PAGE = 1000


def _in_state(expect: str) -> Judge:
    def judge(row: dict[str, Any] | None) -> str:
        if row is None:
            return "failed"
        if row["reservation"] is not None:
            return "pending"
        state = row["provision_state"]
        if state == expect:
            return "done"
        return "failed" if state.endswith("failed") or state == "error" else "pending"

    return judge


def _powered_on(row: dict[str, Any] | None) -> str:
    if row is None:
        return "failed"
    if row["reservation"] is not None or row["target_power_state"] is not None:
        return "pending"
    if row["power_state"] == "power on":
        return "done"
    return "failed" if row["last_error"] else "pending"


def _gone(row: dict[str, Any] | None) -> str:
    return "done" if row is None else "pending"


@dataclass(frozen=True)
class Phase:
    name: str
    method: str
    path: str
    body: dict[str, Any] | None
    expect: int
    judge: Judge


PHASES = (
    Phase(
        "power on", "PUT", "/v1/nodes/{uuid}/states/power", {"target": "power on"}, 202, _powered_on
    ),
    Phase("manage", "PUT", PROVISION, {"target": "manage"}, 202, _in_state("manageable")),
    Phase("provide", "PUT", PROVISION, {"target": "provide"}, 202, _in_state("available")),
    Phase("deploy", "PUT", PROVISION, {"target": "active"}, 202, _in_state("active")),
    Phase("undeploy", "PUT", PROVISION, {"target": "deleted"}, 202, _in_state("available")),
    Phase("delete", "DELETE", "/v1/nodes/{uuid}", None, 204, _gone),
)


@dataclass
class Run:
    """One lifecycle run: the client, sizes and the owner tag that marks its nodes."""

    client: Client
    nodes: int
    concurrency: int
    phase_timeout: float
    tag: str


def _poll(run: Run) -> dict[str, dict[str, Any]]:
    """Every node of this run, by UUID, in as few list calls as the page size allows."""
    rows: dict[str, dict[str, Any]] = {}
    marker: str | None = None
    for _page in range(run.nodes // PAGE + 2):
        params: dict[str, Any] = {"owner": run.tag, "limit": PAGE, "fields": POLL_FIELDS}
        if marker:
            params["marker"] = marker
        page = run.client.get_json("/v1/nodes", **params)["nodes"]
        rows.update((row["uuid"], row) for row in page)
        if len(page) < PAGE:
            break
        marker = page[-1]["uuid"]
    return rows


def _converge(
    run: Run, uuids: list[str], judge: Judge, deadline: float, progress: Progress
) -> dict[str, Any]:
    """Poll until every node is done or failed (or the deadline); the stragglers by state."""
    pending = set(uuids)
    failed: dict[str, dict[str, Any] | None] = {}
    while pending and time.monotonic() < deadline:
        try:
            rows = _poll(run)
        except requests.RequestException as exc:  # a busy API: poll again
            progress.note = f"poll failed: {type(exc).__name__}"
            time.sleep(POLL_INTERVAL)
            continue
        for node in list(pending):
            verdict = judge(rows.get(node))
            if verdict != "pending":
                pending.discard(node)
                if verdict == "failed":
                    failed[node] = rows.get(node)
        progress.set(len(uuids) - len(pending), "converging")
        if pending:
            time.sleep(POLL_INTERVAL)
    return {"failed": failed, "pending": sorted(pending)}


def _phase_result(
    name: str, tally: Tally, ok: int, wall: float, converged: float | None
) -> dict[str, Any]:
    return {
        "phase": name,
        "ok": ok,
        "wall_s": round(wall, 3),
        "ops_per_s": rate(ok, wall),
        "converged_s": None if converged is None else round(converged, 3),
        "latency": latency_summary(tally.latencies),
        **tally.summary(),
    }


def _enroll(run: Run) -> tuple[dict[str, Any], list[str]]:
    tally = Tally()
    started = time.monotonic()
    deadline = started + run.phase_timeout
    prefix = f"{run.tag}-"

    def create(index: int) -> str | None:
        body = {"driver": "fake-hardware", "name": f"{prefix}{index}", "owner": run.tag}
        response = run.client.call(tally, "POST", "/v1/nodes", 201, deadline, json=body)
        return None if response is None else str(response.json()["uuid"])

    with Progress("lifecycle", "enroll", run.nodes) as progress:
        made = run_concurrently(range(run.nodes), create, run.concurrency, deadline, progress.add)
    uuids = [u for u in made if u is not None]
    wall = time.monotonic() - started
    return _phase_result("enroll", tally, len(uuids), wall, wall), uuids


def _run_phase(run: Run, phase: Phase, uuids: list[str]) -> tuple[dict[str, Any], list[str]]:
    """Send the phase's call for every node, then wait for convergence; the nodes done."""
    tally = Tally()
    started = time.monotonic()
    deadline = started + run.phase_timeout

    def send(node: str) -> str | None:
        path = phase.path.format(uuid=node)
        kwargs = {} if phase.body is None else {"json": phase.body}
        response = run.client.call(tally, phase.method, path, phase.expect, deadline, **kwargs)
        return None if response is None else node

    with Progress("lifecycle", phase.name, len(uuids)) as progress:
        sent = run_concurrently(uuids, send, run.concurrency, deadline, progress.add)
        accepted = [u for u in sent if u is not None]
        wall = time.monotonic() - started
        outcome = _converge(run, accepted, phase.judge, deadline, progress)
    stuck = set(outcome["failed"]) | set(outcome["pending"])
    converged = None if outcome["pending"] else time.monotonic() - started
    result = _phase_result(phase.name, tally, len(accepted), wall, converged)
    result["failed_nodes"] = len(outcome["failed"])
    result["failed_examples"] = list(outcome["failed"].values())[:3]
    result["not_converged"] = len(outcome["pending"])
    return result, [u for u in accepted if u not in stuck]


def _cleanup(run: Run) -> int:
    """Best effort: delete what this run left behind (failed nodes); returns how many remain."""
    try:
        left = list(_poll(run))
    except Exception:
        return -1
    tally = Tally()
    deadline = time.monotonic() + 60
    for node in left:
        run.client.call(tally, "DELETE", f"/v1/nodes/{node}", 204, deadline)
    return sum(tally.errors.values())  # those it could not delete


def run(client: Client, nodes: int, concurrency: int, phase_timeout: float) -> dict[str, Any]:
    """The whole lifecycle for ``nodes`` nodes; the result document (without RSS)."""
    current = Run(client, nodes, concurrency, phase_timeout, f"bench-{uuidlib.uuid4().hex[:8]}")
    started = time.monotonic()
    result, uuids = _enroll(current)
    phases = [result]
    for phase in PHASES:
        if not uuids:
            break
        result, uuids = _run_phase(current, phase, uuids)
        phases.append(result)
    return {
        "benchmark": "lifecycle",
        "nodes": nodes,
        "concurrency": concurrency,
        "owner_tag": current.tag,
        "completed_nodes": len(uuids),
        "total_s": round(time.monotonic() - started, 3),
        "phases": phases,
        "left_behind": _cleanup(current),
    }


def report(result: dict[str, Any]) -> None:
    columns = ["phase", "ok", "wall s", "ops/s", "p50 ms", "p95 ms", "p99 ms", "converged s"]
    columns += ["409", "503", "errors", "failed"]
    rows = [
        [
            p["phase"],
            p["ok"],
            p["wall_s"],
            p["ops_per_s"],
            p["latency"].get("p50_ms"),
            p["latency"].get("p95_ms"),
            p["latency"].get("p99_ms"),
            p["converged_s"],
            p["retries_409"],
            p["retries_503"],
            sum(p["errors"].values()),
            p.get("failed_nodes", 0) + p.get("not_converged", 0),
        ]
        for p in result["phases"]
    ]
    title = (
        f"lifecycle: {result['nodes']} nodes, {result['concurrency']} clients, "
        f"{result['completed_nodes']} completed in {result['total_s']:.1f}s"
    )
    print_table(title, columns, rows)
    for phase in result["phases"]:
        for example in phase["error_examples"][:2]:
            print(f"  {phase['phase']}: {example}")
