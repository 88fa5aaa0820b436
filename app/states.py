"""Names of power and provision states as Ironic's API exposes them (names only)."""

from __future__ import annotations

# Power states
POWER_ON = "power on"
POWER_OFF = "power off"
REBOOT = "rebooting"
SOFT_REBOOT = "soft rebooting"
SOFT_POWER_OFF = "soft power off"
ERROR = "error"
NOSTATE: None = None

#: Targets accepted by ``PUT /v1/nodes/<id>/states/power``.
POWER_TARGETS = (POWER_ON, POWER_OFF, REBOOT, SOFT_REBOOT, SOFT_POWER_OFF)

# Provision states (the full machine arrives with the lifecycle work)
ENROLL = "enroll"
VERIFYING = "verifying"
MANAGEABLE = "manageable"
AVAILABLE = "available"
ACTIVE = "active"
ADOPTFAIL = "adopt failed"

#: Provision states in which a node may be deleted (Ironic's default, which allows available).
DELETE_ALLOWED_STATES = (ENROLL, MANAGEABLE, AVAILABLE, ADOPTFAIL)
