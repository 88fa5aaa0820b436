"""What a workflow may ask of the conductor it runs on: the ``Conductor`` protocol.

The task manager, the workflows and the periodic jobs type against this protocol, not
against the concrete manager (``workers/manager.py``), which builds on them: so they never
import it and never call back up into it by name. ``ConductorManager`` satisfies it, and so
does any object with these members (a test may pass its own).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from app.config import Settings
    from app.db.models import Node
    from app.hash_ring import HashRingManager
    from drivers.base import HardwareType, NetworkInterface


class Conductor(Protocol):
    """One running conductor, as the code below the manager sees it."""

    #: The conductor's name (the Celery worker's ``-n``), also the holder of its node locks.
    host: str
    settings: Settings
    #: The process-wide ring of live conductors (None before ``init_host`` built it).
    ring: HashRingManager | None

    @property
    def started(self) -> bool:
        """Started and not shutting down: may take periodic work."""

    def get_driver(self, node: Node) -> HardwareType:
        """The node's hardware type, as loaded here (raises ``UnknownDriver``)."""

    def network_interface(self, node: Node) -> NetworkInterface | None:
        """The node's network interface (None before the factories were loaded)."""

    def working_on(self, node_uuid: str) -> AbstractContextManager[None]:
        """Mark a node as worked on in this process; refuse a second task on it."""

    def busy_nodes(self) -> set[str]:
        """The nodes tasks of this process are working on."""

    def ring_owner(self, node: Node) -> str:
        """The conductor the ring gives ``node`` to (raises ``NoLiveConductor``)."""

    def iter_nodes(self, **filters: Any) -> Iterator[Node]:
        """The nodes the ring gives this conductor, optionally filtered by column."""

    def periodic_pass(self, job: str) -> AbstractContextManager[bool]:
        """Enter one pass of periodic ``job``; yields False when a pass is already running."""
