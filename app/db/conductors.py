"""Conductor registry queries: register, heartbeat, unregister, and who is alive."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select, update

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


def is_alive(row: Conductor, timeout: float, now: dt.datetime | None = None) -> bool:
    now = now or utcnow()
    return row.online and row.heartbeat_at >= now - dt.timedelta(seconds=timeout)


def list_conductors() -> list[Conductor]:
    """Every registered conductor (alive or not), detached from the session."""
    with session_scope() as session:
        rows = list(session.scalars(select(Conductor).order_by(Conductor.hostname)))
        session.expunge_all()
        return rows


def live_members(timeout: float) -> dict[tuple[str, str], frozenset[str]]:
    """Alive conductors keyed by ``(conductor_group, hardware_type)``; the hash ring's input."""
    cutoff = utcnow() - dt.timedelta(seconds=timeout)
    query = (
        select(
            Conductor.conductor_group,
            ConductorHardwareInterface.hardware_type,
            Conductor.hostname,
        )
        .join(ConductorHardwareInterface)
        .where(Conductor.online.is_(True), Conductor.heartbeat_at >= cutoff)
        .distinct()
    )
    members: dict[tuple[str, str], set[str]] = {}
    with session_scope() as session:
        for group, hw_type, hostname in session.execute(query):
            members.setdefault((group, hw_type), set()).add(hostname)
    return {key: frozenset(hosts) for key, hosts in members.items()}
