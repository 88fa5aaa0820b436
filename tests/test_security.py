"""Security regressions found by probing (issue 14), each fixed as a class: secrets (database
errors, JSON Patch, masking on every read path and log line), metric labels, hostile headers.
Integrity of writes, names and the host are in ``test_hardening.py``.

Run against the ``http_basic`` API of :mod:`tests.secure_api` (an admin, readers, a user in
no role) over real HTTP, with the test database and conductors behind it.
"""

from __future__ import annotations

import io
import json
import logging
import secrets
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from app import logs
from app.db import nodes as node_db
from tests.helpers import fault, random_mac
from tests.secure_api import as_user, create_node
from tests.services import LiveAPI

BMC_PASSWORD = "bmc-" + secrets.token_hex(8)


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
    reason = {"reason": f"rack says Bearer {PLANTED['echo']}"}  # and into the history
    maintenance = secure_api.put(
        f"/v1/nodes/{node['uuid']}/maintenance", json=reason, **as_user("admin")
    )
    assert maintenance.status_code == 202, maintenance.text
    mac = random_mac()
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
    reason = {"reason": f"rack says Bearer {PLANTED['echo']}"}  # and into the history
    maintenance = secure_api.put(
        f"/v1/nodes/{node['uuid']}/maintenance", json=reason, **as_user("admin")
    )
    assert maintenance.status_code == 202, maintenance.text
    mac = random_mac()
    port = secure_api.post(
        "/v1/ports",
        json={"address": mac, "node_uuid": node["uuid"], "extra": {"auth_token": PLANTED["port"]}},
        **as_user("admin"),
    )
    assert port.status_code == 201, port.text
    planted = {"ident": node["uuid"], "uuid": port.json()["uuid"]}
    for collection, body in (
        ("chassis", {"extra": {"my_pwd": PLANTED["my_pwd"]}}),
        (
            "volume/targets",
            {
                "node_uuid": node["uuid"],
                "volume_type": "iscsi",
                "boot_index": 0,
                "volume_id": "v-1",
                "properties": {"auth_password": PLANTED["port"]},
            },
        ),
        (
            "volume/connectors",
            {
                "node_uuid": node["uuid"],
                "type": "iqn",
                "connector_id": "iqn.x",
                "extra": {"password": PLANTED["port"]},
            },
        ),
    ):
        made = secure_api.post(f"/v1/{collection}", json=body, **as_user("admin"))
        assert made.status_code == 201, made.text
        planted[collection] = made.json()["uuid"]
    return planted


def _read_paths(api: LiveAPI, known: dict[str, Any]) -> list[str]:
    """Every GET the API documents, its path parameters naming the planted resources."""
    spec = api.get("/v1/swagger.json").json()
    conductor = api.get("/v1/conductors", **as_user("admin")).json()["conductors"][0]
    history = api.get(f"/v1/nodes/{known['ident']}/history", **as_user("admin")).json()
    event = history["history"][0]["uuid"]  # maintenance set, with a secret in its reason
    values = {**known, "hostname": conductor["hostname"], "name": "fake-hardware", "event": event}
    paths = []
    for template, operations in spec["paths"].items():
        if "get" in operations:
            # each collection's {ident} names its own planted record
            owner = next(
                (
                    c
                    for c in ("chassis", "volume/targets", "volume/connectors")
                    if template.startswith(f"/{c}/")
                ),
                None,
            )
            ident = {"ident": known[owner]} if owner else {}
            paths.append("/v1" + template.format(**{**values, **ident}))
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
