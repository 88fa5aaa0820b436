"""Hardening found by probing (issue 14), each fixed as a class: concurrent port writes,
Ironic's port rules, reachable names and any-spelling identifiers, noauth off loopback, the
host's files and embedded broker, and the failed-login budget. Secrets are in
``test_security.py``.
"""

from __future__ import annotations

import secrets
import socket
import stat
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from app.db import nodes as node_db
from tests import helpers
from tests.helpers import fault, random_mac
from tests.secure_api import as_user
from tests.services import LiveAPI

# 4. Every read-modify-write is guarded: concurrent port PATCHes lose nothing.


def _new_port(api: LiveAPI, node: dict[str, Any], **fields: Any) -> dict[str, Any]:
    response = api.post(
        "/v1/ports", json={"address": random_mac(), "node_uuid": node["uuid"], **fields}
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_concurrent_port_patches_lose_no_update(system: dict[str, object], api: LiveAPI) -> None:
    port = _new_port(api, helpers.create_node(api))
    path = f"/v1/ports/{port['uuid']}"

    def add_key(i: int) -> list[int]:
        codes = []
        for _attempt in range(50):
            ops = [{"op": "add", "path": f"/extra/k{i}", "value": i}]
            codes.append(api.request("PATCH", path, json=ops).status_code)
            if codes[-1] != 409:
                break
        return codes

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(add_key, range(20)))
    assert all(codes[-1] == 200 for codes in results), results
    assert set(api.get(path).json()["extra"]) == {f"k{i}" for i in range(20)}


# 8. Ports of locked or active nodes follow Ironic's rules.


def test_ports_of_a_locked_node_cannot_change(system: dict[str, object], api: LiveAPI) -> None:
    node = helpers.create_node(api)
    port = _new_port(api, node)
    other = helpers.create_node(api)
    node_db.reserve(node["uuid"], "holder@test")
    try:
        path = f"/v1/ports/{port['uuid']}"
        for ops in (
            [{"op": "replace", "path": "/address", "value": random_mac()}],
            [{"op": "add", "path": "/extra/a", "value": 1}],
            [{"op": "replace", "path": "/node_uuid", "value": other["uuid"]}],
        ):
            response = api.request("PATCH", path, json=ops)
            assert response.status_code == 409 and "holder@test" in fault(response), ops
        assert api.delete(path).status_code == 409
        _new_port(api, node)  # creating one is allowed (Ironic: a shared lock)
    finally:
        node_db.release(node["uuid"], "holder@test")
    assert api.request("PATCH", path, json=[{"op": "add", "path": "/extra/a", "value": 1}]).ok


def test_ports_of_an_active_node_keep_their_address(
    system: dict[str, object], api: LiveAPI
) -> None:
    node = helpers.create_node(api)
    port = _new_port(api, node)
    other = helpers.create_node(api)
    helpers.provision(api, node["uuid"], "manage", "manageable")
    helpers.provision(api, node["uuid"], "provide", "available")
    helpers.provision(api, node["uuid"], "active", "active")
    path = f"/v1/ports/{port['uuid']}"
    for ops in (
        [{"op": "replace", "path": "/address", "value": random_mac()}],
        [{"op": "replace", "path": "/node_uuid", "value": other["uuid"]}],
        [{"op": "replace", "path": "/pxe_enabled", "value": False}],
    ):
        response = api.request("PATCH", path, json=ops)
        assert response.status_code == 409, (ops, response.text)
    assert api.delete(path).status_code == 409
    ok = api.request("PATCH", path, json=[{"op": "add", "path": "/extra/a", "value": 1}])
    assert ok.status_code == 200, ok.text
    maintenance = api.put(f"/v1/nodes/{node['uuid']}/maintenance", json={"reason": "swap nic"})
    assert maintenance.status_code == 202, maintenance.text
    new_mac = random_mac()
    ops = [{"op": "replace", "path": "/address", "value": new_mac}]
    assert api.request("PATCH", path, json=ops).json()["address"] == new_mac
    assert api.delete(path).status_code == 204


# 10. Every name is reachable; every UUID and MAC matches whatever spelling it came in.


@pytest.mark.parametrize("name", ["detail", ".", ".."])
def test_unreachable_names_are_refused(system: dict[str, object], api: LiveAPI, name: str) -> None:
    response = api.post("/v1/nodes", json={"driver": "fake-hardware", "name": name})
    assert response.status_code == 400 and "reserved" in fault(response)
    node = helpers.create_node(api)
    ops = [{"op": "replace", "path": "/name", "value": name}]
    assert api.request("PATCH", f"/v1/nodes/{node['uuid']}", json=ops).status_code == 400


def test_uuids_match_in_any_spelling(system: dict[str, object], api: LiveAPI) -> None:
    node = helpers.create_node(api)
    port = _new_port(api, node)
    for spelling in (str.upper, lambda u: u.replace("-", ""), lambda u: "{" + u.upper() + "}"):
        assert api.get(f"/v1/nodes/{spelling(node['uuid'])}").json()["uuid"] == node["uuid"]
        assert api.get(f"/v1/ports/{spelling(port['uuid'])}").json()["uuid"] == port["uuid"]
        listed = api.get("/v1/nodes", params={"marker": spelling(node["uuid"])})
        assert listed.status_code == 200, listed.text
        mine = api.get("/v1/ports", params={"node_uuid": spelling(node["uuid"])}).json()
        assert [p["uuid"] for p in mine["ports"]] == [port["uuid"]]


def test_mac_filter_normalises_as_create_does(system: dict[str, object], api: LiveAPI) -> None:
    port = _new_port(api, helpers.create_node(api))
    for spelling in (port["address"].upper(), port["address"].replace(":", "-")):
        found = api.get("/v1/ports", params={"address": spelling}).json()["ports"]
        assert [p["uuid"] for p in found] == [port["uuid"]], spelling
    assert api.get("/v1/ports", params={"address": "not-a-mac"}).status_code == 400


# 5. noauth serves loopback only, whatever address the server was told to bind.


def test_noauth_refuses_requests_that_arrive_off_loopback(system: dict[str, object]) -> None:
    from app.api import create_app
    from app.api.auth import is_loopback

    public = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    loop = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        try:
            public.connect(("192.0.2.1", 9))  # TEST-NET-1: a UDP connect sends nothing
        except OSError:
            pytest.skip("this machine has no address off loopback")
        if is_loopback(public.getsockname()[0]):
            pytest.skip("this machine has no address off loopback")
        loop.connect(("127.0.0.1", 9))
        client = create_app(migrate_db=False).test_client()
        refused = client.get("/v1/nodes", environ_base={"gunicorn.socket": public})
        assert refused.status_code == 403, refused.get_data(as_text=True)
        assert "loopback" in refused.get_data(as_text=True)
        assert client.get("/", environ_base={"werkzeug.socket": public}).status_code == 403
        assert client.get("/v1/nodes", environ_base={"gunicorn.socket": loop}).status_code == 200
    finally:
        public.close()
        loop.close()


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.9.9.9", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("example.com", False),
    ],
)
def test_loopback_addresses(host: str, loopback: bool) -> None:
    from app.api.auth import is_loopback

    assert is_loopback(host) is loopback


# 9. What the host keeps is its owner's alone, and the embedded broker wants a password.


def test_state_dir_sqlite_file_and_broker_password_are_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app import config
    from app.db.engine import build_engine

    monkeypatch.setenv("IRONWORKS_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("IRONWORKS_DATABASE_URL", raising=False)
    monkeypatch.delenv("IRONWORKS_BROKER_URL", raising=False)
    directory = config.state_dir()
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    settings = config.Settings.from_env()
    engine = build_engine(settings.database_url)
    with engine.connect() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    engine.dispose()
    assert stat.S_IMODE((directory / "ironworks.sqlite").stat().st_mode) == 0o600
    password = config.embedded_broker_password()
    assert len(password) >= 24 and password in settings.broker_url
    assert config.embedded_broker_password() == password  # every process reads the same
    assert stat.S_IMODE((directory / "broker.password").stat().st_mode) == 0o600


def test_embedded_broker_refuses_clients_without_its_password(tmp_path: Path) -> None:
    import redis

    from tests.services import free_port, wait_for
    from workers.broker import redis_argv

    port = free_port()
    argv = redis_argv(port, str(tmp_path), "s3cret-" + secrets.token_hex(8))
    assert not any("s3cret" in arg for arg in argv)  # never on the command line
    assert stat.S_IMODE((tmp_path / "broker.conf").stat().st_mode) == 0o600
    server = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        anonymous = redis.Redis(port=port, socket_timeout=2)

        def refuses() -> bool:
            try:
                anonymous.ping()
            except redis.AuthenticationError:
                return True
            except redis.ConnectionError as exc:
                return "NOAUTH" in str(exc) or "Authentication" in str(exc)
            return False

        assert wait_for(refuses, 10, "the broker to answer")
        password = (tmp_path / "broker.conf").read_text().split()[1]
        assert redis.Redis(port=port, password=password).ping()
    finally:
        server.terminate()
        server.wait(10)


# The failed-login budget.


def test_password_guessing_is_refused_with_429(
    system: dict[str, object], logdir: Path, htpasswd: Path
) -> None:
    env = {
        "IRONWORKS_AUTH_STRATEGY": "http_basic",
        "IRONWORKS_HTPASSWD_FILE": str(htpasswd),
        "IRONWORKS_ADMIN_USERS": "admin",
        "IRONWORKS_AUTH_FAILURE_LIMIT": "3",
        "IRONWORKS_AUTH_FAILURE_WINDOW": "30",
    }
    live = LiveAPI(env=env, logdir=logdir)
    try:
        for guess in ("a", "b", "c"):
            assert live.get("/v1/nodes", **as_user("admin", guess)).status_code == 401
        refused = live.get("/v1/nodes", **as_user("admin"))  # even the right password, now
        assert refused.status_code == 429, refused.text
        assert 0 < int(refused.headers["Retry-After"]) <= 30
        assert "Too many failed logins" in fault(refused)
        assert live.get("/v1/nodes", **as_user("reader")).status_code == 429  # same address
        assert live.get("/v1").status_code == 200  # version discovery stays public
    finally:
        live.stop()
