"""``ironworks status``: the deployment at a glance, read where the conductors read it.

Like ``ironic-status``, it talks to the database and the broker configured by the
``IRONWORKS_*`` variables rather than to the API: conductors with their liveness (the same
rule as the API's, relative to the newest heartbeat), how many nodes each live conductor
owns on the hash ring (computed with :class:`app.hash_ring.HashRingManager`, so it is the
ring the API routes with), the messages waiting in each ``conductor.<host>`` queue (Redis or
RabbitMQ, as :func:`workers.control.queue_depth` counts them) and the nodes per provision and
power state. A broker that does not answer leaves the queue section out, not the rest.
"""

from __future__ import annotations

import argparse
from collections import Counter
from typing import Any

from app.cli.output import age, cell, safe_url, table
from app.config import get_settings
from app.db import conductors, nodes
from app.db.models import Conductor, utcnow

NO_OWNER = "(no live conductor)"


def register(commands: Any) -> None:
    p = commands.add_parser(
        "status", help="conductors, hash ring, queues and node states (database + broker)"
    )
    p.set_defaults(func=status)


def _count_by(column: str) -> dict[Any, int]:
    return {value: n for (value,), n in nodes.count_by(column).items()}


def _state(row: Conductor, alive: bool) -> str:
    if alive:
        return "alive"
    return "stale" if row.online else "offline"


def conductor_section(rows: list[tuple[Conductor, bool]], timeout: float) -> str:
    locks = _count_by("reservation")
    now = utcnow()
    alive = sum(1 for _row, up in rows if up)
    title = (
        f"Conductors: {alive} of {len(rows)} alive "
        f"(online, with a heartbeat within {timeout:g}s of the newest)"
    )
    body = table(
        ("conductor", "group", "state", "last heartbeat", "drivers", "locks held"),
        (
            (
                row.hostname,
                row.conductor_group or "-",
                _state(row, up),
                f"{age((now - row.heartbeat_at).total_seconds())} ago",
                ", ".join(row.hardware_types) or "-",
                locks.get(row.hostname, 0),
            )
            for row, up in rows
        ),
    )
    return f"{title}\n{body}"


def ring_ownership() -> tuple[Counter[str], int]:
    """Nodes per owning conductor, as the API's ring routes them; and the node total."""
    from app.hash_ring import HashRingManager

    ring = HashRingManager(ttl=float("inf"))  # one membership read for the whole count
    members = ring.members()
    owners: Counter[str] = Counter()
    rows = nodes.ring_inputs()
    for uuid, driver, group in rows:
        if (group, driver) in members:
            owners[ring.get_conductor(uuid, driver, group)] += 1
        else:
            owners[NO_OWNER] += 1
    return owners, len(rows)


def ring_section(rows: list[tuple[Conductor, bool]]) -> str:
    owners, total = ring_ownership()
    live = [row.hostname for row, up in rows if up]
    names = [*live, *sorted(set(owners) - set(live) - {NO_OWNER})]
    if owners[NO_OWNER]:
        names.append(NO_OWNER)
    title = f"Hash ring: {total} nodes over {len(live)} live conductors"
    body = table(
        ("conductor", "nodes owned", "share"),
        (
            (name, owners[name], f"{100 * owners[name] / total:.0f}%" if total else "-")
            for name in names
        ),
    )
    return f"{title}\n{body}"


def queue_depths(hosts: list[str]) -> dict[str, int]:
    """Messages waiting in each ``conductor.<host>`` queue; raises if the broker is down."""
    from workers.celery_app import app
    from workers.control import queue_depth

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=5)  # fail fast, not retry forever
    return {host: queue_depth(host) for host in hosts}


def queue_section(rows: list[tuple[Conductor, bool]]) -> str:
    from kombu.exceptions import OperationalError

    try:
        depths = queue_depths([row.hostname for row, _up in rows])
    except (OperationalError, OSError) as exc:
        return f"Queues: the broker did not answer ({exc})"
    body = table(
        ("queue", "messages waiting"), ((f"conductor.{host}", n) for host, n in depths.items())
    )
    return f"Queues: {sum(depths.values())} messages waiting for conductors\n{body}"


def node_section() -> str:
    by_provision = _count_by("provision_state")
    by_power = _count_by("power_state")
    provision = table(("provision state", "nodes"), sorted(by_provision.items()))
    power = table(("power state", "nodes"), sorted((cell(k), n) for k, n in by_power.items()))
    return f"Nodes: {sum(by_provision.values())}\n{provision}\n\n{power}"


def status(args: argparse.Namespace) -> int:
    settings = get_settings()
    print(f"database: {safe_url(settings.database_url)}")
    print(f"broker:   {safe_url(settings.broker_url)}")
    rows = conductors.list_conductors(settings.heartbeat_timeout)
    for section in (
        conductor_section(rows, settings.heartbeat_timeout),
        ring_section(rows),
        queue_section(rows),
        node_section(),
    ):
        print(f"\n{section}")
    return 0
