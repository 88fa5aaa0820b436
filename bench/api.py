"""``python -m bench api``: request latency and throughput of the read and write paths.

It enrolls N nodes (``POST /v1/nodes``, timed too), then runs each operation with C client
threads for ``--requests`` calls or ``--duration`` seconds, whichever ends first:

* ``get``: ``GET /v1/nodes/<uuid>``, the nodes taken in turn;
* ``list``: ``GET /v1/nodes?limit=1000&fields=uuid,name,provision_state``;
* ``patch``: ``PATCH /v1/nodes/<uuid>`` with ``[{"op": "replace", "path": "/extra/bench"}]``,
  the nodes taken in turn, so C clients rarely patch the same node at once.

Per operation: p50/p95/p99 of the HTTP call, req/s, 409/503 retries and errors. The nodes
are deleted at the end.
"""

from __future__ import annotations

import time
import uuid as uuidlib
from collections.abc import Callable
from typing import Any

from bench.client import Client, Tally, run_concurrently
from bench.progress import Progress
from bench.stats import latency_summary, print_table, rate

LIST_PATH = "/v1/nodes"
LIST_PARAMS = {"limit": "1000", "fields": "uuid,name,provision_state"}
SETUP_TIMEOUT = 600.0


def _timed_op(
    client: Client,
    name: str,
    request: Callable[[Tally, int, float], Any],
    count: int,
    concurrency: int,
    duration: float,
) -> dict[str, Any]:
    """Run ``request`` ``count`` times (or for ``duration`` s) on C threads; the summary."""
    tally = Tally()
    started = time.monotonic()
    deadline = started + duration

    def one(index: int) -> bool:
        return request(tally, index, deadline) is not None

    with Progress("api", name, count, "requests") as progress:
        outcomes = run_concurrently(range(count), one, concurrency, deadline, progress.add)
    seconds = time.monotonic() - started
    ok = sum(outcomes)
    return {
        "operation": name,
        "requests": len(outcomes),
        "ok": ok,
        "seconds": round(seconds, 3),
        "req_per_s": rate(ok, seconds),
        "latency": latency_summary(tally.latencies),
        **tally.summary(),
    }


def _enroll(
    client: Client, nodes: int, concurrency: int, tag: str
) -> tuple[dict[str, Any], list[str]]:
    made: list[str] = []

    def create(tally: Tally, index: int, deadline: float) -> Any:
        body = {
            "driver": "fake-hardware",
            "name": f"{tag}-{index}",
            "owner": tag,
            "extra": {"bench": 0},
        }
        response = client.call(tally, "POST", "/v1/nodes", 201, deadline, json=body)
        if response is not None:
            made.append(str(response.json()["uuid"]))
        return response

    summary = _timed_op(client, "create", create, nodes, concurrency, SETUP_TIMEOUT)
    return summary, made


def _delete(client: Client, uuids: list[str], concurrency: int) -> int:
    """Delete the run's nodes; returns how many could not be deleted."""

    def remove(tally: Tally, index: int, deadline: float) -> Any:
        return client.call(tally, "DELETE", f"/v1/nodes/{uuids[index]}", 204, deadline)

    summary = _timed_op(client, "cleanup", remove, len(uuids), concurrency, SETUP_TIMEOUT)
    return len(uuids) - int(summary["ok"])


def run(
    client: Client, nodes: int, concurrency: int, requests: int, duration: float
) -> dict[str, Any]:
    """Enroll, measure get / list / patch, delete; the result document (without RSS)."""
    tag = f"bench-{uuidlib.uuid4().hex[:8]}"
    create, uuids = _enroll(client, nodes, concurrency, tag)
    if not uuids:
        raise RuntimeError(f"no node could be enrolled: {create['error_examples']}")
    listed: list[int] = []

    def get(tally: Tally, index: int, deadline: float) -> Any:
        path = f"/v1/nodes/{uuids[index % len(uuids)]}"
        return client.call(tally, "GET", path, 200, deadline)

    def list_nodes(tally: Tally, index: int, deadline: float) -> Any:
        response = client.call(tally, "GET", LIST_PATH, 200, deadline, params=LIST_PARAMS)
        if response is not None and not listed:
            listed.append(len(response.json()["nodes"]))
        return response

    def patch(tally: Tally, index: int, deadline: float) -> Any:
        path = f"/v1/nodes/{uuids[index % len(uuids)]}"
        body = [{"op": "replace", "path": "/extra/bench", "value": index}]
        return client.call(tally, "PATCH", path, 200, deadline, json=body)

    ops = [create]
    try:
        for name, request in (("get", get), ("list", list_nodes), ("patch", patch)):
            ops.append(_timed_op(client, name, request, requests, concurrency, duration))
    finally:
        left = _delete(client, uuids, concurrency)
    return {
        "benchmark": "api",
        "nodes": nodes,
        "concurrency": concurrency,
        "requests_per_operation": requests,
        "duration_limit_s": duration,
        "nodes_per_list_response": listed[0] if listed else None,
        "operations": ops,
        "left_behind": left,
    }


def report(result: dict[str, Any]) -> None:
    columns = ["operation", "requests", "ok", "seconds", "req/s", "p50 ms", "p95 ms", "p99 ms"]
    columns += ["409", "503", "errors"]
    rows = [
        [
            o["operation"],
            o["requests"],
            o["ok"],
            o["seconds"],
            o["req_per_s"],
            o["latency"].get("p50_ms"),
            o["latency"].get("p95_ms"),
            o["latency"].get("p99_ms"),
            o["retries_409"],
            o["retries_503"],
            sum(o["errors"].values()),
        ]
        for o in result["operations"]
    ]
    title = (
        f"api: {result['nodes']} nodes, {result['concurrency']} clients "
        f"(list returned {result['nodes_per_list_response']} nodes per call)"
    )
    print_table(title, columns, rows)
    for op in result["operations"]:
        for example in op["error_examples"][:2]:
            print(f"  {op['operation']}: {example}")
