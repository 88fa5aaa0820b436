"""Runs the IPMI BMC emulator (``tests/emulators/ipmi_bmc.py``) for tests.

:class:`IPMIEmulator` starts one subprocess hosting N BMCs on free 127.0.0.1 UDP ports, waits
until every BMC answers, and stops it. Tests see and change a machine's power "behind the
driver's back" through the emulator's front panel (a line protocol on a TCP port), not over
IPMI: the test process then shares no pyghmi state with the driver under test, so what one
test does to pyghmi's sessions cannot blind another's view of the machines.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from drivers.ipmi import rmcp

ROOT = Path(__file__).resolve().parents[2]


def free_udp_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """``count`` distinct UDP ports free on ``host`` right now."""
    return _free_ports(count, host, socket.SOCK_DGRAM)


def _free_ports(count: int, host: str, kind: int) -> list[int]:
    sockets = [socket.socket(socket.AF_INET, kind) for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind((host, 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def answers(host: str, port: int, timeout: float = 0.5) -> bool:
    """Whether an IPMI BMC answers a sessionless request on ``host:port``."""
    answer = rmcp.probe(host, port, timeout)
    return answer is not None and answer.startswith(rmcp.RMCP_HEADER)


class IPMIEmulator:
    """A subprocess hosting ``count`` BMCs on free 127.0.0.1 UDP ports; a context manager."""

    host = "127.0.0.1"

    def __init__(
        self,
        count: int = 1,
        user: str = "admin",
        password: str = "password",
        ports: list[int] | None = None,
    ):
        self.user, self.password = user, password
        self._chosen = not ports
        self.ports = list(ports) if ports else free_udp_ports(count, self.host)
        self.panel = 0
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 15.0) -> IPMIEmulator:
        for _ in range(3):  # a free port may be taken between choosing it and binding it
            self.panel = _free_ports(1, self.host, socket.SOCK_STREAM)[0]
            if self._launch(timeout):
                return self
            if self._chosen:
                self.ports = free_udp_ports(len(self.ports), self.host)
        raise RuntimeError(f"the IPMI emulator could not start on ports {self.ports}")

    def _launch(self, timeout: float) -> bool:
        argv = [sys.executable, "-m", "tests.emulators.ipmi_bmc", "--user", self.user]
        argv += ["--password", self.password, "--address", self.host, "--panel", str(self.panel)]
        for port in self.ports:
            argv += ["--port", str(port)]
        self.proc = subprocess.Popen(
            argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + timeout
        waiting = list(self.ports)
        while waiting:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                return False
            waiting = [port for port in waiting if not answers(self.host, port, 0.2)]
        return True

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def driver_info(self, index: int = 0, **overrides: Any) -> dict[str, Any]:
        """The ``driver_info`` of a node managed by BMC ``index``."""
        info: dict[str, Any] = {
            "ipmi_address": self.host,
            "ipmi_port": self.ports[index],
            "ipmi_username": self.user,
            "ipmi_password": self.password,
        }
        info.update(overrides)
        return info

    def _front_panel(self, request: str) -> str:
        with socket.create_connection((self.host, self.panel), timeout=5) as conn:
            conn.sendall(request.encode("ascii") + b"\n")
            answer = conn.makefile("r", encoding="ascii").readline().strip()
        if not answer or answer.startswith("error"):
            raise RuntimeError(f"front panel: {request!r} -> {answer!r}")
        return answer

    def power_state(self, index: int) -> str:
        """Machine ``index``'s power now (``"on"``/``"off"``), read from its front panel."""
        return self._front_panel(f"power {self.ports[index]}")

    def press_power_button(self, index: int, state: str) -> None:
        """Set machine ``index``'s power (``"on"``/``"off"``) as a person at the machine would:
        the driver's session is not involved."""
        self._front_panel(f"press {self.ports[index]} {state}")

    def __enter__(self) -> IPMIEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
