"""Which conductor owns a node: a consistent hash ring over the live conductors.

There is one ring per ``(conductor_group, hardware_type)``, as in Ironic: a node can only be
managed by a conductor in its group that has loaded its driver. Members are the conductors
that are online with a heartbeat younger than ``heartbeat_timeout``.

The API and every conductor use this module. Rings are cached for ``hash_ring_ttl`` seconds;
on expiry the membership is re-read from the database and a ring is rebuilt only when its
membership changed, so a dead conductor leaves every ring within ``heartbeat_timeout +
hash_ring_ttl`` seconds. The ring gives affinity, not correctness: two services may briefly
disagree, and the node lock in the database is what keeps them from both acting.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from uhashring import HashRing

from app import exceptions
from app.config import get_settings
from app.db import conductors

Key = tuple[str, str]
MembersSource = Callable[[float], dict[Key, frozenset[str]]]


class HashRingManager:
    """Cached rings keyed by ``(conductor_group, hardware_type)``."""

    def __init__(
        self,
        ttl: float | None = None,
        heartbeat_timeout: float | None = None,
        vnodes: int | None = None,
        source: MembersSource = conductors.live_members,
    ) -> None:
        settings = get_settings()
        self.ttl = settings.hash_ring_ttl if ttl is None else ttl
        self.heartbeat_timeout = (
            settings.heartbeat_timeout if heartbeat_timeout is None else heartbeat_timeout
        )
        self.vnodes = vnodes or 2**settings.hash_partition_exponent
        self._source = source
        self._lock = threading.Lock()
        self._members: dict[Key, frozenset[str]] = {}
        self._rings: dict[Key, HashRing] = {}
        self._loaded_at = float("-inf")

    def reset(self) -> None:
        """Forget the cache; the next lookup re-reads membership."""
        with self._lock:
            self._loaded_at = float("-inf")

    def members(self) -> dict[Key, frozenset[str]]:
        """Current membership of every ring (refreshed when the cache expired)."""
        self._refresh()
        return dict(self._members)

    def get_conductor(self, node_uuid: str, driver: str, group: str = "") -> str:
        """The hostname of the conductor that owns ``node_uuid``.

        Raises :class:`NoLiveConductor` (503) when no live conductor can take it.
        """
        self._refresh()
        ring = self._rings.get((group, driver))
        if ring is None:
            self.reset()  # a conductor may have just joined: look again once
            self._refresh()
            ring = self._rings.get((group, driver))
        if ring is None:
            raise exceptions.NoLiveConductor(node=node_uuid, driver=driver, group=group)
        owner: str = ring.get_node(node_uuid)
        return owner

    def _refresh(self) -> None:
        with self._lock:
            now = time.monotonic()
            if now - self._loaded_at < self.ttl:
                return
            members = self._source(self.heartbeat_timeout)
            rings = {
                key: ring
                for key, ring in self._rings.items()
                if self._members.get(key) == members.get(key)
            }
            for key, hosts in members.items():
                if key not in rings:
                    rings[key] = HashRing(nodes=sorted(hosts), vnodes=self.vnodes)
            self._members, self._rings, self._loaded_at = members, rings, now


_shared: dict[str, HashRingManager] = {}


def get_ring_manager() -> HashRingManager:
    """The process-wide ring manager."""
    if "ring" not in _shared:
        _shared["ring"] = HashRingManager()
    return _shared["ring"]
