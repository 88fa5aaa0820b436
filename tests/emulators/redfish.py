"""A real ``sushy-emulator`` (sushy-tools) on loopback, with the fake systems driver.

:class:`RedfishEmulator` writes a throwaway config file, starts the ``sushy-emulator`` console
script of the virtualenv as a subprocess on 127.0.0.1 and a free port, waits until it answers
and stops it (terminate, then kill) so no process outlives the test module. Its state (the
fake systems, the virtual media) lives in a private ``SUSHY_EMULATOR_STATE_DIR``: sushy-tools
otherwise shares ``/tmp/sushy-emulator`` between every emulator on the machine.

What the fake driver of sushy-tools 2.x serves (read in ``sushy_tools/emulator``):

* ``/Systems/<uuid>``: power state, ``Boot`` (target Pxe/Cd/Hdd, ``BootSourceOverrideEnabled``
  always reported as ``Continuous``: the emulator ignores the persistence it is sent; no
  ``BiosSetup`` target), boot mode (UEFI by default), ``EthernetInterfaces`` (one per MAC);
* power changes are *not* immediate: each takes effect a random 1 to 11 s after the reset,
  observed on the next read. A reboot shows ``Off`` at once, then ``On``;
* ``/Systems/<uuid>/VirtualMedia/{Cd,Floppy}``: insert downloads the image from its URL
  (it must be reachable from the emulator), eject forgets it;
* one chassis (``SheetMetalChassis``, served under its UUID) whose ``Thermal`` lists a
  ``CPU Temp`` per system plus ``Chassis Intake Temp``, and two fans; no ``Power`` resource
  (no PSU or voltage readings);
* ``Storage``/``Drives`` only as configured (``SUSHY_EMULATOR_STORAGE``/``_DRIVES``).

The fake driver has no notion of CPUs or memory (those come from libvirt in sushy-tools), and
its power delay would make every power test wait up to 11 s. The config file is Python that
the emulator executes, so it swaps in a small subclass of the fake driver (looked up by module
attribute when the emulator builds its systems backend) that serves ``cpus``, ``memory_gb``
and processors from each configured system and shortens the power delay to ``power_delay``
seconds. Everything else is sushy-tools' own code.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import bcrypt
import requests

from tests.services import free_port

EMULATOR = Path(sys.executable).with_name("sushy-emulator")

# Executed inside the emulator process after the generated settings (see the module docstring).
_DRIVER_PATCH = '''
import time as _time

from sushy_tools.emulator.resources.systems import fakedriver as _fakedriver


class _SizedFakeDriver(_fakedriver.FakeDriver):
    """The fake driver plus CPUs, memory and a short power delay (tests/emulators/redfish.py)."""

    def _update(self, system, **changes):
        pending = changes.get("pending_power")
        if pending:
            pending["apply_time"] = _time.time() + POWER_DELAY
        super()._update(system, **changes)

    def get_total_memory(self, identity):
        return self._get(identity).get("memory_gb")

    def get_total_cpus(self, identity):
        return self._get(identity).get("cpus")

    def get_processors(self, identity):
        system = self._get(identity)
        sockets = system.get("sockets", 1)
        threads = system.get("cpus", 1) // sockets
        return [
            {"id": f"CPU{n}", "Id": f"CPU{n}", "socket": f"CPU {n}", "vendor": "Fake",
             "model": "Fake CPU", "cores": threads, "threads": threads}
            for n in range(sockets)
        ]


_fakedriver.FakeDriver = _SizedFakeDriver
'''


@dataclasses.dataclass(frozen=True)
class FakeSystem:
    """One machine of the fake driver."""

    uuid: str
    name: str
    macs: tuple[str, ...]
    cpus: int = 4
    sockets: int = 1
    memory_gb: int = 8
    disk_gb: int = 50
    boot_mode: str = "UEFI"
    power_state: str = "Off"

    def config(self) -> dict[str, Any]:
        return {
            "uuid": self.uuid,
            "name": self.name,
            "power_state": self.power_state,
            "boot_mode": self.boot_mode,
            "external_notifier": False,
            "nics": [{"mac": mac} for mac in self.macs],
            "cpus": self.cpus,
            "sockets": self.sockets,
            "memory_gb": self.memory_gb,
        }


def default_systems(count: int = 8) -> list[FakeSystem]:
    """``count`` machines with different sizes, two NICs each, the last one in BIOS mode."""
    return [
        FakeSystem(
            uuid=f"2c0e6a5e-0000-4000-8000-{n:012x}",
            name=f"node-{n}",
            macs=(f"52:54:00:AA:00:{n:02X}", f"52:54:00:BB:00:{n:02X}"),
            cpus=2 * (n + 1),
            sockets=2 if n % 2 else 1,
            memory_gb=4 * (n + 1),
            disk_gb=20 * (n + 1),
            boot_mode="Legacy" if n == count - 1 else "UEFI",
        )
        for n in range(count)
    ]


class RedfishEmulator:
    """``sushy-emulator`` with the fake driver, optionally behind HTTP basic auth."""

    def __init__(
        self,
        systems: list[FakeSystem] | None = None,
        *,
        username: str | None = None,
        password: str | None = None,
        power_delay: float = 0.5,
    ) -> None:
        self.systems = systems if systems is not None else default_systems()
        self.username = username
        self.password = password
        self.power_delay = power_delay
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._dir = Path(tempfile.mkdtemp(prefix="ironworks-sushy-"))
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: Any = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self, timeout: float = 30.0) -> RedfishEmulator:
        config = self._dir / "emulator.conf"
        config.write_text(self._config_text())
        self._log = (self._dir / "emulator.log").open("wb")
        self._proc = subprocess.Popen(
            [str(EMULATOR), "--config", str(config), "-i", "127.0.0.1", "-p", str(self.port)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=self._dir,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                self.stop()
                raise RuntimeError(f"sushy-emulator exited early: {self.log_tail()}")
            with contextlib.suppress(requests.RequestException):
                if self._get("/redfish/v1/Systems").status_code == 200:
                    return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"sushy-emulator did not answer within {timeout}s")

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None
        if self._log is not None:
            self._log.close()
            self._log = None
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> RedfishEmulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def log_tail(self, size: int = 4000) -> str:
        path = self._dir / "emulator.log"
        return path.read_text(errors="replace")[-size:] if path.exists() else ""

    # -- what tests use ----------------------------------------------------------------------
    @property
    def system_ids(self) -> list[str]:
        return [system.uuid for system in self.systems]

    def system_path(self, uuid: str) -> str:
        """The value of ``redfish_system_id`` for the machine ``uuid``."""
        return f"/redfish/v1/Systems/{uuid}"

    def driver_info(self, uuid: str | None = None, **extra: Any) -> dict[str, Any]:
        info: dict[str, Any] = {"redfish_address": self.url}
        if uuid is not None:
            info["redfish_system_id"] = self.system_path(uuid)
        if self.username is not None:
            info.update(redfish_username=self.username, redfish_password=self.password)
        info.update(extra)
        return info

    def power_state(self, uuid: str) -> str:
        """What the emulator reports now: ``On`` or ``Off``."""
        return str(self.system(uuid)["PowerState"])

    def system(self, uuid: str) -> dict[str, Any]:
        response = self._get(self.system_path(uuid))
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    def virtual_media(self, uuid: str, device: str = "Cd") -> dict[str, Any]:
        response = self._get(f"{self.system_path(uuid)}/VirtualMedia/{device}")
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    def press_power_button(self, uuid: str, reset_type: str, wait: bool = True) -> None:
        """Change a machine's power behind the driver's back (``On``, ``ForceOff``...)."""
        response = requests.post(
            f"{self.url}{self.system_path(uuid)}/Actions/ComputerSystem.Reset",
            json={"ResetType": reset_type},
            auth=self._auth(),
            timeout=5,
        )
        response.raise_for_status()
        if wait:
            target = "Off" if reset_type in ("ForceOff", "GracefulShutdown") else "On"
            deadline = time.monotonic() + self.power_delay + 5
            while self.power_state(uuid) != target:
                if time.monotonic() > deadline:
                    raise AssertionError(f"{uuid} did not reach power {target}")
                time.sleep(0.1)

    # -- internals ---------------------------------------------------------------------------
    def _auth(self) -> tuple[str, str] | None:
        if self.username is None:
            return None
        return (self.username, self.password or "")

    def _get(self, path: str) -> requests.Response:
        return requests.get(f"{self.url}{path}", auth=self._auth(), timeout=5)

    def _config_text(self) -> str:
        storage = {
            s.uuid: [
                {
                    "Id": "1",
                    "Name": "Local Storage Controller",
                    "StorageControllers": [
                        {"MemberId": "0", "Name": "Contoso Integrated RAID", "SpeedGbps": 12}
                    ],
                    "Drives": ["disk0"],
                }
            ]
            for s in self.systems
        }
        drives = {
            (s.uuid, "1"): [
                {
                    "Id": "disk0",
                    "Name": "Drive 0",
                    "CapacityBytes": s.disk_gb * 1024**3,
                    "Protocol": "SATA",
                }
            ]
            for s in self.systems
        }
        settings: dict[str, Any] = {
            "SUSHY_EMULATOR_LISTEN_IP": "127.0.0.1",
            "SUSHY_EMULATOR_LISTEN_PORT": self.port,
            "SUSHY_EMULATOR_STATE_DIR": str(self._dir / "state"),
            "SUSHY_EMULATOR_FAKE_DRIVER": True,
            "SUSHY_EMULATOR_FAKE_SYSTEMS": [s.config() for s in self.systems],
            "SUSHY_EMULATOR_STORAGE": storage,
            "SUSHY_EMULATOR_DRIVES": drives,
            "SUSHY_EMULATOR_VMEDIA_VERIFY_SSL": False,
            "EXTERNAL_NOTIFICATION_URL": "http://127.0.0.1:9/",
            "POWER_DELAY": self.power_delay,
        }
        if self.username is not None:
            digest = bcrypt.hashpw((self.password or "").encode(), bcrypt.gensalt(rounds=4))
            auth_file = self._dir / "htpasswd"
            auth_file.write_text(f"{self.username}:{digest.decode()}\n")
            settings["SUSHY_EMULATOR_AUTH_FILE"] = str(auth_file)
        lines = [f"{key} = {value!r}" for key, value in settings.items()]
        return "\n".join(lines) + "\n" + _DRIVER_PATCH
