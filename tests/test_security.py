"""Security and integrity regressions found by probing (issue 14), each fixed as a class.

Run against the ``http_basic`` API of :mod:`tests.secure_api` (an admin, readers, a user in
no role) over real HTTP, with the test database and conductors behind it.
"""

from __future__ import annotations

import io
import json
import logging
import secrets
import socket
import stat
import subprocess
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from app import logs
from app.db import nodes as node_db
from tests import helpers
from tests.helpers import fault
from tests.secure_api import as_user, create_node
from tests.services import LiveAPI

BMC_PASSWORD = "bmc-" + secrets.token_hex(8)


def _mac() -> str:
    return "52:54:02:" + ":".join(f"{b:02x}" for b in secrets.token_bytes(3))


def _patch(api: LiveAPI, path: str, ops: list[dict[str, Any]], user: str = "admin") -> Any:
    return api.request("PATCH", path, json=ops, **as_user(user))


# 1. Database errors: never a 500, never a parameter in a log.


def test_rename_to_a_taken_name_is_409_and_logs_no_password(secure_api: LiveAPI) -> None:
    taken = create_node(secure_api)
    node = create_node(secure_api, driver_info={"ipmi_password": "old"})
    ops = [
        {"op": "replace", "path": "/driver_info/ipmi_password", "value": BMC_PASSWORD},
        {"op": "replace", "path": "/name", "value": taken["name"]},
    ]
    response = _patch(secure_api, f"/v1/nodes/{node['uuid']}", ops)
    assert response.status_code == 409, response.text
    assert taken["name"] in fault(response) and BMC_PASSWORD not in response.text
    assert BMC_PASSWORD not in secure_api.process.log()
    assert node_db.get(node["uuid"]).driver_info == {"ipmi_password": "old"}


def test_concurrent_renames_to_one_name_one_wins_the_rest_409(secure_api: LiveAPI) -> None:
    name = f"sec-{uuid.uuid4().hex[:8]}"
    nodes = [create_node(secure_api) for _ in range(10)]

    def rename(node: dict[str, Any]) -> int:
        ops = [{"op": "replace", "path": "/name", "value": name}]
        return int(_patch(secure_api, f"/v1/nodes/{node['uuid']}", ops).status_code)

    with ThreadPoolExecutor(10) as pool:
        codes = sorted(pool.map(rename, nodes))
    assert codes == [200] + [409] * 9


# 2. JSON Patch never reads a secret back.


@pytest.mark.parametrize(
    "op",
    [
        {"op": "test", "path": "/driver_info/ipmi_password", "value": "guess"},
        {"op": "test", "path": "/driver_info", "value": {"ipmi_password": "guess"}},
        {"op": "copy", "from": "/driver_info/ipmi_password", "path": "/extra/x"},
        {"op": "copy", "from": "/driver_info", "path": "/extra/x"},
        {"op": "move", "from": "/driver_info/ipmi_password", "path": "/description"},
    ],
)
def test_patch_cannot_test_copy_or_move_a_secret(secure_api: LiveAPI, op: dict[str, Any]) -> None:
    node = create_node(secure_api, driver_info={"ipmi_password": BMC_PASSWORD, "ipmi_port": 623})
    response = _patch(secure_api, f"/v1/nodes/{node['uuid']}", [op])
    assert response.status_code == 400, response.text
    assert "secret" in fault(response) and BMC_PASSWORD not in response.text
    assert node_db.get(node["uuid"]).extra == {}


def test_patch_errors_name_the_path_never_a_value(secure_api: LiveAPI) -> None:
    node = create_node(secure_api, driver_info={"ipmi_password": BMC_PASSWORD, "a": {"b": 1}})
    for op in (
        {"op": "replace", "path": "/driver_info/missing/deeper", "value": 1},
        {"op": "remove", "path": "/driver_info/a/nope"},
        {"op": "add", "path": "/driver_info/a/b/c", "value": 1},
        {"op": "test", "path": "/driver_info/a", "value": {"b": 2}},
    ):
        response = _patch(secure_api, f"/v1/nodes/{node['uuid']}", [op])
        assert response.status_code == 400, (op, response.text)
        assert BMC_PASSWORD not in response.text and op["path"] in fault(response)


def test_patch_replaces_a_secret_and_keeps_untouched_ones(secure_api: LiveAPI) -> None:
    info = {"ipmi_password": BMC_PASSWORD, "snmp_community": "c0mmunity", "ipmi_port": 623}
    node = create_node(secure_api, driver_info=info)
    path = f"/v1/nodes/{node['uuid']}"
    response = _patch(
        secure_api, path, [{"op": "replace", "path": "/driver_info/ipmi_port", "value": 624}]
    )
    assert response.status_code == 200, response.text
    stored = node_db.get(node["uuid"]).driver_info
    assert stored == {**info, "ipmi_port": 624}
    ops = [{"op": "replace", "path": "/driver_info/ipmi_password", "value": "new-one"}]
    assert _patch(secure_api, path, ops).status_code == 200
    assert node_db.get(node["uuid"]).driver_info["ipmi_password"] == "new-one"


def test_port_patch_cannot_copy_a_secret(secure_api: LiveAPI) -> None:
    node = create_node(secure_api)
    mac = _mac()
    port = secure_api.post(
        "/v1/ports",
        json={"address": mac, "node_uuid": node["uuid"], "extra": {"vault_token": BMC_PASSWORD}},
        **as_user("admin"),
    )
    assert port.status_code == 201, port.text
    assert port.json()["extra"] == {"vault_token": "******"}
    path = f"/v1/ports/{port.json()['uuid']}"
    for op in (
        {"op": "copy", "from": "/extra/vault_token", "path": "/extra/x"},
        {"op": "test", "path": "/extra/vault_token", "value": "guess"},
    ):
        response = _patch(secure_api, path, [op])
        assert response.status_code == 400 and BMC_PASSWORD not in response.text
    kept = _patch(secure_api, path, [{"op": "add", "path": "/extra/rack", "value": "r1"}])
    assert kept.status_code == 200 and kept.json()["extra"]["vault_token"] == "******"


# 7. One masking rule, on every read path, for both roles.

PLANTED = {
    "bmc": BMC_PASSWORD,
    "community": "comm-" + secrets.token_hex(6),
    "admin_pass": "nova-" + secrets.token_hex(6),
    "configdrive": "H4sI" + secrets.token_hex(10),
    "my_pwd": "pwd-" + secrets.token_hex(6),
    "url": "urlpw-" + secrets.token_hex(6),
    "echo": "ZWNobzo" + secrets.token_hex(6),
    "port": "porttok-" + secrets.token_hex(6),
}


@pytest.fixture(scope="module")
def planted(secure_api: LiveAPI) -> dict[str, Any]:
    node = create_node(
        secure_api,
        driver_info={
            "ipmi_password": PLANTED["bmc"],
            "snmp_community": PLANTED["community"],
            "redfish_address": f"https://admin:{PLANTED['url']}@127.0.0.1:1",
        },
        instance_info={"admin_pass": PLANTED["admin_pass"], "configdrive": PLANTED["configdrive"]},
        extra={"my_pwd": PLANTED["my_pwd"]},
        description=f"console at http://root:{PLANTED['url']}@10.0.0.1/",
    )
    node_db.update_values(
        node["uuid"],
        last_error=f"BMC said: 401 for request with Authorization: Basic {PLANTED['echo']}",
        maintenance_reason=f"creds Bearer {PLANTED['echo']}",
    )
    mac = _mac()
    port = secure_api.post(
        "/v1/ports",
        json={"address": mac, "node_uuid": node["uuid"], "extra": {"auth_token": PLANTED["port"]}},
        **as_user("admin"),
    )
    assert port.status_code == 201, port.text
    return {"ident": node["uuid"], "uuid": port.json()["uuid"]}


def _read_paths(api: LiveAPI, known: dict[str, Any]) -> list[str]:
    """Every GET the API documents, its path parameters naming the planted resources."""
    spec = api.get("/v1/swagger.json").json()
    conductor = api.get("/v1/conductors", **as_user("admin")).json()["conductors"][0]
    values = {**known, "hostname": conductor["hostname"], "name": "fake-hardware"}
    paths = []
    for template, operations in spec["paths"].items():
        if "get" in operations:
            paths.append("/v1" + template.format(**values))
    return paths


@pytest.mark.parametrize("user", ["admin", "reader"])
def test_no_planted_secret_on_any_read_path(
    secure_api: LiveAPI, planted: dict[str, Any], user: str
) -> None:
    paths = _read_paths(secure_api, planted)
    assert len(paths) > 15, paths
    extra_queries = ["?detail=true", "?fields=uuid,last_error,description,maintenance_reason"]
    seen = 0
    for path in paths:
        for query in ["", *extra_queries]:
            response = secure_api.get(path + query, **as_user(user))
            if response.status_code != 200:
                continue
            seen += 1
            leaked = [name for name, value in PLANTED.items() if value in response.text]
            assert not leaked, (user, path + query, leaked)
    assert seen > 15


def test_log_lines_mask_credentials_in_urls_and_headers() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("tests.security.masking")
    logger.addHandler(handler)
    logger.propagate = False
    logs.configure_handlers([logger], "text")
    try:
        logger.warning("Redfish at %s failed", f"https://admin:{PLANTED['url']}@10.0.0.9/redfish")
        logger.warning("BMC echoed {'Authorization': 'Basic %s'}", PLANTED["echo"])
        try:
            raise RuntimeError(f"connect https://u:{PLANTED['url']}@h failed")
        except RuntimeError:
            logger.exception("driver call failed")
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert "Redfish at https://admin:******@10.0.0.9/redfish failed" in text
    assert PLANTED["url"] not in text and PLANTED["echo"] not in text
    assert "RuntimeError" in text and json.dumps(text)


# 3. Metric labels come from fixed sets.


def test_made_up_methods_and_paths_do_not_grow_the_metrics(secure_api: LiveAPI) -> None:
    for i in range(40):
        secure_api.request(f"X{i}METHOD", f"/v1/made-up-{i}")
        secure_api.request("GET", f"/v1/nodes/x/y/z/{i}")
    body = secure_api.get("/metrics", **as_user("admin")).text
    assert "X1METHOD" not in body and "made-up" not in body
    assert 'method="other"' in body
    series = [line for line in body.splitlines() if line.startswith("ironworks_api_requests_total")]
    before = len(series)
    for i in range(40, 80):
        secure_api.request(f"Y{i}", f"/v1/other-{i}")
    after = [
        line
        for line in secure_api.get("/metrics", **as_user("admin")).text.splitlines()
        if line.startswith("ironworks_api_requests_total")
    ]
    assert len(after) == before


# 6. Hostile headers are 4xx, never a 500.


def test_non_ascii_basic_credentials_are_401(secure_api: LiveAPI) -> None:
    for value in ("Basic \u00e9t\u00e9==", "Basic " + "\u2603" * 8, "basic \xff\xfe"):
        response = secure_api.get("/v1/nodes", headers={"Authorization": value.encode("utf-8")})
        assert response.status_code == 401, (value, response.text)
    assert "Traceback" not in secure_api.process.log()


@pytest.mark.parametrize("version", ["1." + "9" * 5000, "9" * 5000 + ".1", "1.0000000001"])
def test_absurd_microversions_are_406(secure_api: LiveAPI, version: str) -> None:
    headers = {"X-OpenStack-Ironic-API-Version": version}
    response = secure_api.get("/v1/nodes", auth=as_user("admin")["auth"], headers=headers)
    assert response.status_code == 406, response.text
    assert len(response.text) < 1000


# 4. Every read-modify-write is guarded: concurrent port PATCHes lose nothing.


def _new_port(api: LiveAPI, node: dict[str, Any], **fields: Any) -> dict[str, Any]:
    response = api.post("/v1/ports", json={"address": _mac(), "node_uuid": node["uuid"], **fields})
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
            [{"op": "replace", "path": "/address", "value": _mac()}],
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
        [{"op": "replace", "path": "/address", "value": _mac()}],
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
    new_mac = _mac()
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
