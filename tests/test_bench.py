"""The benchmark suite still runs: a small lifecycle and power-sync pass, end to end.

These are smoke runs (tiny sizes, no timing asserted): they check that ``python -m bench``
starts the whole system, drives it, reports every phase, cleans up after itself and exits 0.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.services import ROOT


def _bench(tmp_path: Path, *args: str) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IRONWORKS_")}
    out = subprocess.run(
        [sys.executable, "-m", "bench", *args, "--results-dir", str(tmp_path), "--no-chart"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    (result,) = tmp_path.glob("*.json")
    data: dict[str, object] = json.loads(result.read_text())
    return data


def test_lifecycle_smoke(tmp_path: Path) -> None:
    data = _bench(tmp_path, "lifecycle", "-n", "6", "-c", "2")
    phases = data["phases"]
    assert isinstance(phases, list)
    assert [p["phase"] for p in phases] == [
        "enroll",
        "power on",
        "manage",
        "provide",
        "deploy",
        "undeploy",
        "delete",
    ]
    assert all(p["ok"] == 6 for p in phases), phases
    assert data["completed_nodes"] == 6 and data["left_behind"] == 0
    rss = data["rss"]
    assert isinstance(rss, dict) and rss


def test_powersync_smoke(tmp_path: Path) -> None:
    data = _bench(tmp_path, "powersync", "-n", "50", "-l", "1", "-w", "4")
    assert data["owned_nodes"] == 50
    runs = data["runs"]
    assert isinstance(runs, list) and [r["workers"] for r in runs] == [4]
    assert runs[0]["best_s"] > 0 and runs[0]["nodes_per_s"] > 0
