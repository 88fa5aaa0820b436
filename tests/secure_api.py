"""An ``http_basic`` API for tests (a pytest plugin, loaded by ``conftest.py``): users
``admin`` (admin), ``reader`` and ``rotor`` (readers) and ``nobody`` (no role), each with a
random password in :data:`PASSWORDS`.

The API is a gunicorn process started as the Procfile starts it, with a bcrypt htpasswd file
written here; it shares the test database and broker, so the conductors of the ``system``
fixture serve the nodes it creates.
"""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import bcrypt
import pytest

from tests.helpers import LATEST
from tests.services import LiveAPI

COST = 10
PASSWORDS = {name: secrets.token_urlsafe(12) for name in ("admin", "reader", "nobody", "rotor")}


def write_htpasswd(path: Path, passwords: dict[str, str]) -> None:
    """As ``htpasswd -B`` writes it (``$2y$``), replaced atomically as editors do."""
    lines = []
    for user, password in passwords.items():
        hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=COST)).decode()
        lines.append(f"{user}:$2y${hashed[4:]}\n")
    tmp = path.with_suffix(".tmp")
    tmp.write_text("# users of the auth tests\n" + "".join(lines))
    os.replace(tmp, path)


@pytest.fixture(scope="module")
def htpasswd(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("auth") / "htpasswd"
    write_htpasswd(path, PASSWORDS)
    return path


@pytest.fixture(scope="module")
def secure_api(system: dict[str, object], logdir: Path, htpasswd: Path) -> Iterator[LiveAPI]:
    env = {
        "IRONWORKS_AUTH_STRATEGY": "http_basic",
        "IRONWORKS_HTPASSWD_FILE": str(htpasswd),
        "IRONWORKS_ADMIN_USERS": "admin",
        "IRONWORKS_READER_USERS": "reader, rotor",
        "IRONWORKS_AUTH_FAILURE_LIMIT": "0",  # the tests try wrong passwords on purpose
    }
    live = LiveAPI(env=env, logdir=logdir)
    yield live
    live.stop()


def as_user(user: str, password: str | None = None) -> dict[str, Any]:
    """``requests`` arguments authenticating as ``user`` (its own password by default)."""
    return {"auth": (user, PASSWORDS[user] if password is None else password), "headers": LATEST}


def create_node(api: LiveAPI, **fields: Any) -> dict[str, Any]:
    body = {"driver": "fake-hardware", "name": f"auth-{uuid.uuid4().hex[:10]}", **fields}
    response = api.post("/v1/nodes", json=body, **as_user("admin"))
    assert response.status_code == 201, response.text
    return dict(response.json())
