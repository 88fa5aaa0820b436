"""``python -m bench powersync``: one full power-state sync pass over N nodes, in process.

N nodes (``available``, ``power on``, ``fake-hardware``) are inserted in bulk into a
conductor group of their own, so the one in-process :class:`ConductorManager` owns them all
and no other conductor sees them. The fake driver sleeps ``IRONWORKS_FAKE_POWER_DELAY``
(``--latency`` ms) per BMC call. For each concurrency in ``--workers`` (a comma-separated
sweep; default the ``IRONWORKS_SYNC_POWER_STATE_WORKERS`` setting) it runs
``workers.periodic.power_sync.sync_power_states(manager)`` and reports the pass time, nodes/s and
how far that is from the ideal ``N * latency / workers``. Also timed on its own: listing
the nodes and asking the ring for each one's owner, the part of a pass no concurrency
setting speeds up.

The target is <= 10 s per pass for 10,000 nodes at 20 ms, i.e. 1,000 nodes/s; for other
N and latencies the same rate is the yardstick and the report names the smallest swept
concurrency that reaches it. The nodes are deleted at the end.
"""

from __future__ import annotations

import dataclasses
import math
import os
import threading
import time
import uuid as uuidlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from bench.progress import Progress, status
from bench.stats import print_table, rate
from bench.system import System

if TYPE_CHECKING:
    from workers.manager import ConductorManager

TARGET_NODES = 10_000
TARGET_SECONDS = 10.0
INSERT_BATCH = 2_000


def _configure(system: System, latency_ms: float) -> None:
    """Point this process's settings at the benchmark's database and broker."""
    os.environ.update(
        IRONWORKS_DATABASE_URL=system.database_url,
        IRONWORKS_BROKER_URL=system.broker_url,
        IRONWORKS_STATE_DIR=str(system.state_dir),
        IRONWORKS_FAKE_POWER_DELAY=str(latency_ms / 1000.0),
    )
    from app.config import get_settings

    get_settings.cache_clear()


def _insert_nodes(group: str, count: int) -> float:
    """Bulk-insert ``count`` nodes into ``group``; returns the seconds it took."""
    from app import states
    from app.db import nodes

    started = time.monotonic()
    with Progress("powersync", "insert nodes", count) as progress:
        for first in range(0, count, INSERT_BATCH):
            rows = [
                {
                    "uuid": str(uuidlib.uuid4()),
                    "name": f"{group}-{i}",
                    "driver": "fake-hardware",
                    "conductor_group": group,
                    "provision_state": states.AVAILABLE,
                    "power_state": states.POWER_ON,
                }
                for i in range(first, min(first + INSERT_BATCH, count))
            ]
            nodes.create_many(rows)
            progress.add(len(rows))
    return time.monotonic() - started


def _delete_nodes(group: str) -> None:
    from app.db import nodes

    nodes.delete_where(conductor_group=group)


@contextmanager
def _conductor(group: str) -> Iterator[ConductorManager]:
    """A started in-process conductor for ``group``, kept alive by a heartbeat thread."""
    from app.config import get_settings
    from workers.base_manager import PoolInfo
    from workers.manager import ConductorManager

    settings = dataclasses.replace(get_settings(), conductor_group=group)
    manager = ConductorManager(f"{group}@bench", PoolInfo("threads", 8), settings=settings)
    stop = threading.Event()

    def keepalive() -> None:  # beat's job for real conductors
        while not stop.wait(1.0):
            manager.heartbeat()

    beating = threading.Thread(target=keepalive, name="bench-keepalive", daemon=True)
    try:
        manager.init_host()
        beating.start()
        yield manager
    finally:
        stop.set()
        if beating.is_alive():
            beating.join()
        manager.del_host()


def _count_bmc_reads(manager: ConductorManager, progress: Progress) -> Callable[[], None]:
    """Count power reads on this manager's fake driver for the progress line; returns undo."""
    power = manager.hardware_types["fake-hardware"].interfaces["power"]
    original = power.get_power_state  # type: ignore[attr-defined]

    def counted(node: Any) -> str:
        try:
            return str(original(node))
        finally:
            progress.add()

    setattr(power, "get_power_state", counted)  # noqa: B010 - this instance only
    return lambda: delattr(power, "get_power_state")


def _one_pass(manager: ConductorManager, workers: int, nodes: int, label: str) -> float:
    from workers.periodic.power_sync import sync_power_states

    manager.settings = dataclasses.replace(manager.settings, sync_power_state_workers=workers)
    with Progress("powersync", label, nodes, "BMC reads") as progress:
        undo = _count_bmc_reads(manager, progress)
        try:
            report = sync_power_states(manager)
        finally:
            undo()
    if report is None:
        raise RuntimeError("another power sync pass was already running in this process")
    if len(report.checked) != nodes:
        status(f"bench: warning: pass checked {len(report.checked)} of {nodes} nodes")
    return report.seconds


def _listing_seconds(manager: ConductorManager) -> tuple[float, int]:
    started = time.monotonic()
    owned = sum(1 for _ in manager.iter_nodes())
    return time.monotonic() - started, owned


def _sweep(
    manager: ConductorManager, workers: list[int], nodes: int, latency_ms: float, passes: int
) -> list[dict[str, Any]]:
    results = []
    target = TARGET_SECONDS * nodes / TARGET_NODES  # the same 1,000 nodes/s
    for count in workers:
        times = [
            _one_pass(manager, count, nodes, f"pass {p + 1}/{passes} workers={count}")
            for p in range(passes)
        ]
        best = min(times)
        ideal = nodes * latency_ms / 1000.0 / count
        results.append(
            {
                "workers": count,
                "pass_s": [round(t, 3) for t in times],
                "best_s": round(best, 3),
                "nodes_per_s": rate(nodes, best),
                "ideal_s": round(ideal, 3),
                "efficiency": round(ideal / best, 3) if best else None,
                "extrapolated_10k_s": round(best * TARGET_NODES / nodes, 2),
                "meets_target": best <= target,
            }
        )
    return results


def run(
    system: System, nodes: int, latency_ms: float, workers: list[int] | None, passes: int
) -> dict[str, Any]:
    """Insert, sync for each concurrency, delete; the result document."""
    _configure(system, latency_ms)
    from app.config import get_settings
    from app.db import migrate
    from app.db.engine import dispose_engine, get_engine

    migrate.upgrade(get_engine())
    sweep = workers or [get_settings().sync_power_state_workers]
    group = f"bench-sync-{uuidlib.uuid4().hex[:8]}"
    insert_s = _insert_nodes(group, nodes)
    try:
        with _conductor(group) as manager:
            listing_s, owned = _listing_seconds(manager)
            rows = _sweep(manager, sweep, nodes, latency_ms, passes)
    finally:
        _delete_nodes(group)
        dispose_engine()
    return _result(nodes, latency_ms, insert_s, listing_s, owned, rows)


def _result(
    nodes: int,
    latency_ms: float,
    insert_s: float,
    listing_s: float,
    owned: int,
    rows: list[dict[str, Any]],
) -> dict[str, Any]:
    reaching = [r["workers"] for r in rows if r["meets_target"]]
    target_rate = TARGET_NODES / TARGET_SECONDS
    return {
        "benchmark": "powersync",
        "nodes": nodes,
        "latency_ms": latency_ms,
        "target": f"<= {TARGET_SECONDS:.0f} s per {TARGET_NODES} nodes at 20 ms "
        f"({target_rate:.0f} nodes/s)",
        # Each worker reads 1000 / latency_ms BMCs per second at best.
        "min_workers_theoretical": math.ceil(target_rate * latency_ms / 1000.0),
        "insert_s": round(insert_s, 3),
        "listing_and_ring_s": round(listing_s, 3),
        "owned_nodes": owned,
        "runs": rows,
        "reaches_target_at_workers": min(reaching) if reaching else None,
    }


def report(result: dict[str, Any]) -> None:
    columns = ["workers", "best pass s", "nodes/s", "ideal s", "efficiency", "10k extrap. s"]
    columns.append("target met")
    rows = [
        [
            r["workers"],
            r["best_s"],
            r["nodes_per_s"],
            r["ideal_s"],
            r["efficiency"],
            r["extrapolated_10k_s"],
            "yes" if r["meets_target"] else "no",
        ]
        for r in result["runs"]
    ]
    title = (
        f"powersync: {result['nodes']} nodes at {result['latency_ms']:g} ms per BMC read "
        f"(listing + ring: {result['listing_and_ring_s']:.2f}s, owned {result['owned_nodes']})"
    )
    print_table(title, columns, rows)
    print(
        f"  target {result['target']}; theoretical minimum concurrency at "
        f"{result['latency_ms']:g} ms: "
        f"{result['min_workers_theoretical']}"
    )
    reached = result["reaches_target_at_workers"]
    print(f"  reaches the target at workers = {reached if reached else 'none of those swept'}")
