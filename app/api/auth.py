"""Who may call the REST API, and what each caller sees.

``IRONWORKS_AUTH_STRATEGY`` picks one of two strategies, as Ironic's ``auth_strategy``:

``noauth`` (the default, for the quick start)
    No credentials; every caller may do everything. The API then serves loopback only:
    :func:`install` refuses to build the app when ``IRONWORKS_API_HOST`` is anything else,
    logs a WARNING at every start that the API is unauthenticated, and answers 403 to any
    request that arrived on a non-loopback address of the machine, whatever address the
    server was told to bind (:func:`loopback_only` reads the connection's own socket).

``http_basic``
    HTTP Basic credentials checked against a bcrypt htpasswd file
    (``IRONWORKS_HTPASSWD_FILE``, lines ``user:$2y$...`` as ``htpasswd -B`` writes them; other
    hash schemes are ignored with a warning). Roles come from two comma lists:

    * ``IRONWORKS_ADMIN_USERS``: everything, seeing what the API shows (every secret is
      masked for everyone, by the one rule of :mod:`app.masking`).
    * ``IRONWORKS_READER_USERS``: GET, HEAD and OPTIONS only (anything else is a 403), and
      every JSON answer goes through :func:`app.masking.mask` once more, as a net under
      the views. The ``/v1/drivers`` tree is exempt: it documents parameters and stores
      no values.

    A user in both lists is an admin. A user with valid credentials in neither list gets
    403 everywhere: no role is ever given implicitly.

Public in both strategies, as in Ironic: ``GET /`` and ``GET /v1`` (version discovery), and
``/v1/swagger.json``, ``/v1/docs`` with its ``/swaggerui`` assets (the API's description,
which holds no data).

Missing, malformed or wrong credentials answer 401 with the usual error body and
``WWW-Authenticate: Basic realm="Ironworks"``; an unknown user and a wrong password get the
same answer after the same bcrypt work (a dummy hash of the file's cost stands in for the
missing user). bcrypt costs 0.1-0.5 s per check, so results are cached for
:data:`CACHE_TTL` seconds in a small in-process LRU keyed by an HMAC (random per-process
key) of user and password; the cache is emptied whenever the file changes (mtime, size or
inode), so an edited file takes effect on the next request. A missing or unreadable file
lets nobody in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import logging
import math
import os
import secrets
import threading
import time
from collections import OrderedDict

import bcrypt
from flask import Flask, Response, g, request

from app import exceptions, masking
from app.api.login_budget import FailureBudget
from app.config import Settings

LOG = logging.getLogger(__name__)

NOAUTH = "noauth"
HTTP_BASIC = "http_basic"
ADMIN = "admin"
READER = "reader"
REALM = 'Basic realm="Ironworks"'
CACHE_TTL = 60.0
CACHE_SIZE = 1024
READ_METHODS = frozenset(("GET", "HEAD", "OPTIONS"))
_PUBLIC_PATHS = frozenset(("", "/v1", "/v1/swagger.json", "/v1/docs"))
_BCRYPT_PREFIXES = (b"$2a$", b"$2b$", b"$2y$")
#: bcrypt reads at most 72 bytes of a password, and so does ``htpasswd -B``.
_BCRYPT_MAX = 72
_UNMASKED_PREFIX = "/v1/drivers"


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (``127.0.0.0/8``, ``::1``, and
    ``::ffff:127.x.y.z``)."""
    host = host.strip().strip("[]").split("%", 1)[0]
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return bool((mapped or address).is_loopback)


def local_address() -> str | None:
    """The address of this machine the request's connection arrived on, read from the
    connection's socket (gunicorn's or werkzeug's), or None if the server does not say."""
    sock = request.environ.get("gunicorn.socket") or request.environ.get("werkzeug.socket")
    try:
        return str(sock.getsockname()[0]) if sock is not None else None
    except (OSError, AttributeError, IndexError, TypeError):
        return None


def loopback_only() -> None:
    """``noauth``'s ``before_request`` hook: a request that arrived on anything but a
    loopback address is a 403, however the server was told to listen (``--bind 0.0.0.0``,
    a config file, a socket handed over by systemd)."""
    arrived_on = local_address()
    if arrived_on is not None and not is_loopback(arrived_on):
        LOG.error(
            "Refused a request that arrived on %s: IRONWORKS_AUTH_STRATEGY=noauth serves "
            "loopback only; bind 127.0.0.1 or use http_basic",
            arrived_on,
        )
        raise exceptions.Forbidden(
            reason="this API has no authentication (noauth) and serves loopback only"
        )


class Htpasswd:
    """The users of a bcrypt htpasswd file, re-read when the file changes.

    :meth:`check` is thread-safe; bcrypt runs outside the lock so checks run in parallel.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._hashes: dict[str, bytes] = {}
        self._dummy = b""
        #: Bumped at each re-read, so a check that began on the old file caches nothing.
        self._generation = 0
        self._cache: OrderedDict[bytes, tuple[bool, float]] = OrderedDict()
        self._key = secrets.token_bytes(32)
        self._refresh()

    def users(self) -> set[str]:
        self._refresh()
        with self._lock:
            return set(self._hashes)

    def check(self, user: str, password: str) -> bool:
        """Whether ``password`` is ``user``'s; unknown users cost the same bcrypt work."""
        self._refresh()
        digest = hmac.new(self._key, f"{user}\0{password}".encode(), hashlib.sha256).digest()
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(digest)
            if cached is not None and cached[1] > now:
                self._cache.move_to_end(digest)
                return cached[0]
            stored = self._hashes.get(user)
            candidate = stored or self._dummy
            generation = self._generation
        try:
            ok = bcrypt.checkpw(password.encode()[:_BCRYPT_MAX], candidate) and bool(stored)
        except ValueError:  # a damaged hash in the file: that user cannot log in
            LOG.error("htpasswd file %s: the hash of user %r is not valid bcrypt", self.path, user)
            ok = False
        with self._lock:
            if generation == self._generation:
                self._cache[digest] = (ok, now + CACHE_TTL)
                self._cache.move_to_end(digest)
                while len(self._cache) > CACHE_SIZE:
                    self._cache.popitem(last=False)
        return ok

    def _refresh(self) -> None:
        try:
            info = os.stat(self.path)
            stamp: tuple[int, int, int] | None = (info.st_mtime_ns, info.st_size, info.st_ino)
        except OSError:
            stamp = None
        with self._lock:
            if stamp == self._stamp and self._dummy:
                return
            self._stamp = stamp
            self._hashes = self._read() if stamp is not None else {}
            if stamp is None:
                LOG.error("htpasswd file %s cannot be read: nobody can log in", self.path)
            self._dummy = _dummy_hash(self._hashes)
            self._generation += 1
            self._cache.clear()

    def _read(self) -> dict[str, bytes]:
        hashes: dict[str, bytes] = {}
        try:
            with open(self.path, encoding="utf-8") as lines:
                for number, line in enumerate(lines, 1):
                    line = line.strip()
                    if not line or line.startswith("#"):
                        continue
                    user, _, hashed = line.partition(":")
                    if not hashed.encode().startswith(_BCRYPT_PREFIXES):
                        LOG.warning(
                            "%s line %d (user %r) ignored: only bcrypt hashes (htpasswd -B) "
                            "are supported",
                            self.path,
                            number,
                            user,
                        )
                        continue
                    hashes[user] = hashed.encode()
        except (OSError, UnicodeDecodeError) as exc:
            LOG.error("htpasswd file %s cannot be read (%s): nobody can log in", self.path, exc)
            return {}
        return hashes


def _dummy_hash(hashes: dict[str, bytes]) -> bytes:
    """A hash of the same cost as the file's, checked for users who are not in it."""
    cost = 12
    for hashed in hashes.values():
        try:
            cost = int(hashed.split(b"$")[2])
            break
        except (IndexError, ValueError):
            continue
    return bcrypt.hashpw(secrets.token_bytes(16), bcrypt.gensalt(rounds=min(max(cost, 4), 16)))


def credentials() -> tuple[str, str]:
    """The user and password of the request's ``Authorization: Basic`` header, or a 401."""
    header = request.headers.get("Authorization", "")
    scheme, _, encoded = header.partition(" ")
    if not header:
        raise exceptions.NotAuthorized(reason="send HTTP Basic credentials")
    if scheme.lower() != "basic":
        raise exceptions.NotAuthorized(reason="only HTTP Basic credentials are accepted")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except ValueError:  # not base64 (binascii.Error), not ASCII, not UTF-8 once decoded
        raise exceptions.NotAuthorized(reason="malformed HTTP Basic credentials") from None
    user, sep, password = decoded.partition(":")
    if not sep or not user:
        raise exceptions.NotAuthorized(reason="malformed HTTP Basic credentials")
    return user, password


def is_public() -> bool:
    """Version discovery and the API's own description need no credentials."""
    if request.method not in ("GET", "HEAD"):
        return False
    path = request.path.rstrip("/")
    return path in _PUBLIC_PATHS or path.startswith("/swaggerui/")


class BasicAuth:
    """The ``http_basic`` request hooks: who is calling, may they, and what they see."""

    def __init__(self, settings: Settings) -> None:
        self.htpasswd = Htpasswd(settings.htpasswd_file)
        self.admins = frozenset(settings.admin_users)
        self.readers = frozenset(settings.reader_users) - self.admins
        self.budget = FailureBudget(settings.auth_failure_limit, settings.auth_failure_window)

    def role_of(self, user: str) -> str | None:
        if user in self.admins:
            return ADMIN
        return READER if user in self.readers else None

    def before_request(self) -> None:
        """Authenticate (401) and authorise (403) every non-public request."""
        g.auth_role = None
        if is_public():
            return
        user, password = credentials()
        keys = (f"addr:{request.remote_addr}", f"user:{user}")
        wait = self.budget.retry_after(*keys)
        if wait > 0:
            g.retry_after = math.ceil(wait)
            raise exceptions.TooManyRequests(seconds=g.retry_after)
        if not self.htpasswd.check(user, password):
            self.budget.fail(*keys)
            LOG.warning("Failed login for user %r from %s", user[:64], request.remote_addr)
            raise exceptions.NotAuthorized(reason="the user name or password is wrong")
        role = self.role_of(user)
        if role is None:
            raise exceptions.Forbidden(reason=f"user {user!r} has no role")
        if role == READER and request.method not in READ_METHODS:
            raise exceptions.Forbidden(reason=f"user {user!r} may only read (role {READER})")
        g.auth_role = role

    def after_request(self, response: Response) -> Response:
        """Challenge on 401; mask reader answers."""
        if response.status_code == 401:
            response.headers["WWW-Authenticate"] = REALM
        if response.status_code == 429:
            response.headers["Retry-After"] = str(g.get("retry_after", 1))
        if (
            g.get("auth_role") == READER
            and response.is_json
            and not request.path.startswith(_UNMASKED_PREFIX)
        ):
            body = response.get_json(silent=True)
            if body is not None:
                response.set_data(json.dumps(masking.mask(body)))
        return response


def install(app: Flask, settings: Settings) -> None:
    """Set up the configured strategy on ``app``; a ConfigurationError stops the start."""
    if settings.auth_strategy == NOAUTH:
        if not is_loopback(settings.api_host):
            raise exceptions.ConfigurationError(
                reason=f"IRONWORKS_AUTH_STRATEGY=noauth serves the API without any "
                f"authentication, so it may only listen on loopback, but IRONWORKS_API_HOST "
                f"is {settings.api_host!r}. Set IRONWORKS_AUTH_STRATEGY=http_basic (see the "
                f"README) or IRONWORKS_API_HOST=127.0.0.1."
            )
        LOG.warning(
            "IRONWORKS_AUTH_STRATEGY=noauth: THE REST API IS UNAUTHENTICATED; anyone who can "
            "reach %s can control every node. Use http_basic beyond a development machine.",
            settings.api_host,
        )
        app.before_request(loopback_only)
        return
    if settings.auth_strategy != HTTP_BASIC:
        raise exceptions.ConfigurationError(
            reason=f"IRONWORKS_AUTH_STRATEGY must be {NOAUTH!r} or {HTTP_BASIC!r}, "
            f"got {settings.auth_strategy!r}"
        )
    basic = BasicAuth(_checked(settings))
    missing = sorted((basic.admins | basic.readers) - basic.htpasswd.users())
    if missing:
        LOG.warning("Users with a role but no bcrypt entry in the htpasswd file: %s", missing)
    app.before_request(basic.before_request)
    app.after_request(basic.after_request)
    LOG.info(
        "REST API authentication: http_basic (%s), %d admin(s), %d reader(s)",
        settings.htpasswd_file,
        len(basic.admins),
        len(basic.readers),
    )


def _checked(settings: Settings) -> Settings:
    if not settings.htpasswd_file:
        raise exceptions.ConfigurationError(
            reason="IRONWORKS_AUTH_STRATEGY=http_basic needs IRONWORKS_HTPASSWD_FILE, a bcrypt "
            "htpasswd file (htpasswd -cB FILE USER)"
        )
    if not os.access(settings.htpasswd_file, os.R_OK):
        raise exceptions.ConfigurationError(
            reason=f"IRONWORKS_HTPASSWD_FILE {settings.htpasswd_file!r} cannot be read"
        )
    if not settings.admin_users and not settings.reader_users:
        raise exceptions.ConfigurationError(
            reason="IRONWORKS_AUTH_STRATEGY=http_basic with neither IRONWORKS_ADMIN_USERS nor "
            "IRONWORKS_READER_USERS set would refuse everyone"
        )
    return settings
