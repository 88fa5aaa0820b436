"""Real protocols end to end: a node's whole life through the REST API and the conductors,
against BMC emulators on loopback (sushy-emulator for ``redfish``, a pyghmi BMC for
``ipmi``), and the power-state sync correcting a machine switched off behind our back."""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid as uuidlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from app import states
from app.config import get_settings
from app.db import nodes as node_db
from tests.emulators import http as loopback_http
from tests.emulators.ipmi import IPMIEmulator
from tests.emulators.redfish import RedfishEmulator, default_systems
from tests.helpers import LATEST, create_node, provision, wait_power
from tests.services import LiveAPI, wait_for
from workers.base_manager import PoolInfo
from workers.manager import ConductorManager
from workers.periodic import power_sync

IPMI_PASSWORD = "Ipmi-S3cret-77"
REDFISH_PASSWORD = "Redfish-S3cret-99"


@dataclass
class Machine:
    """One emulated machine: how to enrol it, and how to read/flip its power directly."""

    driver: str
    driver_info: dict[str, Any]
    power: Callable[[], str]  # "on" / "off", read from the emulator itself
    switch_off: Callable[[], None]  # behind the conductor's back
    macs: tuple[str, ...] = ()


@pytest.fixture(scope="module")
def images() -> Iterator[str]:
    with loopback_http.serving() as url:
        yield url


@pytest.fixture(scope="module")
def redfish_bmc() -> Iterator[RedfishEmulator]:
    with RedfishEmulator(default_systems(2)) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def ipmi_bmcs() -> Iterator[IPMIEmulator]:
    with IPMIEmulator(count=2, password=IPMI_PASSWORD) as emulators:
        yield emulators


def _redfish(emulator: RedfishEmulator, index: int) -> Machine:
    system = emulator.systems[index]
    return Machine(
        driver="redfish",
        driver_info=emulator.driver_info(
            system.uuid, redfish_username="admin", redfish_password=REDFISH_PASSWORD
        ),
        power=lambda: emulator.power_state(system.uuid).lower(),
        switch_off=lambda: emulator.press_power_button(system.uuid, "ForceOff"),
        macs=tuple(mac.lower() for mac in system.macs),
    )


def _ipmi(emulators: IPMIEmulator, index: int) -> Machine:
    return Machine(
        driver="ipmi",
        driver_info=emulators.driver_info(index),
        power=lambda: emulators.power_state(index),
        switch_off=lambda: emulators.press_power_button(index, "off"),
    )


@pytest.fixture(params=["redfish", "ipmi"])
def machine(
    request: pytest.FixtureRequest,
    redfish_bmc: RedfishEmulator,
    ipmi_bmcs: IPMIEmulator,
) -> Machine:
    if request.param == "redfish":
        return _redfish(redfish_bmc, 0)
    return _ipmi(ipmi_bmcs, 0)


def _node(api: LiveAPI, ident: str) -> dict[str, Any]:
    return dict(api.get(f"/v1/nodes/{ident}", headers=LATEST).json())


def test_full_lifecycle_through_the_api(
    system: dict[str, object], machine: Machine, images: str
) -> None:
    api = system["api"]
    assert isinstance(api, LiveAPI)
    node = create_node(api, driver=machine.driver, driver_info=machine.driver_info)
    uuid = node["uuid"]
    validation = api.get(f"/v1/nodes/{uuid}/validate", headers=LATEST).json()
    assert validation["power"]["result"] is True, validation
    assert validation["management"]["result"] is True, validation

    provision(api, uuid, "manage", "manageable", timeout=30)
    inspected = provision(api, uuid, "inspect", "manageable", timeout=30)
    assert inspected["last_error"] is None
    ports = api.get(f"/v1/nodes/{uuid}/ports", headers=LATEST).json()["ports"]
    assert sorted(p["address"] for p in ports) == sorted(machine.macs)
    if machine.driver == "redfish":
        assert inspected["properties"]["cpus"] > 0 and inspected["properties"]["memory_mb"] > 0

    provision(api, uuid, "provide", "available", timeout=30)
    patch = [{"op": "add", "path": "/instance_info", "value": {"boot_iso": f"{images}/i.iso"}}]
    assert api.patch(f"/v1/nodes/{uuid}", json=patch, headers=LATEST).status_code == 200
    active = provision(api, uuid, "active", "active", timeout=60)
    assert active["power_state"] == "power on" and active["last_error"] is None
    assert machine.power() == "on"

    undeployed = provision(api, uuid, "deleted", "available", timeout=60)
    assert undeployed["power_state"] == "power off"
    assert machine.power() == "off"
    secret = IPMI_PASSWORD if machine.driver == "ipmi" else REDFISH_PASSWORD
    assert "******" in str(undeployed["driver_info"]) and secret not in str(undeployed)
    assert api.delete(f"/v1/nodes/{uuid}").status_code == 204
    conductors = system["conductors"]
    assert isinstance(conductors, dict)
    for process in conductors.values():
        assert secret not in process.log(), f"{process.name} logged the BMC password"


def test_power_sync_corrects_drift(system: dict[str, object], machine: Machine) -> None:
    """Beat runs the sync every 2 s in the tests: a machine switched off by hand is
    switched back on, and the node's history says so."""
    api = system["api"]
    assert isinstance(api, LiveAPI)
    node = create_node(api, driver=machine.driver, driver_info=machine.driver_info)
    uuid = node["uuid"]
    provision(api, uuid, "manage", "manageable", timeout=30)
    response = api.put(f"/v1/nodes/{uuid}/states/power", json={"target": "power on"})
    assert response.status_code == 202
    assert wait_power(api, uuid, timeout=30)["power_state"] == "power on"
    machine.switch_off()
    started = time.monotonic()
    wait_for(lambda: machine.power() == "on", 30, "the sync to switch the machine back on")
    print(f"\n{machine.driver}: drift corrected {time.monotonic() - started:.1f}s after it")

    def drift_recorded() -> bool:
        history = api.get(f"/v1/nodes/{uuid}/history").json()["history"]
        return any("drift" in h["event"] for h in history)

    wait_for(drift_recorded, 10, "the correction in the node's history")
    assert _node(api, uuid)["power_state"] == "power on"
    assert api.delete(f"/v1/nodes/{uuid}").status_code == 204


def test_bad_credentials_give_a_clear_last_error(
    system: dict[str, object], redfish_bmc: RedfishEmulator
) -> None:
    api = system["api"]
    assert isinstance(api, LiveAPI)
    info = redfish_bmc.driver_info(redfish_bmc.systems[1].uuid, redfish_address="127.0.0.1:9")
    node = create_node(api, driver="redfish", driver_info={**info, "redfish_password": "hunter2"})
    failed = provision(api, node["uuid"], "manage", "enroll", timeout=90)
    assert "did not answer" in failed["last_error"], failed["last_error"]
    assert "hunter2" not in str(_node(api, node["uuid"]))


def _keepalive(manager: ConductorManager, stop: threading.Event) -> None:
    """Beat's job for a real conductor: without it a slow pass outlives the heartbeat
    timeout, the ring drops this conductor and the next pass owns no node."""
    while not stop.wait(0.5):
        manager.heartbeat()


def test_power_sync_pass_over_many_emulated_bmcs(monkeypatch: pytest.MonkeyPatch) -> None:
    """One conductor (in process) syncs 8 Redfish systems and 10 IPMI BMCs in one pass;
    prints the time per node."""
    group = f"bmcsync-{uuidlib.uuid4().hex[:8]}"
    monkeypatch.setenv("IRONWORKS_BMC_TIMEOUT", "10")  # production's, not the suite's 2 s
    get_settings.cache_clear()
    with RedfishEmulator(default_systems(8)) as redfish, IPMIEmulator(count=10) as ipmi:
        infos = [("redfish", redfish.driver_info(u)) for u in redfish.system_ids]
        infos += [("ipmi", ipmi.driver_info(i)) for i in range(10)]
        for driver, info in infos:
            node_db.create(
                {
                    "driver": driver,
                    "driver_info": info,
                    "conductor_group": group,
                    "provision_state": states.MANAGEABLE,
                    "power_state": states.POWER_OFF,
                }
            )
        settings = dataclasses.replace(get_settings(), conductor_group=group)
        manager = ConductorManager(f"bmcsync-{group}@test", PoolInfo("threads", 4), settings)
        manager.init_host()
        stop = threading.Event()
        beating = threading.Thread(target=_keepalive, args=(manager, stop), daemon=True)
        beating.start()
        try:
            # The first pass opens every BMC session at once (18 first logins, 10 of them
            # IPMI); the second runs on open sessions, as each sync interval then does.
            first = power_sync.sync_power_states(manager)
            report = power_sync.sync_power_states(manager)
        finally:
            stop.set()
            beating.join()
            manager.del_host()
            monkeypatch.undo()
            get_settings.cache_clear()
    assert first is not None and report is not None
    assert len(first.checked) == len(infos) and first.failed == []
    assert len(report.checked) == len(infos) and report.failed == []
    per_node = report.seconds / len(infos)
    print(
        f"\npower sync over {len(infos)} emulated BMCs: first pass {first.seconds:.2f}s "
        f"({len(first.failed)} failed), then {report.seconds:.2f}s per pass, "
        f"{per_node * 1000:.1f} ms per node ({settings.sync_power_state_workers} at once)"
    )


def test_drivers_are_described(system: dict[str, object]) -> None:
    api = system["api"]
    assert isinstance(api, LiveAPI)
    listed = {d["name"]: d for d in api.get("/v1/drivers").json()["drivers"]}
    assert {"fake-hardware", "ipmi", "redfish"} <= set(listed)
    assert len(listed["redfish"]["hosts"]) == 2
    redfish = api.get("/v1/drivers/redfish/properties").json()
    assert {"redfish_address", "redfish_system_id", "redfish_password"} <= set(redfish)
    ipmi = api.get("/v1/drivers/ipmi/properties").json()
    assert {"ipmi_address", "ipmi_port", "ipmi_username", "ipmi_password"} <= set(ipmi)
    assert api.get("/v1/drivers/ilo").status_code == 404
