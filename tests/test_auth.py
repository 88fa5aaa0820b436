"""REST API authentication and roles (``app/api/auth.py``), over real HTTP.

The ``http_basic`` API is a gunicorn process started as the Procfile starts it, with a bcrypt
htpasswd file written here; it shares the test database and broker, so the conductors of the
``system`` fixture serve the nodes it creates.
"""

from __future__ import annotations

import logging
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import bcrypt
import pytest
import requests

from app.api import auth
from tests.helpers import fault
from tests.secure_api import COST, PASSWORDS, as_user, create_node, write_htpasswd
from tests.services import ROOT, LiveAPI, free_port, procfile_line, wait_for

BMC_PASSWORD = "bmc-" + secrets.token_hex(8)
API_KEY = "key-" + secrets.token_hex(8)
CHALLENGE = 'Basic realm="Ironworks"'


def assert_challenge(response: requests.Response) -> str:
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"] == CHALLENGE
    return fault(response)


def test_version_discovery_and_api_description_are_public(secure_api: LiveAPI) -> None:
    for path in ("/", "/v1", "/v1/", "/v1/swagger.json"):
        response = secure_api.get(path)
        assert response.status_code == 200, (path, response.text)
    assert secure_api.get("/v1").json()["id"] == "v1"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/nodes"),
        ("GET", "/v1/conductors"),
        ("POST", "/v1/nodes"),
        ("DELETE", "/v1/nodes/anything"),
        ("GET", "/v1/no-such-collection"),  # 401, not 404: routes are not revealed either
        ("POST", "/v1"),  # only reading the version document is public
    ],
)
def test_anonymous_request_is_401_with_challenge(
    secure_api: LiveAPI, method: str, path: str
) -> None:
    response = secure_api.request(method, path, json={"driver": "fake-hardware"})
    assert "credentials" in assert_challenge(response)


def test_wrong_password_and_unknown_user_answer_alike(secure_api: LiveAPI) -> None:
    wrong = secure_api.get("/v1/nodes", **as_user("admin", "not-the-password"))
    unknown = secure_api.get("/v1/nodes", auth=("no-such-user", PASSWORDS["admin"]))
    assert assert_challenge(wrong) == assert_challenge(unknown)
    assert wrong.json() == unknown.json()
    # An empty password is just a wrong one, and a non-Basic or garbled header is a 401 too.
    assert_challenge(secure_api.get("/v1/nodes", **as_user("admin", "")))
    for header in ("Bearer abc", "Basic !!!notbase64", "Basic " + "bm9jb2xvbg=="):
        assert_challenge(secure_api.get("/v1/nodes", headers={"Authorization": header}))


def test_admin_creates_patches_and_deletes(secure_api: LiveAPI) -> None:
    node = create_node(secure_api, driver_info={"ipmi_password": BMC_PASSWORD})
    assert node["driver_info"] == {"ipmi_password": "******"}  # masked for admins, as before
    patch = [{"op": "add", "path": "/extra/rack", "value": "r7"}]
    response = secure_api.patch(f"/v1/nodes/{node['uuid']}", json=patch, **as_user("admin"))
    assert response.status_code == 200, response.text
    assert response.json()["extra"] == {"rack": "r7"}
    response = secure_api.delete(f"/v1/nodes/{node['uuid']}", **as_user("admin"))
    assert response.status_code == 204, response.text
    assert secure_api.get(f"/v1/nodes/{node['uuid']}", **as_user("admin")).status_code == 404


def test_both_roles_read_everything_but_secrets(secure_api: LiveAPI) -> None:
    info = {"ipmi_address": "10.1.2.3", "ipmi_password": BMC_PASSWORD, "api_key": API_KEY}
    node = create_node(secure_api, driver_info=info, extra={"vault_token": "t-1", "rack": "r1"})
    as_admin = secure_api.get(f"/v1/nodes/{node['uuid']}", **as_user("admin")).json()
    # One masking rule for every role (app/masking.py): admins see no secret either.
    assert as_admin["driver_info"] == {**info, "ipmi_password": "******", "api_key": "******"}

    response = secure_api.get(f"/v1/nodes/{node['uuid']}", **as_user("reader"))
    assert response.status_code == 200, response.text
    seen = response.json()
    assert seen["driver_info"] == {
        "ipmi_address": "10.1.2.3",
        "ipmi_password": "******",
        "api_key": "******",
    }
    assert seen["extra"] == {"vault_token": "******", "rack": "r1"}
    assert seen["provision_state"] == as_admin["provision_state"]
    for path in ("/v1/nodes/detail", "/v1/nodes", "/v1/conductors", "/v1/drivers", "/v1/ports"):
        listing = secure_api.get(path, **as_user("reader"))
        assert listing.status_code == 200, (path, listing.text)
        assert BMC_PASSWORD not in listing.text and API_KEY not in listing.text
    # The driver's documentation of its parameters is not masked: it holds no values.
    props = secure_api.get("/v1/drivers/ipmi/properties", **as_user("reader"))
    assert props.status_code == 200, props.text
    assert props.json()["ipmi_password"].startswith("Password of that user")


def test_reader_cannot_change_anything(secure_api: LiveAPI) -> None:
    node = create_node(secure_api)
    url = f"/v1/nodes/{node['uuid']}"
    attempts = [
        ("POST", "/v1/nodes", {"driver": "fake-hardware"}),
        ("PATCH", url, [{"op": "add", "path": "/extra/x", "value": 1}]),
        ("DELETE", url, None),
        ("PUT", f"{url}/states/power", {"target": "power on"}),
        ("PUT", f"{url}/states/provision", {"target": "manage"}),
        ("PUT", f"{url}/maintenance", {"reason": "r"}),
    ]
    for method, path, body in attempts:
        response = secure_api.request(method, path, json=body, **as_user("reader"))
        assert response.status_code == 403, (method, path, response.text)
        assert "only read" in fault(response)
    after = secure_api.get(url, **as_user("admin")).json()
    assert (after["extra"], after["maintenance"], after["provision_state"]) == (
        node["extra"],
        False,
        node["provision_state"],
    )
    assert after["target_power_state"] is None


def test_user_without_a_role_is_forbidden(secure_api: LiveAPI) -> None:
    response = secure_api.get("/v1/nodes", **as_user("nobody"))
    assert response.status_code == 403, response.text
    assert "no role" in fault(response)


def test_edited_htpasswd_file_takes_effect_at_once(secure_api: LiveAPI, htpasswd: Path) -> None:
    old = PASSWORDS["rotor"]
    assert secure_api.get("/v1/nodes", **as_user("rotor")).status_code == 200  # now cached
    new = secrets.token_urlsafe(12)
    write_htpasswd(htpasswd, {**PASSWORDS, "rotor": new})
    try:
        assert_challenge(secure_api.get("/v1/nodes", **as_user("rotor", old)))
        assert secure_api.get("/v1/nodes", **as_user("rotor", new)).status_code == 200
    finally:
        write_htpasswd(htpasswd, PASSWORDS)


def test_checked_credentials_are_cached(secure_api: LiveAPI) -> None:
    hashed = bcrypt.hashpw(b"x", bcrypt.gensalt(rounds=COST))
    started = time.monotonic()
    bcrypt.checkpw(b"x", hashed)
    one_check = time.monotonic() - started
    assert secure_api.get("/v1/conductors", **as_user("reader")).status_code == 200
    started = time.monotonic()
    for _ in range(20):
        assert secure_api.get("/v1/conductors", **as_user("reader")).status_code == 200
    # Twenty requests paying bcrypt would take at least 20 checks.
    assert time.monotonic() - started < 10 * one_check


def test_no_secret_reaches_the_api_log(secure_api: LiveAPI) -> None:
    create_node(secure_api, driver_info={"ipmi_password": BMC_PASSWORD})
    secure_api.get("/v1/nodes/detail", **as_user("reader"))
    assert secure_api.process is not None
    log = secure_api.process.log()
    assert "GET /v1/nodes/detail" in log  # the access log is there, and it is clean
    for secret in (BMC_PASSWORD, *PASSWORDS.values()):
        assert secret not in log


def test_noauth_serves_everyone_and_warns(api: LiveAPI, caplog: pytest.LogCaptureFixture) -> None:
    from app.api import create_app

    with caplog.at_level(logging.WARNING, logger="app.api.auth"):
        create_app(migrate_db=False)
    assert any("UNAUTHENTICATED" in r.getMessage() for r in caplog.records)
    response = api.get("/v1/nodes")
    assert response.status_code == 200
    assert "WWW-Authenticate" not in response.headers


def start_api_app(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Build the WSGI app in a fresh process, as gunicorn's worker does."""
    return subprocess.run(
        [sys.executable, "-c", "import app.wsgi"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "reason"),
    [
        ({"IRONWORKS_API_HOST": "0.0.0.0"}, "may only listen on loopback"),
        ({"IRONWORKS_AUTH_STRATEGY": "keystone"}, "must be 'noauth' or 'http_basic'"),
        ({"IRONWORKS_AUTH_STRATEGY": "http_basic"}, "needs IRONWORKS_HTPASSWD_FILE"),
        (
            {"IRONWORKS_AUTH_STRATEGY": "http_basic", "IRONWORKS_HTPASSWD_FILE": "/nonexistent"},
            "cannot be read",
        ),
        (
            {
                "IRONWORKS_AUTH_STRATEGY": "http_basic",
                "IRONWORKS_HTPASSWD_FILE": __file__,
                "IRONWORKS_ADMIN_USERS": "",
            },
            "would refuse everyone",
        ),
    ],
    ids=["noauth-public-host", "unknown-strategy", "no-htpasswd", "missing-htpasswd", "no-roles"],
)
def test_unsafe_configuration_refuses_to_start(env: dict[str, str], reason: str) -> None:
    result = start_api_app({"IRONWORKS_ADMIN_USERS": "admin", **env})
    assert result.returncode != 0
    assert "ConfigurationError" in result.stderr and reason in result.stderr


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        *[("127.0.0.1", True), ("127.3.0.1", True), ("::1", True), ("[::1]", True)],
        *[("localhost", True), ("0.0.0.0", False), ("10.0.0.5", False), ("::", False)],
        *[("api.example.com", False), ("", False)],
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert auth.is_loopback(host) is loopback


def test_flower_refuses_to_start_open_when_auth_is_on() -> None:
    env = {**os.environ, "IRONWORKS_AUTH_STRATEGY": "http_basic"}
    env.pop("IRONWORKS_FLOWER_BASIC_AUTH", None)
    result = subprocess.run(
        ["sh", "-c", procfile_line("flower")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert "IRONWORKS_FLOWER_BASIC_AUTH" in result.stderr


def test_flower_behind_basic_auth(logdir: Path) -> None:
    port = free_port()
    password = secrets.token_urlsafe(12)
    env = {
        **os.environ,
        "IRONWORKS_AUTH_STRATEGY": "http_basic",
        "IRONWORKS_FLOWER_BASIC_AUTH": f"ops:{password}",
        "IRONWORKS_FLOWER_PORT": str(port),
    }
    with open(logdir / "flower-auth.log", "wb") as log:
        proc = subprocess.Popen(
            ["sh", "-c", procfile_line("flower")], cwd=ROOT, env=env, stdout=log, stderr=log
        )
    url = f"http://127.0.0.1:{port}"

    def status(auth: tuple[str, str] | None) -> int | None:
        assert proc.poll() is None, (logdir / "flower-auth.log").read_text()
        try:
            return requests.get(f"{url}/api/workers", auth=auth, timeout=5).status_code
        except (requests.ConnectionError, requests.Timeout):
            return None

    try:
        assert wait_for(lambda: status(None), 60, "Flower") == 401
        assert status(("ops", "wrong")) == 401
        assert status(("ops", password)) == 200
        assert password not in (logdir / "flower-auth.log").read_text()
    finally:
        proc.terminate()
        proc.wait(20)
