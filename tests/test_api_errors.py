"""Bad input answers with the right status and an Ironic-format JSON error, never a 500."""

from __future__ import annotations

import pytest

from tests.helpers import LATEST, create_node, fault
from tests.services import LiveAPI


def test_unknown_driver_is_400(system: dict[str, object], api: LiveAPI) -> None:
    response = api.post("/v1/nodes", json={"driver": "no-such-driver"})
    assert response.status_code == 400
    assert "no-such-driver" in fault(response)
    assert "fake-hardware" in fault(response)  # the message lists what is available


def test_missing_driver_is_400(api: LiveAPI) -> None:
    response = api.post("/v1/nodes", json={"name": "x"})
    assert response.status_code == 400
    assert "driver" in fault(response)


@pytest.mark.parametrize(
    "body",
    ['{"driver": "fake-hardware"', "not json", "[1, 2]", '"a string"', ""],
    ids=["truncated", "garbage", "array", "string", "empty"],
)
def test_malformed_body_is_400(api: LiveAPI, body: str) -> None:
    response = api.post("/v1/nodes", data=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    assert fault(response)


@pytest.mark.parametrize(
    "body",
    [
        {"driver": "fake-hardware", "driver_info": "x"},
        {"driver": "fake-hardware", "bogus": 1},
        {"driver": "fake-hardware", "name": "bad name!"},
        {"driver": "fake-hardware", "uuid": "1"},
        {"driver": 7},
        {"driver": "fake-hardware", "provision_state": "active"},
    ],
    ids=["info-not-object", "unknown-field", "bad-name", "bad-uuid", "driver-int", "read-only"],
)
def test_invalid_fields_are_400(system: dict[str, object], api: LiveAPI, body: dict) -> None:
    response = api.post("/v1/nodes", json=body)
    assert response.status_code == 400, response.text
    assert fault(response)


def test_unknown_power_target_is_400(system: dict[str, object], api: LiveAPI) -> None:
    node = create_node(api)
    for target in ("power sideways", None, 3):
        response = api.put(f"/v1/nodes/{node['uuid']}/states/power", json={"target": target})
        assert response.status_code == 400, response.text
        assert "power on" in fault(response)  # names the allowed targets
    assert api.get(f"/v1/nodes/{node['uuid']}").json()["target_power_state"] is None


def test_missing_node_is_404(api: LiveAPI) -> None:
    for method, path in [
        ("GET", "/v1/nodes/00000000-0000-0000-0000-000000000000"),
        ("GET", "/v1/nodes/no-such-name"),
        ("DELETE", "/v1/nodes/no-such-name"),
        ("GET", "/v1/nodes/no-such-name/states"),
        ("GET", "/v1/conductors/nobody"),
        ("GET", "/v1/drivers/nothing"),
        ("GET", "/v1/not-a-resource"),
    ]:
        response = api.request(method, path)
        assert response.status_code == 404, (method, path)
        assert fault(response)
    response = api.put("/v1/nodes/no-such-name/states/power", json={"target": "power on"})
    assert response.status_code == 404
    assert "no-such-name" in fault(response)


def test_duplicate_name_is_409(system: dict[str, object], api: LiveAPI) -> None:
    node = create_node(api)
    response = api.post("/v1/nodes", json={"driver": "fake-hardware", "name": node["name"]})
    assert response.status_code == 409
    assert node["name"] in fault(response)


def test_version_outside_range_is_406_with_range(api: LiveAPI) -> None:
    for version in ("1.999", "2.0", "one"):
        response = api.get("/v1/nodes", headers={"X-OpenStack-Ironic-API-Version": version})
        assert response.status_code == 406
        assert response.headers["X-OpenStack-Ironic-API-Minimum-Version"] == "1.1"
        assert fault(response)


def test_version_headers_on_every_answer(api: LiveAPI) -> None:
    for path in ("/", "/v1/", "/v1/nodes", "/v1/nodes/missing"):
        response = api.get(path, headers=LATEST)
        maximum = response.headers["X-OpenStack-Ironic-API-Maximum-Version"]
        assert response.headers["X-OpenStack-Ironic-API-Version"] == maximum


def test_oversized_body_is_413(api: LiveAPI) -> None:
    huge = {"driver": "fake-hardware", "extra": {"blob": "x" * (2 * 1024 * 1024)}}
    response = api.post("/v1/nodes", json=huge)
    assert response.status_code == 413
    assert fault(response)


def test_made_up_driver_names_are_404_and_never_cached(api: LiveAPI) -> None:
    from app.api import drivers_cache

    for index in range(3):
        response = api.get(f"/v1/drivers/made-up-{index}/properties")
        assert response.status_code == 404
        assert f"made-up-{index}" in fault(response)
    assert drivers_cache.hardware_type("made-up-in-process") is None
    assert drivers_cache.hardware_type("fake-hardware") is drivers_cache.hardware_type(
        "fake-hardware"
    )
    assert "made-up-in-process" not in drivers_cache._LOADED
