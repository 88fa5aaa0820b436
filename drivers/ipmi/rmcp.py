"""Sessionless RMCP on a plain UDP socket: is something that speaks IPMI listening?

pyghmi drops datagrams that are not RMCP, so a port that answers garbage looks silent to
it. After a timeout, ``drivers.ipmi.client`` sends one sessionless "Get Channel
Authentication Capabilities" request with :func:`probe`: bytes that do not start with
:data:`RMCP_HEADER` mean a protocol error rather than a timeout. The test emulators use the
same probe to wait until their BMCs answer.
"""

from __future__ import annotations

import socket

RMCP_HEADER = b"\x06\x00\xff\x07"


def auth_capabilities_request() -> bytes:
    """A sessionless Get Channel Authentication Capabilities request (IPMI 1.5 framing)."""
    header = bytes([0x20, 0x06 << 2])  # to the BMC, application netfn
    body = bytes([0x81, 0x00, 0x38, 0x8E, 0x04])  # from software 81h: cmd 38h, IPMI 2.0
    session = bytes([0x00, 0, 0, 0, 0, 0, 0, 0, 0, len(header) + len(body) + 2])
    return (
        RMCP_HEADER
        + session
        + header
        + bytes([-sum(header) & 0xFF])
        + body
        + bytes([-sum(body) & 0xFF])
    )


def probe(host: str, port: int, timeout: float) -> bytes | None:
    """What ``host:port`` answers to a sessionless IPMI request; None if it stays silent."""
    try:
        family, kind, proto, _, sockaddr = socket.getaddrinfo(host, port, 0, socket.SOCK_DGRAM)[0]
        with socket.socket(family, kind, proto) as sock:
            sock.settimeout(timeout)
            sock.sendto(auth_capabilities_request(), sockaddr)
            return sock.recv(1024)
    except OSError:
        return None
