"""The ``ironworks`` console script, run as a subprocess against the live test system.

The subprocesses inherit the suite's ``IRONWORKS_*`` environment (tests/conftest.py), so
``db``, ``status`` and ``conductor`` see the same database and broker as the conductors, and
the ``node`` commands talk to the live API over HTTP.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path

from tests.helpers import LATEST, create_node, fault
from tests.services import ROOT, LiveAPI, free_port, start_conductor, wait_for

IRONWORKS = shutil.which("ironworks", path=str(Path(sys.executable).parent)) or str(
    ROOT / ".venv" / "bin" / "ironworks"
)


def ironworks(
    *args: str, env: dict[str, str] | None = None, timeout: float = 90
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [IRONWORKS, *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def section(output: str, title: str) -> list[list[str]]:
    """The table rows (cells split on 2+ spaces) under the section starting with ``title``."""
    block = output.split(f"\n{title}", 1)[1].split("\n\n", 1)[0]
    lines = block.splitlines()[2:]  # the title's rest, then the header
    return [re.split(r"\s{2,}", line.strip()) for line in lines if line.strip()]


def test_db_upgrade_brings_a_fresh_database_to_head(tmp_path: Path) -> None:
    from alembic.script import ScriptDirectory

    from app.db.migrate import alembic_config

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    env = {"IRONWORKS_DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite'}"}
    first = ironworks("db", "upgrade", env=env)
    assert first.returncode == 0, first.stderr
    assert "before:   (empty database)" in first.stdout
    assert f"after:    {head} (head)" in first.stdout
    again = ironworks("db", "upgrade", env=env)
    assert again.returncode == 0, again.stderr
    assert f"before:   {head}" in again.stdout and "unchanged" in again.stdout


def test_status_shows_conductors_ring_queues_and_node_states(
    system: dict[str, object], api: LiveAPI
) -> None:
    names = set(system["conductors"])  # type: ignore[call-overload]
    node = create_node(api)
    power = api.put(f"/v1/nodes/{node['uuid']}/states/power", json={"target": "power on"})
    assert power.status_code == 202, power.text
    out = ironworks("status")
    assert out.returncode == 0, out.stderr

    conductors = {row[0]: row for row in section(out.stdout, "Conductors:")}
    for name in names:
        assert conductors[name][2] == "alive" and "fake-hardware" in conductors[name][4]
    nodes = api.get("/v1/nodes/detail", headers=LATEST).json()["nodes"]
    owned = {row[0]: int(row[1]) for row in section(out.stdout, "Hash ring:")}
    expected = Counter(n["conductor"] or "(no live conductor)" for n in nodes)
    assert owned == {name: expected[name] for name in owned} and set(expected) <= set(owned)
    assert node["name"] and sum(owned.values()) == len(nodes)
    queues = {row[0]: int(row[1]) for row in section(out.stdout, "Queues:")}
    assert {f"conductor.{name}" for name in names} <= set(queues)
    by_state = {row[0]: int(row[1]) for row in section(out.stdout, "Nodes:")}
    assert by_state == Counter(n["provision_state"] for n in nodes)


def test_node_list_and_show(api: LiveAPI) -> None:
    node = create_node(api)
    listed = ironworks("node", "list", "--url", api.url, "--provision-state", "enroll")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[0].split() == [
        "UUID",
        "NAME",
        "POWER_STATE",
        "PROVISION_STATE",
        "MAINTENANCE",
    ]
    row = next(line.split() for line in listed.stdout.splitlines() if node["uuid"] in line)
    assert row[:2] == [node["uuid"], node["name"]] and row[3:] == ["enroll", "no"]
    fields = ironworks("node", "list", "--url", api.url, "--fields", "name,driver")
    assert [node["name"], "fake-hardware"] in [line.split() for line in fields.stdout.splitlines()]
    shown = ironworks("node", "show", node["name"], "--url", api.url)
    assert shown.returncode == 0, shown.stderr
    values = dict(line.split(None, 1) for line in shown.stdout.splitlines()[1:])
    assert values["uuid"].strip() == node["uuid"]
    assert values["driver"].strip() == "fake-hardware"


def test_power_on_waits_until_the_node_is_on(system: dict[str, object], api: LiveAPI) -> None:
    node = create_node(api)
    out = ironworks("node", "power", node["name"], "on", "--wait", "--url", api.url)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[-1].startswith(f"{node['name']}: power on (")
    assert api.get(f"/v1/nodes/{node['uuid']}/states").json()["power_state"] == "power on"


def test_power_failure_is_one_line_and_exit_1(system: dict[str, object], api: LiveAPI) -> None:
    node = create_node(api, driver_info={"fake_fail": "power", "fake_fail_message": "BMC on fire"})
    out = ironworks("node", "power", node["uuid"], "on", "--wait", "--url", api.url)
    assert out.returncode == 1
    assert out.stderr.count("\n") == 1 and "BMC on fire" in out.stderr


def test_provision_manage_waits_until_manageable(system: dict[str, object], api: LiveAPI) -> None:
    node = create_node(api)
    out = ironworks("node", "provision", node["uuid"], "manage", "--wait", "--url", api.url)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[-1].startswith(f"{node['uuid']}: manageable (")
    states = api.get(f"/v1/nodes/{node['uuid']}/states").json()
    assert states["provision_state"] == "manageable" and states["last_error"] is None


def test_unknown_node_shows_the_api_message_and_exits_1(api: LiveAPI) -> None:
    message = fault(api.get("/v1/nodes/no-such-node"))
    out = ironworks("node", "show", "no-such-node", "--url", api.url)
    assert out.returncode == 1
    assert out.stderr == f"ironworks: {message} (HTTP 404)\n"
    refused = ironworks("node", "provision", "no-such-node", "manage", "--url", api.url)
    assert refused.returncode == 1 and message in refused.stderr


def test_refused_url_exits_2() -> None:
    out = ironworks("node", "list", "--url", f"http://127.0.0.1:{free_port()}")
    assert out.returncode == 2
    assert "connection refused" in out.stderr and out.stdout == ""


def test_conductor_drain_waits_until_it_stopped(
    system: dict[str, object], api: LiveAPI, logdir: Path, run_id: str
) -> None:
    name = f"cli-drain-{run_id}@test"
    proc = start_conductor(name, logdir, {"IRONWORKS_CONDUCTOR_GROUP": f"cli-{run_id}"})
    try:
        wait_for(
            lambda: name in api.get("/v1/drivers/fake-hardware").json()["hosts"],
            60,
            "the conductor to be alive",
        )
        out = ironworks("conductor", "drain", name, "--wait", "--timeout", "30")
        assert out.returncode == 0, out.stderr
        assert "draining" in out.stdout
        assert out.stdout.splitlines()[-1].startswith(f"{name}: stopped; 0 queued, 0 locks held")
        assert proc.proc.wait(30) == 0
        row = api.get(f"/v1/conductors/{name}").json()
        assert row["alive"] is False
    finally:
        proc.stop()


def test_drain_of_an_unknown_conductor_exits_1(system: dict[str, object]) -> None:
    out = ironworks("conductor", "drain", "nobody@nowhere")
    assert out.returncode == 1 and "no conductor called nobody@nowhere" in out.stderr


def test_malformed_url_is_one_line_not_a_traceback() -> None:
    out = ironworks("node", "show", "x", "--url", "http://[::1")
    assert out.returncode == 2 and out.stderr.startswith("ironworks: "), out.stderr
    assert "Traceback" not in out.stderr


def test_node_commands_authenticate_with_http_basic(
    system: dict[str, object], api: LiveAPI, logdir: Path, tmp_path: Path
) -> None:
    import bcrypt

    password = "cli-" + uuid.uuid4().hex
    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()
    htpasswd = tmp_path / "htpasswd"
    htpasswd.write_text(f"operator:$2y${hashed[4:]}\n")
    secure = LiveAPI(
        env={
            "IRONWORKS_AUTH_STRATEGY": "http_basic",
            "IRONWORKS_HTPASSWD_FILE": str(htpasswd),
            "IRONWORKS_ADMIN_USERS": "operator",
        },
        logdir=logdir,
    )
    try:
        node = create_node(api)
        anonymous = ironworks("node", "show", node["name"], "--url", secure.url)
        assert anonymous.returncode == 1 and "(HTTP 401)" in anonymous.stderr
        options = ironworks(
            "node",
            "show",
            node["name"],
            "--url",
            secure.url,
            "--user",
            "operator",
            "--password",
            password,
        )
        assert options.returncode == 0 and node["uuid"] in options.stdout, options.stderr
        credentials = {"IRONWORKS_API_USER": "operator", "IRONWORKS_API_PASSWORD": password}
        powered = ironworks(
            "node", "power", node["name"], "on", "--wait", "--url", secure.url, env=credentials
        )
        assert powered.returncode == 0, powered.stderr
        assert powered.stdout.splitlines()[-1].startswith(f"{node['name']}: power on (")
    finally:
        secure.stop()
