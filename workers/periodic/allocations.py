"""Allocations left ``allocating``: processed by whichever conductor takes this pass.

The API queues each allocation as it records it; this catches the ones whose message never
arrived (the API died between its commit and its publish, the broker lost the message).
"""

from __future__ import annotations

from app.db import allocations as allocation_db
from workers.conductor import Conductor
from workers.periodic.base import periodic


@periodic(interval=lambda settings: settings.sync_local_state_interval, every_conductor=False)
def process_stale_allocations(conductor: Conductor) -> list[str]:
    """Process every allocation still ``allocating`` after ``STALE_AFTER`` seconds."""
    done = []
    for uuid in allocation_db.stale(allocation_db.STALE_AFTER):
        if allocation_db.process(uuid) is not None:
            done.append(uuid)
    return done
