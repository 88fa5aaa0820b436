"""The broker restarts mid-run (losing what it held): the system recovers by itself.

A whole Ironworks of its own (broker, API, conductor, beat) runs here as subprocesses on a
throwaway redis-server, so restarting that broker disturbs no other test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.services import (
    Process,
    answers,
    free_port,
    start_conductor,
    wait_for,
)


class Broker:
    def __init__(self, workdir: Path) -> None:
        from workers.broker import redis_argv

        self.port = free_port()
        self.argv = redis_argv(self.port, str(workdir))
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.DEVNULL)
        wait_for(lambda: answers("127.0.0.1", self.port), 10, "redis to start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)


@pytest.fixture
def own_system(logdir: Path, run_id: str) -> Iterator[tuple[Broker, str, str]]:
    broker = Broker(logdir)
    broker.start()
    group = f"restart-{run_id}"
    env = {
        "IRONWORKS_BROKER_URL": f"redis://127.0.0.1:{broker.port}/0",
        "IRONWORKS_CONDUCTOR_GROUP": group,
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # the subprocesses below inherit it
    port = free_port()
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    api = Process(
        "restart-api",
        [gunicorn, "-b", f"127.0.0.1:{port}", "--threads", "4", "app.wsgi:app"],
        logdir,
        dict(os.environ),
    )
    from tests.services import start_beat

    beat = start_beat(logdir)
    conductor = start_conductor(f"restart-{run_id}@test", logdir, env)
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key)
        else:
            os.environ[key] = value
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _alive(url, f"restart-{run_id}@test"), 60, "own conductor alive")
        yield broker, url, group
    finally:
        for proc in (conductor, beat, api):
            proc.stop()
        broker.stop()


def _alive(url: str, name: str) -> bool:
    try:
        rows = requests.get(f"{url}/v1/conductors", timeout=5).json()["conductors"]
    except (requests.RequestException, ValueError):
        return False
    return any(r["hostname"] == name and r["alive"] for r in rows)


def _power(url: str, node: str) -> int:
    return requests.put(
        f"{url}/v1/nodes/{node}/states/power", json={"target": "power on"}, timeout=10
    ).status_code


def test_broker_restart_mid_run(own_system: tuple[Broker, str, str]) -> None:
    broker, url, group = own_system
    headers = {"X-OpenStack-Ironic-API-Version": "latest"}
    nodes = []
    for _ in range(20):
        body = {
            "driver": "fake-hardware",
            "name": f"rs-{uuid.uuid4().hex[:8]}",
            "conductor_group": group,
        }
        nodes.append(
            requests.post(f"{url}/v1/nodes", json=body, headers=headers, timeout=10).json()["uuid"]
        )
    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda n: _power(url, n), nodes))
    assert set(codes) == {202}
    broker.stop()  # mid-run: queued requests are lost with it
    stopped = time.monotonic()
    down = _power(url, nodes[0])
    assert down in (409, 503)  # never a 500, never a hang
    time.sleep(1)
    broker.start()

    def all_unlocked() -> bool:
        listed = requests.get(
            f"{url}/v1/nodes/detail", params={"conductor_group": group}, timeout=10
        ).json()["nodes"]
        return all(n["reservation"] is None and n["target_power_state"] is None for n in listed)

    wait_for(all_unlocked, 60, "every lock to be released after the restart")
    wait_for(lambda: _power(url, nodes[1]) == 202, 30, "requests to be accepted again")

    def powered() -> bool:
        node = requests.get(f"{url}/v1/nodes/{nodes[1]}", timeout=10).json()
        return bool(node["power_state"] == "power on" and node["reservation"] is None)

    wait_for(powered, 30, "a request after the restart to complete")
    print(f"\nbroker restart: recovered {time.monotonic() - stopped:.1f}s after the broker stopped")
