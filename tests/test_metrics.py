"""Prometheus metrics: the API's /metrics and each conductor's own endpoint, scraped for real."""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from app import exceptions, states
from app.db import nodes as node_db
from tests.helpers import LATEST, create_node, wait_power
from tests.services import LiveAPI, Process, free_port, wait_for
from tests.test_power_sync import _node, manager  # noqa: F401  (an in-process conductor)
from workers import metrics as conductor_metrics
from workers import task_manager
from workers.manager import ConductorManager
from workers.periodic import power_sync

NODE_RULE = "/v1/nodes/<string:ident>"
POWER_TASK = "ironworks.node.set_power_state"


@pytest.fixture
def live_api(system: dict[str, object]) -> LiveAPI:
    """The API with conductors alive (creating a node needs one for its driver)."""
    api = system["api"]
    assert isinstance(api, LiveAPI)
    return api


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(text: str, name: str, **labels: str) -> float:
    """A sample of a Prometheus text exposition; 0 when the series does not exist yet."""
    return _samples(text).get((name, frozenset(labels.items())), 0.0)


def scrape(api: LiveAPI) -> str:
    response = api.get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    return response.text


def test_requests_are_counted_per_url_rule_method_and_status(live_api: LiveAPI) -> None:
    api = live_api
    before = scrape(api)
    node = create_node(api)
    for ident in (node["uuid"], node["name"], node["uuid"]):
        assert api.get(f"/v1/nodes/{ident}", headers=LATEST).status_code == 200
    assert api.get(f"/v1/nodes/{uuid.uuid4()}").status_code == 404
    assert api.get("/no/such/path").status_code == 404
    after = scrape(api)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    total = "ironworks_api_requests_total"
    assert delta(total, endpoint=NODE_RULE, method="GET", status="200") == 3
    assert delta(total, endpoint=NODE_RULE, method="GET", status="404") == 1
    assert delta(total, endpoint="/v1/nodes", method="POST", status="201") == 1
    assert delta(total, endpoint="<unmatched>", method="GET", status="404") == 1
    latency = "ironworks_api_request_duration_seconds"
    assert delta(f"{latency}_count", endpoint=NODE_RULE, method="GET") == 4
    assert delta(f"{latency}_bucket", endpoint=NODE_RULE, method="GET", le="+Inf") == 4
    assert delta(f"{latency}_sum", endpoint=NODE_RULE, method="GET") > 0
    # Bounded labels: no raw path, no scrape of /metrics itself.
    assert node["uuid"] not in after and node["name"] not in after
    assert 'endpoint="/metrics"' not in after


def test_metrics_is_outside_v1_and_the_openapi_document(api: LiveAPI) -> None:
    assert api.get("/v1/metrics").status_code == 404
    assert "/metrics" not in api.get("/v1/swagger.json").json()["paths"]


def test_node_state_gauges_are_read_from_the_database(live_api: LiveAPI) -> None:
    api = live_api
    by_provision = "ironworks_nodes_by_provision_state"
    by_power = "ironworks_nodes_by_power_state"
    before = scrape(api)
    first, second = create_node(api), create_node(api)
    middle = scrape(api)
    assert value(middle, by_provision, provision_state="enroll") == (
        value(before, by_provision, provision_state="enroll") + 2
    )
    assert value(middle, by_power, power_state="None") == (
        value(before, by_power, power_state="None") + 2
    )
    assert api.delete(f"/v1/nodes/{first['uuid']}").status_code == 204
    after = scrape(api)
    assert value(after, by_provision, provision_state="enroll") == (
        value(before, by_provision, provision_state="enroll") + 1
    )
    assert api.delete(f"/v1/nodes/{second['uuid']}").status_code == 204
    assert value(scrape(api), by_provision, provision_state="enroll") == (
        value(before, by_provision, provision_state="enroll")
    )


def _conductor_scrape(process: Process) -> str:
    assert process.metrics_port is not None
    response = requests.get(f"http://127.0.0.1:{process.metrics_port}/metrics", timeout=5)
    assert response.status_code == 200
    return response.text


def test_conductors_serve_their_own_metrics(system: dict[str, object]) -> None:
    api: LiveAPI = system["api"]  # type: ignore[assignment]
    conductors: dict[str, Process] = system["conductors"]  # type: ignore[assignment]
    assert value(scrape(api), "ironworks_conductors", alive="true") >= 2
    for name, process in conductors.items():
        text = _conductor_scrape(process)
        assert value(text, "ironworks_conductor_info", conductor=name) == 1

    def tasks(outcome: str) -> float:
        return sum(
            value(
                _conductor_scrape(p),
                "ironworks_conductor_tasks_total",
                task=POWER_TASK,
                outcome=outcome,
            )
            for p in conductors.values()
        )

    def lock_waits() -> float:
        name = "ironworks_conductor_lock_wait_seconds_count"
        return sum(value(_conductor_scrape(p), name) for p in conductors.values())

    ran, waits = tasks("success"), lock_waits()
    node = create_node(api)
    put = api.put(f"/v1/nodes/{node['uuid']}/states/power", json={"target": states.POWER_ON})
    assert put.status_code == 202, put.text
    assert wait_power(api, node["uuid"])["power_state"] == states.POWER_ON
    wait_for(lambda: tasks("success") == ran + 1, 10, "the power task to be counted")
    assert lock_waits() >= waits + 1  # the task adopted the lock the API took for it
    assert tasks("failure") == 0
    # Beat drives power sync every 2 s in the tests: each conductor times its passes.
    for process in conductors.values():
        wait_for(
            lambda p=process: (
                value(  # type: ignore[misc]
                    _conductor_scrape(p), "ironworks_conductor_power_sync_duration_seconds_count"
                )
                >= 1
            ),
            15,
            "a timed power-sync pass",
        )


def _sample(name: str, **labels: str) -> float:
    return conductor_metrics.REGISTRY.get_sample_value(name, labels) or 0.0


def _lock(conductor: ConductorManager, node: str) -> None:
    with task_manager.acquire(conductor, node):
        pass


def test_lock_conflicts_are_counted(manager: ConductorManager) -> None:  # noqa: F811
    node = _node(manager)
    held = _sample("ironworks_conductor_lock_conflicts_total", reason="held")
    busy = _sample("ironworks_conductor_lock_conflicts_total", reason="busy")
    with task_manager.acquire(manager, node), pytest.raises(exceptions.NodeLocked):
        _lock(manager, node)  # a second task on the node here: refused at once
    assert _sample("ironworks_conductor_lock_conflicts_total", reason="busy") == busy + 1
    node_db.reserve(node, "conductor-x")
    with pytest.raises(exceptions.NodeLocked, match="conductor-x"):
        _lock(manager, node)
    assert _sample("ironworks_conductor_lock_conflicts_total", reason="held") == held + 1


def test_power_sync_pass_and_drift_are_counted(manager: ConductorManager) -> None:  # noqa: F811
    _node(manager, fake_power_state=states.POWER_OFF)  # recorded on, hardware off: drift
    passes = _sample("ironworks_conductor_power_sync_duration_seconds_count")
    drift = _sample("ironworks_conductor_power_sync_drift_total")
    report = power_sync.sync_power_states(manager)
    assert report is not None and len(report.drift) == 1
    assert _sample("ironworks_conductor_power_sync_duration_seconds_count") == passes + 1
    assert _sample("ironworks_conductor_power_sync_drift_total") == drift + 1


@dataclass
class Gunicorn:
    process: Process
    url: str
    metrics_dir: Path

    def get(self, path: str) -> requests.Response:
        return requests.get(self.url + path, timeout=10)  # a new connection each time


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except (requests.ConnectionError, requests.Timeout):
        return False


@pytest.fixture(scope="module")
def gunicorn_api(logdir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gunicorn]:
    """The API as the Procfile runs it: gunicorn with two worker processes, multiprocess
    metrics in a fresh PROMETHEUS_MULTIPROC_DIR, Ironworks' gunicorn logger, JSON logs."""
    port = free_port()
    metrics_dir = tmp_path_factory.mktemp("prometheus-api")
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    argv = [gunicorn, "--bind", f"127.0.0.1:{port}", "--workers", "2", "--access-logfile", "-"]
    argv += ["--logger-class", "app.gunicorn_logging.GunicornLogger", "app.wsgi:app"]
    env = {"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), "IRONWORKS_LOG_FORMAT": "json"}
    process = Process(f"gunicorn-{port}", argv, logdir, {**os.environ, **env})
    server = Gunicorn(process, f"http://127.0.0.1:{port}", metrics_dir)
    wait_for(lambda: _answers(server.url + "/"), 60, f"gunicorn ({process.log_path})", 0.2)
    yield server
    process.stop()


def test_gunicorn_workers_are_summed_in_multiprocess_mode(gunicorn_api: Gunicorn) -> None:
    def both_workers_counted() -> bool:
        with ThreadPoolExecutor(8) as pool:  # concurrent: both sync workers take some
            codes = list(pool.map(lambda _: gunicorn_api.get("/v1/").status_code, range(16)))
        assert codes == [200] * 16
        sent.append(16)
        return len(list(gunicorn_api.metrics_dir.glob("counter_*.db"))) >= 2

    sent: list[int] = []
    wait_for(both_workers_counted, 30, "requests served by both gunicorn workers", 0)
    for _ in range(4):  # whichever worker answers the scrape, it reports every worker's count
        text = gunicorn_api.get("/metrics").text
        counted = value(
            text, "ironworks_api_requests_total", endpoint="/v1/", method="GET", status="200"
        )
        assert counted == sum(sent)
