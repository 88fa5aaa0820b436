"""The real openstacksdk (``conn.baremetal``) drives Ironworks unchanged."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import openstack
import pytest

from tests.services import LiveAPI

# The SDK warns about its own internals (deprecations slated for its next majors).
pytestmark = [
    pytest.mark.filterwarnings("ignore::openstack.warnings.OpenStackWarning"),
    pytest.mark.filterwarnings("ignore::openstack.warnings.OpenStackDeprecationWarning"),
    pytest.mark.filterwarnings("ignore::openstack.warnings._RemovedInSDKWarning"),
]


@pytest.fixture(scope="module")
def baremetal(system: dict[str, object], api: LiveAPI) -> Any:
    conn = openstack.connect(auth_type="none", baremetal_endpoint_override=api.url, region_name="")
    yield conn.baremetal
    conn.close()


def test_sdk_single_node_lifecycle(baremetal: Any) -> None:
    name = f"sdk-{uuid.uuid4().hex[:8]}"
    node = baremetal.create_node(driver="fake-hardware", name=name)
    assert node.provision_state == "enroll"
    assert baremetal.find_node(name).id == node.id
    node = baremetal.patch_node(node, [{"op": "add", "path": "/extra/rack", "value": "r9"}])
    assert node.extra == {"rack": "r9"}
    node = baremetal.update_node(node, extra={"rack": "r10"})
    assert baremetal.get_node(name).extra == {"rack": "r10"}

    baremetal.set_node_power_state(node, "power on", wait=True, timeout=30)
    assert baremetal.get_node(node.id).power_state == "power on"
    baremetal.set_node_power_state(node, "power off", wait=True, timeout=30)
    assert baremetal.get_node(node.id).power_state == "power off"

    for verb, expected in [
        ("manage", "manageable"),
        ("provide", "available"),
        ("active", "active"),
        ("deleted", "available"),
    ]:
        node = baremetal.set_node_provision_state(node, verb, wait=True, timeout=60)
        assert node.provision_state == expected, verb
        assert node.last_error is None

    port = baremetal.create_port(node_uuid=node.id, address="52:54:00:5d:6b:01")
    assert [p.address for p in baremetal.ports(node=node.id)] == ["52:54:00:5d:6b:01"]
    assert [p.id for p in baremetal.ports(details=True, node_id=node.id)] == [port.id]
    baremetal.delete_port(port)
    assert list(baremetal.ports(node=node.id)) == []

    result = baremetal.validate_node(node, required=("boot", "deploy", "power"))
    assert result["power"].result is True

    baremetal.set_node_maintenance(node, reason="sdk test")
    shown = baremetal.get_node(node.id)
    assert shown.is_maintenance is True and shown.maintenance_reason == "sdk test"
    baremetal.unset_node_maintenance(node)
    assert baremetal.get_node(node.id).is_maintenance is False

    assert name in [n.name for n in baremetal.nodes()]
    baremetal.delete_node(node)
    with pytest.raises(openstack.exceptions.NotFoundException):
        baremetal.get_node(name)


def test_sdk_sees_drivers_and_conductors(baremetal: Any, system: dict[str, object]) -> None:
    assert "fake-hardware" in [d.name for d in baremetal.drivers()]
    hosts = {c.hostname for c in baremetal.conductors() if c.alive}
    assert set(system["conductors"]) <= hosts  # type: ignore[arg-type]


def test_sdk_missing_node_is_404(baremetal: Any) -> None:
    with pytest.raises(openstack.exceptions.NotFoundException):
        baremetal.get_node(str(uuid.uuid4()))
    with pytest.raises(openstack.exceptions.ResourceNotFound):
        baremetal.find_node("no-such-node", ignore_missing=False)


def test_sdk_hundred_nodes_at_once(baremetal: Any) -> None:
    """100 nodes through manage → provide → deploy → undeploy, all in flight together."""
    tag = uuid.uuid4().hex[:6]
    with ThreadPoolExecutor(16) as pool:
        nodes = list(
            pool.map(
                lambda i: baremetal.create_node(driver="fake-hardware", name=f"bulk-{tag}-{i}"),
                range(100),
            )
        )
        for verb, expected in [
            ("manage", "manageable"),
            ("provide", "available"),
            ("active", "active"),
            ("deleted", "available"),
        ]:
            list(pool.map(lambda n, v=verb: baremetal.set_node_provision_state(n, v), nodes))
            done = baremetal.wait_for_nodes_provision_state(
                nodes, expected, timeout=120, abort_on_failed_state=True
            )
            assert len(done) == 100 and {n.provision_state for n in done} == {expected}
    final = [baremetal.get_node(n.id) for n in nodes]
    assert all(n.reservation is None and n.last_error is None for n in final)
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(baremetal.delete_node, nodes))
