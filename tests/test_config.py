"""Settings are read from ``IRONWORKS_*`` by their declared type, and bad values stop the
process with a message naming the variable."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from app import states
from app.config import Settings, env_name


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No ``IRONWORKS_*`` variable but the state dir (the suite sets many)."""
    import os

    for name in [n for n in os.environ if n.startswith("IRONWORKS_")]:
        if name != "IRONWORKS_STATE_DIR":
            monkeypatch.delenv(name)
    return monkeypatch


def test_defaults_are_the_declared_ones(clean_env: pytest.MonkeyPatch) -> None:
    settings = Settings.from_env()
    declared = Settings()
    for spec in dataclasses.fields(Settings):
        if spec.name not in ("database_url", "broker_url", "fake_delays", "callback_timeouts"):
            assert getattr(settings, spec.name) == getattr(declared, spec.name), spec.name
    assert settings.database_url.startswith("sqlite:///") and settings.database_url.endswith(
        "ironworks.sqlite"
    )
    password = (Path(os.environ["IRONWORKS_STATE_DIR"]) / "broker.password").read_text().strip()
    assert settings.broker_url == f"redis://:{password}@127.0.0.1:6390/0"
    assert settings.fake_delays == dict.fromkeys(
        ("power", "management", "boot", "deploy", "clean"), 0.0
    )
    assert settings.callback_timeouts[states.DEPLOYWAIT] == 1800.0


def test_each_type_is_parsed(clean_env: pytest.MonkeyPatch) -> None:
    for name, value in {
        "conductor_group": " Rack-12 ",
        "bmc_timeout": "2.5",
        "sync_power_state_workers": "16",
        "force_power_state_during_sync": "no",
        "enabled_hardware_types": "ipmi, redfish,,",
        "log_format": "JSON",
    }.items():
        clean_env.setenv(env_name(name), value)
    clean_env.setenv("IRONWORKS_FAKE_DEPLOY_DELAY", "1.5")
    clean_env.setenv("IRONWORKS_CLEAN_CALLBACK_TIMEOUT", "30")
    settings = Settings.from_env()
    assert settings.conductor_group == "rack-12"
    assert settings.bmc_timeout == 2.5
    assert settings.sync_power_state_workers == 16
    assert settings.force_power_state_during_sync is False
    assert settings.enabled_hardware_types == ["ipmi", "redfish"]
    assert settings.log_format == "json"
    assert settings.fake_delays["deploy"] == 1.5 and settings.fake_delays["power"] == 0.0
    assert settings.callback_timeouts[states.CLEANWAIT] == 30.0


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("IRONWORKS_BMC_TIMEOUT", "soon", "must be a number"),
        ("IRONWORKS_BMC_ATTEMPTS", "0", "at least 1"),
        ("IRONWORKS_FAKE_POWER_DELAY", "slow", "must be a number"),
        ("IRONWORKS_LOG_FORMAT", "xml", "one of text, json"),
        ("IRONWORKS_HEARTBEAT_TIMEOUT", "1", "must be larger than"),
    ],
)
def test_bad_values_name_the_variable(
    clean_env: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    clean_env.setenv(variable, value)
    with pytest.raises(ValueError, match=message) as caught:
        Settings.from_env()
    assert variable in str(caught.value)
