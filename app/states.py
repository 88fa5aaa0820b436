"""Names of power and provision states as Ironic's API exposes them (names only).

The transitions between provision states live in one table in ``app/state_machine.py``.
"""

from __future__ import annotations

# -- power states ---------------------------------------------------------------------------
POWER_ON = "power on"
POWER_OFF = "power off"
REBOOT = "rebooting"
SOFT_REBOOT = "soft rebooting"
SOFT_POWER_OFF = "soft power off"
ERROR = "error"
NOSTATE: None = None

#: Targets accepted by ``PUT /v1/nodes/<id>/states/power``.
POWER_TARGETS = (POWER_ON, POWER_OFF, REBOOT, SOFT_REBOOT, SOFT_POWER_OFF)

# -- provision states -----------------------------------------------------------------------
ENROLL = "enroll"
VERIFYING = "verifying"
MANAGEABLE = "manageable"
INSPECTING = "inspecting"
INSPECTWAIT = "inspect wait"
INSPECTFAIL = "inspect failed"
AVAILABLE = "available"
DEPLOYING = "deploying"
DEPLOYWAIT = "wait call-back"
DEPLOYFAIL = "deploy failed"
ACTIVE = "active"
DELETING = "deleting"
CLEANING = "cleaning"
CLEANWAIT = "clean wait"
CLEANFAIL = "clean failed"
# ERROR = "error" (shared with the power state of the same name)
REBUILD = "rebuild"  # a verb that Ironic also lists among its states
ADOPTING = "adopting"
ADOPTFAIL = "adopt failed"
RESCUING = "rescuing"
RESCUEWAIT = "rescue wait"
RESCUE = "rescue"
RESCUEFAIL = "rescue failed"
UNRESCUING = "unrescuing"
UNRESCUEFAIL = "unrescue failed"

# -- verbs of PUT /v1/nodes/<id>/states/provision -------------------------------------------
VERB_MANAGE = "manage"
VERB_PROVIDE = "provide"
VERB_INSPECT = "inspect"
VERB_ACTIVE = "active"
VERB_DEPLOY = "deploy"
VERB_REBUILD = "rebuild"
VERB_DELETED = "deleted"
VERB_UNDEPLOY = "undeploy"
VERB_CLEAN = "clean"
VERB_ABORT = "abort"
VERB_ADOPT = "adopt"
VERB_RESCUE = "rescue"
VERB_UNRESCUE = "unrescue"

# -- events the conductor fires as work progresses ------------------------------------------
EV_DONE = "done"
EV_FAIL = "fail"
EV_WAIT = "wait"
EV_RESUME = "resume"

#: Provision states in which a node may be deleted (Ironic's default, which allows available).
DELETE_ALLOWED_STATES = (ENROLL, MANAGEABLE, AVAILABLE, ADOPTFAIL)

#: States in which nothing runs on a node: its interfaces, resource class and allocation may
#: change (Ironic's ``UPDATE_ALLOWED_STATES``).
UPDATE_ALLOWED_STATES = (ENROLL, INSPECTING, INSPECTWAIT, MANAGEABLE, AVAILABLE)

#: States in which work is running; a conductor that dies leaves nodes in these.
TRANSIENT_STATES = (
    VERIFYING,
    INSPECTING,
    DEPLOYING,
    DELETING,
    CLEANING,
    ADOPTING,
    RESCUING,
    UNRESCUING,
)
#: Waits for an outside callback; they end by callback, abort or timeout.
WAIT_STATES = (INSPECTWAIT, DEPLOYWAIT, CLEANWAIT, RESCUEWAIT)
