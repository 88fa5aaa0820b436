"""python-ironicclient's ``baremetal`` CLI drives Ironworks unchanged."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.services import LiveAPI


@pytest.fixture(scope="module")
def cli(system: dict[str, object], api: LiveAPI) -> Any:
    exe = shutil.which("baremetal", path=str(Path(sys.executable).parent)) or "baremetal"

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        argv = [exe, "--os-endpoint", api.url, "--os-auth-type", "none", *args]
        out = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        if check:
            assert out.returncode == 0, f"{args}: {out.stderr}"
        return out

    return run


def _show(cli: Any, node: str, *fields: str) -> dict[str, Any]:
    columns = [arg for field in fields for arg in ("-c", field)]
    return dict(json.loads(cli("node", "show", node, "-f", "json", *columns).stdout))


def test_cli_single_node_lifecycle(cli: Any) -> None:
    name = f"cli-{uuid.uuid4().hex[:8]}"
    created = json.loads(
        cli("node", "create", "--driver", "fake-hardware", "--name", name, "-f", "json").stdout
    )
    assert created["provision_state"] == "enroll"
    assert _show(cli, name, "uuid")["uuid"] == created["uuid"]
    cli("node", "set", name, "--extra", "rack=r1")
    assert _show(cli, name, "extra")["extra"] == {"rack": "r1"}
    cli("node", "unset", name, "--extra", "rack")
    assert _show(cli, name, "extra")["extra"] == {}

    cli("node", "power", "on", name, "--power-timeout", "30")
    assert _show(cli, name, "power_state")["power_state"] in ("power on", "power off")
    cli("node", "power", "off", name, "--power-timeout", "30")

    for verb, expected in [
        ("manage", "manageable"),
        ("provide", "available"),
        ("deploy", "active"),
        ("undeploy", "available"),
    ]:
        cli("node", verb, name, "--wait", "60")
        assert _show(cli, name, "provision_state")["provision_state"] == expected

    port = json.loads(
        cli("port", "create", "52:54:00:c1:1c:01", "--node", created["uuid"], "-f", "json").stdout
    )
    listed = json.loads(cli("port", "list", "--node", name, "-f", "json").stdout)
    assert [p["address"] for p in listed] == ["52:54:00:c1:1c:01"]
    cli("port", "delete", port["uuid"])
    assert json.loads(cli("port", "list", "--node", name, "-f", "json").stdout) == []

    validation = json.loads(cli("node", "validate", name, "-f", "json").stdout)
    results = {row["Interface"]: row["Result"] for row in validation}
    assert results["power"] is True and results["deploy"] is True

    cli("node", "maintenance", "set", name, "--reason", "cli test")
    shown = _show(cli, name, "maintenance", "maintenance_reason")
    assert shown == {"maintenance": True, "maintenance_reason": "cli test"}
    cli("node", "maintenance", "unset", name)
    assert _show(cli, name, "maintenance")["maintenance"] is False

    history = json.loads(cli("node", "history", "list", name, "-f", "json").stdout)
    assert any("manageable" in row["event"] for row in history)

    cli("node", "delete", name)
    missing = cli("node", "show", name, check=False)
    assert missing.returncode != 0 and "could not be found" in missing.stderr


def test_cli_power_reaches_state(cli: Any, api: LiveAPI) -> None:
    name = f"cli-{uuid.uuid4().hex[:8]}"
    cli("node", "create", "--driver", "fake-hardware", "--name", name)
    cli("node", "power", "on", name)

    def powered() -> bool:
        return bool(api.get(f"/v1/nodes/{name}").json()["power_state"] == "power on")

    from tests.services import wait_for

    wait_for(powered, 10, "power on")


def test_cli_many_nodes_in_one_command(cli: Any) -> None:
    tag = uuid.uuid4().hex[:6]
    names = [f"cli-bulk-{tag}-{i}" for i in range(10)]
    for name in names:
        cli("node", "create", "--driver", "fake-hardware", "--name", name)
    for verb in ("manage", "provide", "deploy", "undeploy"):
        cli("node", verb, *names, "--wait", "120")
    listing = json.loads(
        cli("node", "list", "--provision-state", "available", "-f", "json", "--limit", "0").stdout
    )
    assert set(names) <= {row["name"] for row in listing}
    missing = cli("node", "show", "no-such-node", check=False)
    assert missing.returncode != 0 and "could not be found" in missing.stderr


def _json(cli: Any, *args: str) -> Any:
    return json.loads(cli(*args, "-f", "json").stdout)


def test_cli_traits_vifs_and_port_groups(cli: Any) -> None:
    name = f"cli-{uuid.uuid4().hex[:8]}"
    node = _json(cli, "node", "create", "--driver", "fake-hardware", "--name", name)
    cli("node", "add", "trait", name, "CUSTOM_GOLD", "HW_CPU_X86_AVX2")
    traits = cli("node", "trait", "list", name, "-f", "value").stdout.split()
    assert sorted(traits) == ["CUSTOM_GOLD", "HW_CPU_X86_AVX2"]
    cli("node", "remove", "trait", name, "CUSTOM_GOLD")
    assert cli("node", "trait", "list", name, "-f", "value").stdout.split() == ["HW_CPU_X86_AVX2"]
    group = _json(cli, "port", "group", "create", "--node", node["uuid"], "--name", f"{name}-bond")
    mac = "52:54:03:" + ":".join(f"{b:02x}" for b in uuid.uuid4().bytes[:3])
    port = _json(cli, "port", "create", mac, "--node", node["uuid"], "--port-group", group["uuid"])
    assert port["portgroup_uuid"] == group["uuid"]
    vif = str(uuid.uuid4())
    cli("node", "vif", "attach", name, vif)
    assert cli("node", "vif", "list", name, "-f", "value").stdout.split() == [vif]
    cli("node", "vif", "detach", name, vif)
    assert cli("node", "vif", "list", name, "-f", "value").stdout.split() == []


def test_cli_allocations_templates_and_volumes(cli: Any) -> None:
    rc = f"cli-{uuid.uuid4().hex[:8]}"
    node = _json(cli, "node", "create", "--driver", "fake-hardware", "--resource-class", rc)
    for verb in ("manage", "provide"):
        cli("node", verb, node["uuid"], "--wait", "60")
    allocation = _json(cli, "allocation", "create", "--resource-class", rc, "--wait", "30")
    assert allocation["state"] == "active" and allocation["node_uuid"] == node["uuid"]
    cli("allocation", "delete", allocation["uuid"])
    steps = json.dumps(
        [{"interface": "bios", "step": "apply_configuration", "args": {}, "priority": 10}]
    )
    template = _json(
        cli,
        "deploy",
        "template",
        "create",
        f"CUSTOM_{rc.upper().replace('-', '_')}",
        "--steps",
        steps,
    )
    assert template["steps"][0]["priority"] == 10
    cli("deploy", "template", "delete", template["uuid"])
    connector = _json(
        cli,
        "volume",
        "connector",
        "create",
        "--node",
        node["uuid"],
        "--type",
        "iqn",
        "--connector-id",
        f"iqn.2017-07.org.openstack:{rc}",
    )
    assert connector["node_uuid"] == node["uuid"]
    chassis = _json(cli, "chassis", "create", "--description", rc)
    assert _json(cli, "chassis", "show", chassis["uuid"])["description"] == rc
