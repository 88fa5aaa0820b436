"""Log lines name their node, conductor and task: JSON lines on request, readable text by default.

The conductors are real ``celery worker`` processes; their log files are read as written.
"""

from __future__ import annotations

import io
import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest

from app import logs, states
from tests import services
from tests.helpers import create_node, wait_power
from tests.services import LiveAPI, Process, wait_for
from tests.test_metrics import Gunicorn, gunicorn_api  # noqa: F401  (the API under gunicorn)

KEYS = {"time", "level", "logger", "message", "node", "conductor", "task_id"}
CELERY_LINE = re.compile(r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}: (INFO|WARNING)/MainProcess\] ")
TASK_LINE = re.compile(r"Task (\S+): node (\S+) power 'power on'")


def json_lines(text: str) -> list[dict[str, Any]]:
    """Every line from the first JSON one on, parsed: all must be JSON objects.

    Lines before it are what the interpreter printed before logging existed (Celery's
    warning about running as root); Celery's signal handlers print their notices
    (``worker: Warm shutdown (MainProcess)``) straight to stdout, outside logging.
    """
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("{"))
    notices = [line for line in lines[start:] if line.startswith("worker: ")]
    assert notices in ([], ["worker: Warm shutdown (MainProcess)"])
    entries = [json.loads(line) for line in lines[start:] if line.strip() and line not in notices]
    assert all(isinstance(e, dict) and set(e) >= KEYS for e in entries)
    return entries


def _power_on(api: LiveAPI, **fields: Any) -> str:
    node = create_node(api, **fields)
    response = api.put(f"/v1/nodes/{node['uuid']}/states/power", json={"target": states.POWER_ON})
    assert response.status_code == 202, response.text
    assert wait_power(api, node["uuid"])["power_state"] == states.POWER_ON
    return str(node["uuid"])


def _alive(api: LiveAPI, name: str) -> bool:
    rows = api.get("/v1/conductors").json()["conductors"]
    return any(r["hostname"] == name and r["alive"] for r in rows)


def test_json_conductor_lines_carry_node_and_task(
    system: dict[str, object], logdir: Path, run_id: str
) -> None:
    api: LiveAPI = system["api"]  # type: ignore[assignment]
    group = f"json-logs-{run_id}"  # a group of its own: only this conductor gets the node
    name = f"conductor-json-{run_id}@test"
    env = {"IRONWORKS_LOG_FORMAT": "json", "IRONWORKS_CONDUCTOR_GROUP": group}
    conductor = services.start_conductor(name, logdir, env)
    try:
        wait_for(lambda: _alive(api, name), 60, f"{name} alive ({conductor.log_path})")
        node = _power_on(api, conductor_group=group)
    finally:
        conductor.stop()
    entries = json_lines(conductor.log())
    assert {e["conductor"] for e in entries} == {name}
    assert any(e["message"].startswith("init_host ") for e in entries)
    started = next(e for e in entries if TASK_LINE.search(e["message"]))
    task_id = TASK_LINE.search(started["message"]).group(1)  # type: ignore[union-attr]
    assert started["node"] == node and started["task_id"] == task_id
    done = next(e for e in entries if e["message"].startswith(f"Node {node}: power 'power on'"))
    assert done["node"] == node and done["task_id"] == task_id
    assert done["logger"] == "workers.power" and done["level"] == "INFO"
    assert all(e["task_id"] is None for e in entries if e["message"].startswith("init_host "))


def _handled(conductors: dict[str, Process], node: str) -> tuple[str, str]:
    for name, process in conductors.items():
        for line in process.log().splitlines():
            if f"Node {node}: power 'power on' done" in line:
                return name, line
    raise AssertionError(f"no conductor log says node {node} was powered on")


def test_text_lines_keep_celery_format_and_add_the_ids(system: dict[str, object]) -> None:
    api: LiveAPI = system["api"]  # type: ignore[assignment]
    conductors: dict[str, Process] = system["conductors"]  # type: ignore[assignment]
    node = _power_on(api)
    name, line = wait_for(lambda: _handled(conductors, node), 10, "the power log line")
    log = conductors[name].log()
    task_id = next(m.group(1) for m in TASK_LINE.finditer(log) if m.group(2) == node)
    assert CELERY_LINE.match(line)
    assert line.endswith(f" [node={node} task={task_id} conductor={name}]")
    # Lines about no node and no task are exactly Celery's, as before.
    steps = [x for x in log.splitlines() if " init_host " in x]
    assert len(steps) == 8
    assert all(CELERY_LINE.match(x) and "conductor=" not in x for x in steps)
    assert not any(x.lstrip().startswith("{") for x in log.splitlines())


def test_api_under_gunicorn_logs_json_lines(gunicorn_api: Gunicorn) -> None:  # noqa: F811
    assert gunicorn_api.get("/v1/nodes/no-such-node").status_code == 404

    def access_lines() -> list[dict[str, Any]]:
        entries = json_lines(gunicorn_api.process.log())
        return [e for e in entries if "no-such-node" in e["message"]]

    entries = wait_for(access_lines, 10, "the access line")
    assert any(e["logger"] == "gunicorn.access" for e in entries)
    boot = json_lines(gunicorn_api.process.log())
    assert any(e["logger"] == "gunicorn.error" and "Booting worker" in e["message"] for e in boot)


def test_json_records_carry_bound_ids_and_the_exception() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("tests.logs.json")
    logger.addHandler(handler)
    logger.propagate = False
    logs.configure_handlers([logger], "json")
    try:
        with logs.bound(node="node-1", task_id="task-1"):
            try:
                raise ValueError("BMC said no")
            except ValueError:
                logger.exception("Power failed")
        logger.warning("after", extra={"node": "node-2"})
    finally:
        logger.removeHandler(handler)
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert (first["node"], first["task_id"], first["level"]) == ("node-1", "task-1", "ERROR")
    assert first["message"] == "Power failed"
    assert "ValueError: BMC said no" in first["exception"] and "Traceback" in first["exception"]
    assert (second["node"], second["task_id"]) == ("node-2", None) and "exception" not in second


@pytest.mark.parametrize("value", ["xml", "JSONL"])
def test_unknown_log_format_is_refused(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.config import Settings

    monkeypatch.setenv("IRONWORKS_LOG_FORMAT", value)
    with pytest.raises(ValueError, match="IRONWORKS_LOG_FORMAT"):
        Settings.from_env()
