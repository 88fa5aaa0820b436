"""Ironic's provision state machine as one declarative table.

``TRANSITIONS`` lists every ``(source, event, destination)``. API verbs map to events through
``VERB_EVENTS``; the conductor fires ``done``, ``fail``, ``wait`` and ``resume`` as work
progresses. ``TARGETS`` gives the ``target_provision_state`` recorded while a node is in a
state (``None`` for stable states). Nothing else in the code compares state strings to decide
what may happen: it asks :func:`next_state`.
"""

from __future__ import annotations

from app import exceptions
from app import states as s

TRANSITIONS: tuple[tuple[str, str, str], ...] = (
    # enrollment and verification
    (s.ENROLL, "manage", s.VERIFYING),
    (s.VERIFYING, s.EV_DONE, s.MANAGEABLE),
    (s.VERIFYING, s.EV_FAIL, s.ENROLL),
    # manageable / available
    (s.MANAGEABLE, "provide", s.CLEANING),
    (s.MANAGEABLE, "clean", s.CLEANING),
    (s.MANAGEABLE, "inspect", s.INSPECTING),
    (s.MANAGEABLE, "adopt", s.ADOPTING),
    (s.AVAILABLE, "manage", s.MANAGEABLE),
    (s.AVAILABLE, "deploy", s.DEPLOYING),
    # inspection
    (s.INSPECTING, s.EV_DONE, s.MANAGEABLE),
    (s.INSPECTING, s.EV_WAIT, s.INSPECTWAIT),
    (s.INSPECTING, s.EV_FAIL, s.INSPECTFAIL),
    (s.INSPECTWAIT, s.EV_DONE, s.MANAGEABLE),
    (s.INSPECTWAIT, s.EV_RESUME, s.INSPECTING),
    (s.INSPECTWAIT, s.EV_FAIL, s.INSPECTFAIL),
    (s.INSPECTWAIT, "abort", s.INSPECTFAIL),
    (s.INSPECTFAIL, "manage", s.MANAGEABLE),
    (s.INSPECTFAIL, "inspect", s.INSPECTING),
    # deployment
    (s.DEPLOYING, s.EV_DONE, s.ACTIVE),
    (s.DEPLOYING, s.EV_WAIT, s.DEPLOYWAIT),
    (s.DEPLOYING, s.EV_FAIL, s.DEPLOYFAIL),
    (s.DEPLOYWAIT, s.EV_RESUME, s.DEPLOYING),
    (s.DEPLOYWAIT, s.EV_FAIL, s.DEPLOYFAIL),
    (s.DEPLOYWAIT, "abort", s.DEPLOYFAIL),
    (s.DEPLOYWAIT, "delete", s.DELETING),
    (s.DEPLOYFAIL, "deploy", s.DEPLOYING),
    (s.DEPLOYFAIL, "rebuild", s.DEPLOYING),
    (s.DEPLOYFAIL, "delete", s.DELETING),
    # active
    (s.ACTIVE, "rebuild", s.DEPLOYING),
    (s.ACTIVE, "delete", s.DELETING),
    (s.ACTIVE, "rescue", s.RESCUING),
    # teardown and cleaning
    (s.DELETING, "clean", s.CLEANING),
    (s.DELETING, s.EV_FAIL, s.ERROR),
    (s.ERROR, "rebuild", s.DEPLOYING),
    (s.ERROR, "delete", s.DELETING),
    (s.CLEANING, s.EV_DONE, s.AVAILABLE),
    (s.CLEANING, "manage", s.MANAGEABLE),
    (s.CLEANING, s.EV_WAIT, s.CLEANWAIT),
    (s.CLEANING, s.EV_FAIL, s.CLEANFAIL),
    (s.CLEANWAIT, s.EV_RESUME, s.CLEANING),
    (s.CLEANWAIT, s.EV_FAIL, s.CLEANFAIL),
    (s.CLEANWAIT, "abort", s.CLEANFAIL),
    (s.CLEANFAIL, "manage", s.MANAGEABLE),
    # adoption
    (s.ADOPTING, s.EV_DONE, s.ACTIVE),
    (s.ADOPTING, s.EV_FAIL, s.ADOPTFAIL),
    (s.ADOPTFAIL, "adopt", s.ADOPTING),
    (s.ADOPTFAIL, "manage", s.MANAGEABLE),
    # rescue
    (s.RESCUING, s.EV_DONE, s.RESCUE),
    (s.RESCUING, s.EV_WAIT, s.RESCUEWAIT),
    (s.RESCUING, s.EV_FAIL, s.RESCUEFAIL),
    (s.RESCUEWAIT, s.EV_RESUME, s.RESCUING),
    (s.RESCUEWAIT, s.EV_FAIL, s.RESCUEFAIL),
    (s.RESCUEWAIT, "abort", s.RESCUEFAIL),
    (s.RESCUEWAIT, "delete", s.DELETING),
    (s.RESCUE, "rescue", s.RESCUING),
    (s.RESCUE, "unrescue", s.UNRESCUING),
    (s.RESCUE, "delete", s.DELETING),
    (s.RESCUEFAIL, "rescue", s.RESCUING),
    (s.RESCUEFAIL, "unrescue", s.UNRESCUING),
    (s.RESCUEFAIL, "delete", s.DELETING),
    (s.UNRESCUING, s.EV_DONE, s.ACTIVE),
    (s.UNRESCUING, s.EV_FAIL, s.UNRESCUEFAIL),
    (s.UNRESCUEFAIL, "rescue", s.RESCUING),
    (s.UNRESCUEFAIL, "unrescue", s.UNRESCUING),
    (s.UNRESCUEFAIL, "delete", s.DELETING),
)

#: Verb of ``PUT /states/provision`` -> event of the table.
VERB_EVENTS: dict[str, str] = {
    s.VERB_MANAGE: "manage",
    s.VERB_PROVIDE: "provide",
    s.VERB_INSPECT: "inspect",
    s.VERB_ACTIVE: "deploy",
    s.VERB_DEPLOY: "deploy",
    s.VERB_REBUILD: "rebuild",
    s.VERB_DELETED: "delete",
    s.VERB_UNDEPLOY: "delete",
    s.VERB_CLEAN: "clean",
    s.VERB_ABORT: "abort",
    s.VERB_ADOPT: "adopt",
    s.VERB_RESCUE: "rescue",
    s.VERB_UNRESCUE: "unrescue",
}

#: ``target_provision_state`` while in a state; stable states have none.
TARGETS: dict[str, str] = {
    s.VERIFYING: s.MANAGEABLE,
    s.INSPECTING: s.MANAGEABLE,
    s.INSPECTWAIT: s.MANAGEABLE,
    s.INSPECTFAIL: s.MANAGEABLE,
    s.DEPLOYING: s.ACTIVE,
    s.DEPLOYWAIT: s.ACTIVE,
    s.DEPLOYFAIL: s.ACTIVE,
    s.DELETING: s.AVAILABLE,
    s.CLEANING: s.AVAILABLE,
    s.CLEANWAIT: s.AVAILABLE,
    s.CLEANFAIL: s.AVAILABLE,
    s.ADOPTING: s.ACTIVE,
    s.ADOPTFAIL: s.ACTIVE,
    s.RESCUING: s.RESCUE,
    s.RESCUEWAIT: s.RESCUE,
    s.RESCUEFAIL: s.RESCUE,
    s.UNRESCUING: s.ACTIVE,
    s.UNRESCUEFAIL: s.ACTIVE,
}

_TABLE: dict[tuple[str, str], str] = {(src, ev): dst for src, ev, dst in TRANSITIONS}
#: Every ``(source, event)`` pair the table allows.
EDGES: frozenset[tuple[str, str]] = frozenset(_TABLE)
ALL_STATES: frozenset[str] = frozenset(
    state for src, _ev, dst in TRANSITIONS for state in (src, dst)
)


def next_state(current: str, event: str) -> str:
    """The state ``event`` leads to from ``current``; raises if the table has no such edge."""
    try:
        return _TABLE[(current, event)]
    except KeyError:
        raise exceptions.InvalidStateTransition(state=current, event=event) from None


def target_of(state: str) -> str | None:
    return TARGETS.get(state)


def allowed_verbs(current: str) -> list[str]:
    """The API verbs accepted in ``current``, sorted."""
    return sorted(verb for verb, event in VERB_EVENTS.items() if (current, event) in _TABLE)


def event_for_verb(current: str, verb: str) -> str:
    """The event a verb fires in ``current``; a 400 naming the state and the allowed verbs."""
    event = VERB_EVENTS.get(verb)
    if event is None:
        raise exceptions.InvalidParameterValue(
            reason=f"unknown provision target {verb!r}; known: {', '.join(sorted(VERB_EVENTS))}"
        )
    if (current, event) not in _TABLE:
        raise exceptions.InvalidStateRequested(
            action=verb, state=current, allowed=", ".join(allowed_verbs(current)) or "none"
        )
    return event
