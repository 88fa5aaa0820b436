"""Small helpers shared by the API tests."""

from __future__ import annotations

import json
import secrets
import uuid
from typing import Any

import requests

from tests.services import LiveAPI, wait_for

LATEST = {"X-OpenStack-Ironic-API-Version": "latest"}


def fault(response: requests.Response) -> str:
    """The faultstring of an Ironic-format error answer (asserting the format)."""
    body = response.json()
    assert set(body) == {"error_message"}, body
    inner = json.loads(body["error_message"])
    assert set(inner) == {"faultstring", "faultcode", "debuginfo"}
    assert inner["faultcode"] == ("Client" if response.status_code < 500 else "Server")
    return str(inner["faultstring"])


def create_node(api: LiveAPI, **fields: Any) -> dict[str, Any]:
    body = {"driver": "fake-hardware", "name": f"node-{uuid.uuid4().hex[:10]}", **fields}
    response = api.post("/v1/nodes", json=body, headers=LATEST)
    assert response.status_code == 201, response.text
    return dict(response.json())


def wait_power(api: LiveAPI, ident: str, timeout: float = 10) -> dict[str, Any]:
    """Wait until the node has no pending power action; return its states."""

    def settled() -> dict[str, Any] | None:
        states = api.get(f"/v1/nodes/{ident}/states").json()
        return states if states["target_power_state"] is None else None

    return dict(wait_for(settled, timeout, f"power action on {ident} to finish"))


def provision(
    api: LiveAPI, ident: str, target: str, expect: str, timeout: float = 15, **body: Any
) -> dict[str, Any]:
    """PUT a provision verb (202) and wait until the node settles in ``expect``."""
    response = api.put(
        f"/v1/nodes/{ident}/states/provision", json={"target": target, **body}, headers=LATEST
    )
    assert response.status_code == 202, response.text
    return wait_provision(api, ident, expect, timeout)


def wait_provision(api: LiveAPI, ident: str, expect: str, timeout: float = 15) -> dict[str, Any]:
    def settled() -> dict[str, Any] | None:
        node = api.get(f"/v1/nodes/{ident}", headers=LATEST).json()
        done = node["reservation"] is None and node["provision_state"] == expect
        return node if done else None

    return dict(wait_for(settled, timeout, f"node {ident} to reach {expect!r}"))


def random_mac() -> str:
    """A locally administered MAC address no other test uses."""
    return "52:54:02:" + ":".join(f"{b:02x}" for b in secrets.token_bytes(3))
