"""Latency percentiles, result files and the plain-text report.

Every benchmark returns one JSON-serialisable ``dict``; :func:`save` writes it under the
results directory with a name that says what ran where (``lifecycle-sqlite-redis-<time>``),
and :func:`print_table` prints its rows to stdout.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import platform
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_RESULTS = ROOT / "bench" / "results"


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of already sorted values, linearly interpolated."""
    if not sorted_values:
        return math.nan
    rank = (len(sorted_values) - 1) * q / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (rank - low)


def latency_summary(seconds: Iterable[float]) -> dict[str, float | int]:
    """Count, mean, p50/p95/p99 and max of call durations, in milliseconds."""
    values = sorted(s * 1000.0 for s in seconds)
    if not values:
        return {"count": 0}
    return {
        "count": len(values),
        "mean_ms": round(sum(values) / len(values), 3),
        "p50_ms": round(percentile(values, 50), 3),
        "p95_ms": round(percentile(values, 95), 3),
        "p99_ms": round(percentile(values, 99), 3),
        "max_ms": round(values[-1], 3),
    }


def rate(count: int, seconds: float) -> float:
    return round(count / seconds, 2) if seconds > 0 else 0.0


def redact_url(url: str) -> str:
    """A database or broker URL without its password."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    creds, _, host = rest.rpartition("@")
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}@{host}"


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None


def environment() -> dict[str, Any]:
    """Where the numbers come from: machine, Python and the commit under test."""
    return {
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "commit": _git_commit(),
    }


def backend_label(database_url: str | None, broker_url: str | None) -> str:
    """``sqlite-redis``, ``postgresql-amqp``, ...: part of the result file name."""
    database = (database_url or "sqlite").split(":", 1)[0].split("+", 1)[0]
    broker = (broker_url or "redis").split(":", 1)[0]
    return f"{database}-{broker}"


def save(result: dict[str, Any], results_dir: Path, stem: str) -> Path:
    """Write ``result`` as ``<results_dir>/<stem>-<UTC time>.json``; returns the path."""
    results_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = results_dir / f"{stem}-{stamp}.json"
    path.write_text(json.dumps(result, indent=2, sort_keys=False) + "\n")
    return path


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}" if not math.isnan(value) else "-"
    return "-" if value is None else str(value)


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A left-aligned text table on stdout."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    print(f"\n{title}")
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))


def print_rss(rss: dict[str, Any]) -> None:
    """Peak RSS per started process (MiB), children included."""
    if not rss:
        print("\npeak RSS: not measured (processes not started by the benchmark)")
        return
    rows = [
        (name, info["pid"], _mib(info["own_kb"]), len(info["children"]), _mib(info["total_kb"]))
        for name, info in rss.items()
    ]
    print_table("peak RSS (VmHWM)", ["process", "pid", "own MiB", "children", "total MiB"], rows)


def _mib(kb: int | None) -> str:
    return "-" if kb is None else f"{kb / 1024:.1f}"
