"""Every transition of the provision state machine: allowed ones and refused ones."""

from __future__ import annotations

import itertools

import pytest

from app import exceptions, state_machine, states
from app.state_machine import TRANSITIONS, VERB_EVENTS

EVENTS = sorted({event for _src, event, _dst in TRANSITIONS})
STATES = sorted(state_machine.ALL_STATES)
ALLOWED = {(src, ev): dst for src, ev, dst in TRANSITIONS}

# Ironic's documented edges (a second, independent statement of the same machine).
IRONIC_EDGES = {
    ("enroll", "manage"): "verifying",
    ("verifying", "done"): "manageable",
    ("verifying", "fail"): "enroll",
    ("manageable", "provide"): "cleaning",
    ("manageable", "clean"): "cleaning",
    ("manageable", "inspect"): "inspecting",
    ("manageable", "adopt"): "adopting",
    ("available", "manage"): "manageable",
    ("available", "deploy"): "deploying",
    ("deploying", "done"): "active",
    ("deploying", "wait"): "wait call-back",
    ("deploying", "fail"): "deploy failed",
    ("wait call-back", "abort"): "deploy failed",
    ("deploy failed", "rebuild"): "deploying",
    ("active", "rebuild"): "deploying",
    ("active", "delete"): "deleting",
    ("active", "rescue"): "rescuing",
    ("deleting", "clean"): "cleaning",
    ("deleting", "fail"): "error",
    ("cleaning", "done"): "available",
    ("cleaning", "wait"): "clean wait",
    ("clean wait", "abort"): "clean failed",
    ("clean failed", "manage"): "manageable",
    ("inspecting", "done"): "manageable",
    ("inspect wait", "abort"): "inspect failed",
    ("adopting", "fail"): "adopt failed",
    ("rescuing", "done"): "rescue",
    ("rescue", "unrescue"): "unrescuing",
    ("unrescuing", "done"): "active",
    ("error", "delete"): "deleting",
}


@pytest.mark.parametrize(("src", "event", "dst"), TRANSITIONS, ids=lambda v: str(v))
def test_allowed_transition(src: str, event: str, dst: str) -> None:
    assert state_machine.next_state(src, event) == dst


@pytest.mark.parametrize(
    ("src", "event"),
    [(s, e) for s, e in itertools.product(STATES, EVENTS) if (s, e) not in ALLOWED],
    ids=lambda v: str(v),
)
def test_refused_transition(src: str, event: str) -> None:
    with pytest.raises(exceptions.InvalidStateTransition):
        state_machine.next_state(src, event)


def test_table_matches_ironic() -> None:
    for (src, event), dst in IRONIC_EDGES.items():
        assert ALLOWED[(src, event)] == dst


def test_every_listed_state_is_reachable() -> None:
    names = [
        "enroll",
        "verifying",
        "manageable",
        "inspecting",
        "inspect wait",
        "inspect failed",
        "available",
        "deploying",
        "wait call-back",
        "deploy failed",
        "active",
        "deleting",
        "cleaning",
        "clean wait",
        "clean failed",
        "error",
        "adopting",
        "adopt failed",
        "rescuing",
        "rescue wait",
        "rescue",
        "rescue failed",
        "unrescuing",
    ]
    reached = {dst for _s, _e, dst in TRANSITIONS} | {states.ENROLL}
    assert set(names) <= reached


@pytest.mark.parametrize(("state", "verb"), list(itertools.product(STATES, sorted(VERB_EVENTS))))
def test_verbs_follow_the_table(state: str, verb: str) -> None:
    event = VERB_EVENTS[verb]
    if (state, event) in ALLOWED:
        assert state_machine.event_for_verb(state, verb) == event
        assert verb in state_machine.allowed_verbs(state)
    else:
        with pytest.raises(exceptions.InvalidStateRequested) as err:
            state_machine.event_for_verb(state, verb)
        assert err.value.code == 400
        assert f'"{state}"' in str(err.value)
        for allowed in state_machine.allowed_verbs(state):
            assert allowed in str(err.value)


def test_targets_recorded_for_transient_states() -> None:
    assert state_machine.target_of(states.DEPLOYING) == states.ACTIVE
    assert state_machine.target_of(states.CLEANING) == states.AVAILABLE
    assert state_machine.target_of(states.VERIFYING) == states.MANAGEABLE
    for stable in (states.ENROLL, states.MANAGEABLE, states.AVAILABLE, states.ACTIVE):
        assert state_machine.target_of(stable) is None
    for waiting in states.WAIT_STATES:
        assert state_machine.target_of(waiting) is not None
