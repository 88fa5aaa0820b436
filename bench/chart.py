"""PNG charts of a result document (matplotlib, Agg backend; optional).

Without matplotlib the benchmark still writes its JSON and says why there is no chart.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.progress import status

PERCENTILES = ("p50_ms", "p95_ms", "p99_ms")


def render(result: dict[str, Any], path: Path) -> Path | None:
    """Draw ``result`` into ``path``; None (with a message) when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        status("bench: matplotlib is not installed, so no chart (pip install matplotlib)")
        return None
    draw = {"lifecycle": _lifecycle, "api": _api, "powersync": _powersync}[result["benchmark"]]
    fig, axes = plt.subplots(2, 2, figsize=(13, 8.5))
    draw(result, axes)
    fig.suptitle(_title(result))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _title(result: dict[str, Any]) -> str:
    setup = result.get("setup", {})
    where = f"{setup.get('database', '?')} + {setup.get('broker', '?')}"
    return f"ironworks bench {result['benchmark']}: {result['nodes']} nodes, {where}"


def _bars(ax: Any, labels: list[str], values: list[float], title: str, unit: str) -> None:
    ax.bar(labels, values, color="tab:blue")
    ax.set_title(title)
    ax.set_ylabel(unit)
    ax.tick_params(axis="x", rotation=20)
    for x, value in enumerate(values):
        ax.annotate(f"{value:.3g}", (x, value), ha="center", va="bottom", fontsize=8)


def _grouped(
    ax: Any, labels: list[str], series: dict[str, list[float]], title: str, unit: str
) -> None:
    width = 0.8 / max(1, len(series))
    for i, (name, values) in enumerate(series.items()):
        xs = [x + (i - (len(series) - 1) / 2) * width for x in range(len(labels))]
        ax.bar(xs, values, width, label=name)
    ax.set_xticks(range(len(labels)), labels, rotation=20)
    ax.set_title(title)
    ax.set_ylabel(unit)
    ax.legend(fontsize=8)


def _latencies(ax: Any, labels: list[str], latency: list[dict[str, Any]]) -> None:
    series = {p.removesuffix("_ms"): [lat.get(p, 0.0) for lat in latency] for p in PERCENTILES}
    _grouped(ax, labels, series, "latency of one HTTP call", "ms (log)")
    ax.set_yscale("log")


def _rss(ax: Any, result: dict[str, Any]) -> None:
    rss = result.get("rss") or {}
    if not rss:
        ax.text(0.5, 0.5, "peak RSS not measured\n(system not started by bench)", ha="center")
        ax.set_axis_off()
        return
    names = list(rss)
    _bars(ax, names, [rss[n]["total_kb"] / 1024 for n in names], "peak RSS incl. children", "MiB")


def _lifecycle(result: dict[str, Any], axes: Any) -> None:
    phases = result["phases"]
    labels = [p["phase"] for p in phases]
    _bars(
        axes[0][0], labels, [p["ops_per_s"] for p in phases], "accepted calls per second", "ops/s"
    )
    _latencies(axes[0][1], labels, [p["latency"] for p in phases])
    series = {
        "all calls answered": [p["wall_s"] for p in phases],
        "all nodes converged": [p["converged_s"] or 0.0 for p in phases],
    }
    _grouped(axes[1][0], labels, series, "phase duration", "s")
    _rss(axes[1][1], result)


def _api(result: dict[str, Any], axes: Any) -> None:
    ops = result["operations"]
    labels = [o["operation"] for o in ops]
    _bars(axes[0][0], labels, [o["req_per_s"] for o in ops], "throughput", "req/s")
    _latencies(axes[0][1], labels, [o["latency"] for o in ops])
    retries = {
        "409 retried": [o["retries_409"] for o in ops],
        "503 retried": [o["retries_503"] for o in ops],
        "errors": [sum(o["errors"].values()) for o in ops],
    }
    _grouped(axes[1][0], labels, retries, "retries and errors", "count")
    _rss(axes[1][1], result)


def _powersync(result: dict[str, Any], axes: Any) -> None:
    runs = result["runs"]
    workers = [r["workers"] for r in runs]
    target = 10.0 * result["nodes"] / 10_000
    ax = axes[0][0]
    ax.plot(workers, [r["best_s"] for r in runs], "o-", label="measured pass")
    ax.plot(workers, [r["ideal_s"] for r in runs], "--", label="ideal N*L/workers")
    ax.axhline(target, color="tab:red", linestyle=":", label=f"target {target:.3g} s")
    ax.set(title="one sync pass", xlabel="workers", ylabel="s", xscale="log", yscale="log")
    ax.set_xticks(workers, [str(w) for w in workers])
    ax.minorticks_off()
    ax.legend(fontsize=8)
    _bars(
        axes[0][1],
        [str(w) for w in workers],
        [r["nodes_per_s"] for r in runs],
        "nodes per second by workers",
        "nodes/s",
    )
    _bars(
        axes[1][0],
        [str(w) for w in workers],
        [r["efficiency"] or 0.0 for r in runs],
        "efficiency (ideal / measured)",
        "ratio",
    )
    _rss(axes[1][1], result)
