"""Conductor registry queries: register, heartbeat, unregister, and who is alive."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update

from app.db.engine import session_scope
from app.db.models import Conductor, ConductorHardwareInterface, utcnow


@dataclass(frozen=True)
class InterfaceRow:
    hardware_type: str
    interface_type: str
    interface_name: str
    default: bool


def register(hostname: str, group: str) -> None:
    """Create or refresh this conductor's row; it stays offline until :func:`go_online`."""
    with session_scope(write=True) as session:
        row = session.scalar(select(Conductor).where(Conductor.hostname == hostname))
        if row is None:
            session.add(Conductor(hostname=hostname, conductor_group=group, online=False))
        else:
            row.conductor_group = group
            row.online = False


def record_interfaces(hostname: str, rows: list[InterfaceRow]) -> None:
    """Replace the hardware types and interfaces this conductor has loaded."""
    with session_scope(write=True) as session:
        conductor = session.scalars(select(Conductor).where(Conductor.hostname == hostname)).one()
        conductor.interfaces = [
            ConductorHardwareInterface(
                hardware_type=r.hardware_type,
                interface_type=r.interface_type,
                interface_name=r.interface_name,
                default=r.default,
            )
            for r in rows
        ]


def set_online(hostname: str, online: bool) -> None:
    """Mark the conductor online (stamping its heartbeat) or offline."""
    values: dict[str, object] = {"online": online}
    if online:
        values["heartbeat_at"] = utcnow()
    with session_scope(write=True) as session:
        session.execute(update(Conductor).where(Conductor.hostname == hostname).values(**values))


def touch(hostname: str) -> bool:
    """Stamp the heartbeat of an online conductor; False if it is not registered online."""
    with session_scope(write=True) as session:
        result = session.execute(
            update(Conductor)
            .where(Conductor.hostname == hostname, Conductor.online.is_(True))
            .values(heartbeat_at=utcnow())
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


def liveness_cutoff(newest: dt.datetime | None, timeout: float) -> dt.datetime:
    """Heartbeats older than this mean dead.

    Measured from the newest heartbeat of any online conductor, not from the clock: if beat
    stops, every stamp freezes together and no conductor is declared dead (the last ring
    stays); a conductor that stops while beat runs falls behind the others and is.
    """
    reference = min(utcnow(), newest) if newest is not None else utcnow()
    return reference - dt.timedelta(seconds=timeout)


def _newest(session: Any) -> dt.datetime | None:
    query = select(func.max(Conductor.heartbeat_at)).where(Conductor.online.is_(True))
    newest: dt.datetime | None = session.scalar(query)
    return newest


def is_alive(row: Conductor, cutoff: dt.datetime) -> bool:
    return row.online and row.heartbeat_at >= cutoff


def list_conductors(timeout: float) -> list[tuple[Conductor, bool]]:
    """Every registered conductor with whether it is alive, detached from the session."""
    with session_scope() as session:
        cutoff = liveness_cutoff(_newest(session), timeout)
        rows = list(session.scalars(select(Conductor).order_by(Conductor.hostname)))
        session.expunge_all()
        return [(row, is_alive(row, cutoff)) for row in rows]


def claim_dead(timeout: float) -> list[str]:
    """Mark online conductors with stale heartbeats offline; returns the ones *we* marked.

    The update is conditional, so when several conductors look at once, each dead one is
    claimed (and recovered) by exactly one of them.
    """
    claimed = []
    with session_scope(write=True) as session:
        cutoff = liveness_cutoff(_newest(session), timeout)
        stale = session.scalars(
            select(Conductor.hostname).where(
                Conductor.online.is_(True), Conductor.heartbeat_at < cutoff
            )
        ).all()
        for hostname in stale:
            result = session.execute(
                update(Conductor)
                .where(
                    Conductor.hostname == hostname,
                    Conductor.online.is_(True),
                    Conductor.heartbeat_at < cutoff,
                )
                .values(online=False)
            )
            if result.rowcount:  # type: ignore[attr-defined]
                claimed.append(hostname)
    return claimed


def live_members(timeout: float) -> dict[tuple[str, str], frozenset[str]]:
    """Alive conductors keyed by ``(conductor_group, hardware_type)``; the hash ring's input."""
    query = (
        select(
            Conductor.conductor_group,
            ConductorHardwareInterface.hardware_type,
            Conductor.hostname,
        )
        .join(ConductorHardwareInterface)
        .where(Conductor.online.is_(True))
        .distinct()
    )
    members: dict[tuple[str, str], set[str]] = {}
    with session_scope() as session:
        cutoff = liveness_cutoff(_newest(session), timeout)
        for group, hw_type, hostname in session.execute(
            query.where(Conductor.heartbeat_at >= cutoff)
        ):
            members.setdefault((group, hw_type), set()).add(hostname)
    return {key: frozenset(hosts) for key, hosts in members.items()}
