"""A small client for the Ironworks REST API (standard library only).

Every request carries ``X-OpenStack-Ironic-API-Version: latest`` and, when a user is given,
HTTP basic credentials. An error answer becomes :class:`CommandFailed` with the API's own
message (its Ironic ``faultstring``) and exit code 1; an API that cannot be reached (refused,
unknown host, timeout) exits 2.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from app.cli.output import CommandFailed

DEFAULT_URL = "http://127.0.0.1:6385"
EXIT_API_ERROR = 1
EXIT_UNREACHABLE = 2


def fault_message(status: int, raw: bytes) -> str:
    """The one-line message of an error answer in Ironic's format (or its text)."""
    text = raw.decode("utf-8", errors="replace").strip()
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    message: Any = body.get("error_message") if isinstance(body, dict) else None
    if isinstance(message, str):
        with contextlib.suppress(ValueError):
            message = json.loads(message)
    if isinstance(message, dict):
        message = message.get("faultstring") or message
    if message is None:
        message = body.get("message") if isinstance(body, dict) else None
    line = str(message if message is not None else text or "no details")
    return f"{' '.join(line.split())} (HTTP {status})"


@dataclass(frozen=True)
class Client:
    """Talks to the API at ``url``; ``timeout`` is per request, in seconds."""

    url: str = DEFAULT_URL
    user: str | None = None
    password: str | None = None
    timeout: float = 30.0

    @classmethod
    def from_args(cls, url: str | None, user: str | None, password: str | None) -> Client:
        """Options first, then ``IRONWORKS_API_URL`` / ``_USER`` / ``_PASSWORD``."""
        env = os.environ
        return cls(
            url=(url or env.get("IRONWORKS_API_URL") or DEFAULT_URL).rstrip("/"),
            user=user or env.get("IRONWORKS_API_USER") or None,
            password=password or env.get("IRONWORKS_API_PASSWORD") or None,
        )

    def headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json", "X-OpenStack-Ironic-API-Version": "latest"}
        if self.user is not None:
            pair = f"{self.user}:{self.password or ''}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        return headers

    def request(self, method: str, path: str, body: Any = None) -> Any:
        """Send one request; the decoded JSON answer (None when there is no body)."""
        data = None if body is None else json.dumps(body).encode()
        headers = self.headers()
        if data is not None:
            headers["Content-Type"] = "application/json"
        try:
            req = urllib.request.Request(self.url + path, data, headers, method=method)
            with urllib.request.urlopen(req, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raise CommandFailed(fault_message(exc.code, exc.read()), EXIT_API_ERROR) from None
        except (urllib.error.URLError, OSError) as exc:
            raise CommandFailed(self._unreachable(exc), EXIT_UNREACHABLE) from None
        except ValueError as exc:  # a malformed --url
            raise CommandFailed(f"invalid API URL {self.url!r}: {exc}", EXIT_UNREACHABLE) from None
        return json.loads(raw) if raw.strip() else None

    def _unreachable(self, exc: Exception) -> str:
        reason: Any = getattr(exc, "reason", exc)
        if isinstance(reason, ConnectionRefusedError):
            why = "connection refused (is the API running? see --url / IRONWORKS_API_URL)"
        elif isinstance(reason, TimeoutError | socket.timeout):
            why = f"no answer within {self.timeout:g}s"
        else:
            why = str(reason)
        return f"cannot reach the Ironworks API at {self.url}: {why}"

    def get(self, path: str) -> Any:
        return self.request("GET", path)

    def put(self, path: str, body: Any) -> Any:
        return self.request("PUT", path, body)

    def follow(self, link: str) -> Any:
        """GET a ``next`` link the API returned (absolute), relative to our own URL."""
        if link.startswith(self.url + "/"):
            return self.get(link[len(self.url) :])
        parts = urlsplit(link)
        return self.get(parts.path + (f"?{parts.query}" if parts.query else ""))


def node_path(ident: str, *rest: str) -> str:
    """``/v1/nodes/<ident>[/rest...]`` with the identifier quoted."""
    return "/".join(("/v1/nodes", quote(ident, safe=""), *rest))
