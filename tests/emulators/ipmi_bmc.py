"""An IPMI 2.0 BMC emulator on loopback UDP, built on ``pyghmi.ipmi.bmc.Bmc``.

Each emulated BMC keeps its machine's power state and boot device (with the persistence
flag) in memory and answers, over real RMCP+ sessions (cipher suite 3):

* Get Device ID, Get System GUID (application commands);
* Get Chassis Status, Chassis Control (on, off, cycle, reset, soft off), Get/Set System Boot
  Options (boot flags, parameter 5, persistence and UEFI bits kept);
* a small SDR repository: Get SDR Repository Info, Reserve SDR Repository, Get SDR with three
  Full Sensor Records (a temperature, a fan, a voltage), and Get Sensor Reading, so that
  ``pyghmi.ipmi.command.Command.get_sensor_data()`` returns real readings.

pyghmi's server side only implements cipher suite 3 (RAKP-HMAC-SHA1) yet accepts any proposal,
while pyghmi's client proposes SHA-256 first and falls back to SHA-1 only when refused: the
emulator refuses other algorithms so that the two agree.

Unknown user names are refused like wrong passwords (the BMC answers RAKP 2 with a key the
client cannot verify), so both show up as "Incorrect password provided" in pyghmi.

One process hosts any number of BMCs, one UDP port each, bound to 127.0.0.1 only, and
optionally their machines' front panel (power buttons, out of band) on a TCP port::

    python -m tests.emulators.ipmi_bmc --port 6230 --port 6231 --user admin --password secret \
        --panel 6300

``tests/emulators/ipmi.py`` runs that process for tests on free ports.
"""

from __future__ import annotations

import argparse
import os
import signal
import socketserver
import struct
import sys
import threading
import uuid
from dataclasses import dataclass
from types import FrameType
from typing import Any, ClassVar

import pyghmi.ipmi.bmc as pyghmi_bmc
import pyghmi.ipmi.private.serversession as pyghmi_serversession
import pyghmi.ipmi.private.session as pyghmi_session

MANUFACTURER_ID = 0xA2B3  # 3 bytes on the wire
PRODUCT_ID = 0x0042
FIRMWARE = (2, 0x17)  # major, minor (BCD): "2.17"

# Boot device selector values (bits 5:2 of boot flags data 2), IPMI table 28-14.
_BOOT_SELECTORS = {"default": 0x0, "network": 0x1, "hd": 0x2, "optical": 0x5, "setup": 0x6}
_BOOT_NAMES = {value: name for name, value in _BOOT_SELECTORS.items()}


@dataclass(frozen=True)
class Sensor:
    """A threshold sensor: ``value = raw * m * 10**exponent`` (linear, unsigned)."""

    number: int
    name: str
    sensor_type: int  # IPMI table 42-3: 1 temperature, 2 voltage, 4 fan
    entity: int  # IPMI table 43-13
    unit: int  # IPMI table 43-15: 1 degrees C, 4 volts, 18 RPM
    raw: int
    m: int = 1
    exponent: int = 0

    def record(self, record_id: int) -> bytes:
        """The Full Sensor Record (IPMI table 43-1), header included."""
        name = self.name.encode("ascii")
        body = bytes(
            [
                0x20,  # sensor owner: the BMC
                0x00,  # owner LUN
                self.number,
                self.entity,
                0x01,  # entity instance
                0x7F,  # initialisation: scanning and events enabled
                0x68,  # capabilities: thresholds readable
                self.sensor_type,
                0x01,  # event/reading type: threshold
                *(0x00,) * 6,  # event masks
                0x00,  # units 1: unsigned, no rate, no modifier
                self.unit,
                0x00,  # modifier unit
                0x00,  # linearisation: linear
                self.m & 0xFF,
                (self.m >> 2) & 0xC0,  # M high bits, tolerance 0
                0x00,  # B
                0x00,  # B high bits, accuracy
                0x00,  # accuracy, direction
                (self.exponent & 0xF) << 4,  # R exponent, B exponent 0
                0x00,  # analog characteristics
                self.raw,  # nominal reading
                *(0x00,) * 4,  # normal max/min, sensor max/min
                *(0x00,) * 6,  # thresholds
                0x00,
                0x00,  # hysteresis
                0x00,
                0x00,  # reserved
                0x00,  # OEM
                0xC0 | len(name),  # ID string: 8-bit ASCII
            ]
        )
        body += name
        return struct.pack("<HBBB", record_id, 0x51, 0x01, len(body)) + body


SENSORS = (
    Sensor(1, "CPU1 Temp", sensor_type=0x01, entity=0x03, unit=1, raw=40),
    Sensor(2, "Fan1", sensor_type=0x04, entity=0x1D, unit=18, raw=104, m=50),
    Sensor(3, "12V", sensor_type=0x02, entity=0x07, unit=4, raw=121, exponent=-1),
)


class _Accounts(dict[str, str]):
    """User name -> password; an unknown name gets a password nobody knows, so the client
    sees a refused login (real BMCs answer "unauthorized name") rather than silence."""

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key, os.urandom(16).hex())


class _Sha1Session(pyghmi_serversession.ServerSession):
    """pyghmi's server side only speaks cipher suite 3 (HMAC-SHA1) but accepts any proposal;
    pyghmi's client proposes SHA-256 first and falls back only when refused. Refuse it."""

    def create_open_session_response(self, request: bytearray) -> bytearray:
        if request[12] != 0x01:  # authentication algorithm other than RAKP-HMAC-SHA1
            no_match = 0x11  # no cipher suite matches the proposed algorithms
            return bytearray([request[0], no_match, 0, 0]) + request[4:8]
        response: bytearray = super().create_open_session_response(request)
        return response


class EmulatedBmc(pyghmi_bmc.Bmc):
    """One BMC and the machine behind it."""

    def __init__(self, accounts: dict[str, str], port: int, address: str = "127.0.0.1"):
        super().__init__(_Accounts(accounts), port=port, address=address)
        self.powerstate = "off"
        self.bootdevice = "default"
        self.boot_persistent = False
        self.boot_uefi = False
        self.boot_valid = False
        self.records = [sensor.record(index) for index, sensor in enumerate(SENSORS)]
        self.reservation = 0

    # -- the machine --------------------------------------------------------------------
    def get_power_state(self) -> str:
        return self.powerstate

    def power_on(self) -> None:
        self.powerstate = "on"

    def power_off(self) -> None:
        self.powerstate = "off"

    def power_shutdown(self) -> None:
        self.powerstate = "off"  # the OS honours the ACPI request at once

    def power_cycle(self) -> None:
        self.powerstate = "on"

    def power_reset(self) -> None:
        self.powerstate = "on"

    def is_active(self) -> bool:
        return self.powerstate == "on"

    def get_system_guid(self) -> uuid.UUID:
        guid: uuid.UUID = self.uuid
        return guid

    def cold_reset(self) -> int:
        return 0xC1  # not supported: the emulator must keep running

    def sessionless_data(self, data: bytes, sockaddr: Any) -> None:
        packet = bytearray(data)
        if len(packet) >= 22 and packet[4] == 0x06 and packet[5] == 0x10:  # open session
            _Sha1Session(
                self.authdata, self.kg, sockaddr, self.serversocket, packet[16:], self.uuid, self
            )
            return
        super().sessionless_data(data, sockaddr)

    # -- commands the base class answers too simply -------------------------------------
    def send_device_id(self, session: Any) -> None:
        data = [
            0x20,  # device id
            0x01,  # device revision; no device SDRs
            FIRMWARE[0],
            FIRMWARE[1],
            0x02,  # IPMI 2.0
            0x80 | 0x02 | 0x01,  # chassis, SDR repository, sensor device
            *struct.pack("<I", MANUFACTURER_ID)[:3],
            *struct.pack("<H", PRODUCT_ID),
            0,
            0,
            0,
            0,  # auxiliary firmware revision
        ]
        session.send_ipmi_response(data=data)

    def get_system_boot_options(self, request: Any, session: Any) -> None:
        if request["data"][0] != 5:  # only the boot flags parameter
            session.send_ipmi_response(code=0x80)
            return
        flags = 0
        if self.boot_valid:
            flags = 0x80 | (0x40 if self.boot_persistent else 0) | (0x20 if self.boot_uefi else 0)
        selector = _BOOT_SELECTORS.get(self.bootdevice, 0) << 2
        session.send_ipmi_response(data=[0x01, 0x05, flags, selector, 0, 0, 0])

    def set_system_boot_options(self, request: Any, session: Any) -> None:
        data = request["data"]
        if data[0] in (0, 3, 4):  # set in progress, info acknowledge...: accept
            session.send_ipmi_response()
            return
        if data[0] != 5 or len(data) < 3:
            session.send_ipmi_response(code=0xCC)
            return
        device = _BOOT_NAMES.get((data[2] >> 2) & 0b1111)
        if device is None:
            session.send_ipmi_response(code=0xCC)
            return
        self.boot_valid = bool(data[1] & 0x80)
        self.boot_persistent = bool(data[1] & 0x40)
        self.boot_uefi = bool(data[1] & 0x20)
        self.bootdevice = device if self.boot_valid else "default"
        session.send_ipmi_response()

    def handle_raw_request(self, request: Any, session: Any) -> None:
        if request["netfn"] == 0x0A and request["command"] in (0x20, 0x22, 0x23):
            self._storage(request, session)
        elif request["netfn"] == 0x04 and request["command"] == 0x2D:
            self._sensor_reading(request, session)
        else:
            super().handle_raw_request(request, session)

    # -- SDR repository and sensors -----------------------------------------------------
    def _storage(self, request: Any, session: Any) -> None:
        command, data = request["command"], request["data"]
        if command == 0x20:  # Get SDR Repository Info
            count = struct.pack("<H", len(self.records))
            stamp = struct.pack("<I", 1_700_000_000)
            info = [0x51, *count, 0x00, 0x00, *stamp, *stamp, 0x00]
            session.send_ipmi_response(data=info)
        elif command == 0x22:  # Reserve SDR Repository
            self.reservation = (self.reservation + 1) & 0xFFFF or 1
            session.send_ipmi_response(data=list(struct.pack("<H", self.reservation)))
        else:  # Get SDR
            record_id = data[2] | (data[3] << 8)
            offset, size = data[4], data[5]
            if record_id >= len(self.records):
                session.send_ipmi_response(code=0xCB)  # requested record not present
                return
            following = record_id + 1 if record_id + 1 < len(self.records) else 0xFFFF
            record = self.records[record_id]
            chunk = record[offset:] if size == 0xFF else record[offset : offset + size]
            session.send_ipmi_response(data=[*struct.pack("<H", following), *chunk])

    def _sensor_reading(self, request: Any, session: Any) -> None:
        number = request["data"][0] if request["data"] else -1
        for sensor in SENSORS:
            if sensor.number == number:
                # reading, scanning enabled, no threshold crossed
                session.send_ipmi_response(data=[sensor.raw, 0x40, 0x00])
                return
        session.send_ipmi_response(code=0xCB)


class _FrontPanel(socketserver.StreamRequestHandler):
    """One line per request, one line per answer: ``power <bmc port>`` answers ``on`` or
    ``off``; ``press <bmc port> on|off`` sets the machine's power and answers ``ok``.
    Anything else answers ``error: ...``."""

    machines: ClassVar[dict[int, EmulatedBmc]] = {}

    def handle(self) -> None:
        for line in self.rfile:
            self.wfile.write(
                (self._answer(line.decode("ascii", "replace").split()) + "\n").encode()
            )

    def _answer(self, words: list[str]) -> str:
        if len(words) < 2 or not words[1].isdigit() or int(words[1]) not in self.machines:
            return "error: expected 'power PORT' or 'press PORT on|off' for a known BMC port"
        machine = self.machines[int(words[1])]
        if words[0] == "power" and len(words) == 2:
            return machine.powerstate
        if words[0] == "press" and len(words) == 3 and words[2] in ("on", "off"):
            machine.powerstate = words[2]
            return "ok"
        return f"error: unknown request {' '.join(words)!r}"


def front_panel(address: str, port: int, bmcs: list[EmulatedBmc]) -> socketserver.TCPServer:
    """Serve :class:`_FrontPanel` on ``address:port`` (TCP) in a daemon thread: the machines'
    power buttons, out of band, as a person in the data centre would press them."""
    _FrontPanel.machines = {machine.port: machine for machine in bmcs}
    server = socketserver.ThreadingTCPServer((address, port), _FrontPanel)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="front-panel", daemon=True).start()
    return server


def serve(
    ports: list[int], accounts: dict[str, str], address: str = "127.0.0.1", panel: int = 0
) -> None:
    """Run BMCs on ``ports`` until SIGTERM or SIGINT (and their front panel on TCP ``panel``)."""
    # Server sockets are IPv4 on loopback: make pyghmi's wake-up packets IPv4 too.
    pyghmi_session.ipv6support = False
    pyghmi_session.myself = address
    bmcs = [EmulatedBmc(accounts, port=port, address=address) for port in ports]
    if panel:
        front_panel(address, panel, bmcs)
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"ipmi_bmc: {len(bmcs)} BMC(s) on {address} ports {ports}", flush=True)
    while not stopping:
        pyghmi_session.Session.wait_for_rsp(0.2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--port", type=int, action="append", required=True, help="repeatable")
    parser.add_argument("--user", default="admin")
    parser.add_argument("--password", default="password")
    parser.add_argument("--address", default="127.0.0.1")
    parser.add_argument("--panel", type=int, default=0, help="TCP port of the front panel")
    args = parser.parse_args(argv)
    serve(args.port, {args.user: args.password}, args.address, args.panel)
    return 0


if __name__ == "__main__":
    sys.exit(main())
