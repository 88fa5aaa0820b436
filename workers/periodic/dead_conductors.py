"""Recovering dead conductors: the periodic side of ``workers/recovery.py``.

Sent by beat on the shared queue, so one conductor looks each time; conductors whose
heartbeat fell behind are claimed with a conditional update, so each is recovered once.
"""

from __future__ import annotations

from workers import recovery
from workers.conductor import Conductor
from workers.periodic.base import periodic


@periodic(interval=lambda settings: settings.heartbeat_interval, every_conductor=False)
def recover_dead_conductors(conductor: Conductor) -> list[recovery.Recovery]:
    """Claim the conductors that stopped heartbeating and recover what they held."""
    return recovery.recover_dead(conductor)
