"""BaseConductorManager: what every conductor is, whatever it does with nodes.

``init_host()`` brings the conductor up in a fixed order, one log line per step:

1. database init (engine; schema through alembic migrations);
2. clear what an earlier run of this host left behind: tasks still queued for it keep their
   locks; every other lock is released and nodes it left mid-work are failed;
3. register the conductor row (hostname, conductor group) - still offline;
4. keepalive: join the beat-driven heartbeat (its fanout queue) and stamp a first beat;
5. worker pool: the pool and concurrency the conductor runs with;
6. hash ring: the process-wide ring manager, built from the live conductors;
7. hardware types from entry points, recorded with their interfaces in the conductor row
   (a name that does not load stops the start);
8. network and storage interface factories;

and finally marks the conductor online, so the rings of every service take it in.
``del_host()`` marks it offline, hands the tasks it never started to the new ring owners and
releases its node locks (``workers/recovery.py``).

The members here are the ones the task manager, workflows and periodic jobs ask for
(``workers/conductor.py``); the node operations the tasks call are on the
``ConductorManager`` built on this class (``workers/manager.py``).
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from app import exceptions
from app.config import Settings, get_settings
from app.db import conductors, migrate
from app.db import nodes as node_db
from app.db.engine import get_engine
from app.db.models import Node
from app.hash_ring import HashRingManager, get_ring_manager
from drivers.base import HardwareType, NetworkInterface
from drivers.factory import NetworkInterfaceFactory, StorageInterfaceFactory, load_hardware_types
from workers import metrics, recovery
from workers.queues import conductor_queue
from workers.sensors import SensorsNotifier

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class PoolInfo:
    """The Celery pool the conductor runs its tasks in."""

    implementation: str
    concurrency: int


class BaseConductorManager:
    """One conductor: its identity, start and stop, drivers, ring and nodes."""

    def __init__(
        self,
        host: str,
        pool: PoolInfo,
        settings: Settings | None = None,
        join_heartbeat: Callable[[], None] | None = None,
    ) -> None:
        self.host = host
        self.topic = conductor_queue(host).name
        self.pool = pool
        self.settings = settings or get_settings()
        self.sensors_notifier = SensorsNotifier(host)
        self._join_heartbeat = join_heartbeat
        self.hardware_types: dict[str, HardwareType] = {}
        self.ring: HashRingManager | None = None
        self.network_factory: NetworkInterfaceFactory | None = None
        self.storage_factory: StorageInterfaceFactory | None = None
        self.draining = False  # set while draining (workers/drain.py): keep out of the ring
        self._started = False
        self._shutdown = threading.Event()
        self._busy: set[str] = set()
        self._busy_lock = threading.Lock()
        self._passes: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)

    # -- start-up -----------------------------------------------------------------------
    def init_host(self) -> None:
        """Bring the conductor up; on any failure undo the registration and re-raise."""
        if self._started:
            raise RuntimeError(f"conductor {self.host} is already started")
        try:
            self._run_init_steps()
        except Exception:
            LOG.exception("Conductor %s failed to start; unregistering", self.host)
            self.del_host()
            raise
        conductors.set_online(self.host, True)
        self._started = True
        LOG.info("Conductor %s started: online, consuming %s", self.host, self.topic)

    def _step(self, number: int, name: str, detail: str) -> None:
        LOG.info("init_host %s step %d/8 %s: %s", self.host, number, name, detail)

    def _run_init_steps(self) -> None:
        engine = get_engine()
        migrate.upgrade(engine)
        self._step(1, "database init", f"{engine.dialect.name} schema at head")
        left = recovery.recover_own(self)
        self._step(
            2,
            "clear leftovers",
            f"kept {len(left.moved)} queued tasks, resumed {len(left.resumed)} lost ones, "
            f"released {left.released} locks, failed {len(left.failed)} interrupted nodes",
        )
        conductors.register(self.host, self.settings.conductor_group)
        self._step(3, "register", f"conductor group {self.settings.conductor_group!r}")
        if self._join_heartbeat is not None:
            self._join_heartbeat()
        self._step(
            4,
            "keepalive",
            f"beat heartbeat every {self.settings.heartbeat_interval}s, "
            f"timeout {self.settings.heartbeat_timeout}s",
        )
        self._step(5, "worker pool", f"{self.pool.implementation} x{self.pool.concurrency}")
        self.ring = get_ring_manager()
        self._step(6, "hash ring", f"{len(self.ring.members())} rings of live conductors")
        self.hardware_types = load_hardware_types(self.settings.enabled_hardware_types)
        conductors.record_interfaces(self.host, self._interface_rows())
        self._step(7, "drivers", f"hardware types {sorted(self.hardware_types)}")
        self.network_factory = NetworkInterfaceFactory(self.settings.enabled_network_interfaces)
        self.storage_factory = StorageInterfaceFactory(self.settings.enabled_storage_interfaces)
        self._step(
            8,
            "interface factories",
            f"network {sorted(self.network_factory.interfaces)}, "
            f"storage {sorted(self.storage_factory.interfaces)}",
        )

    def _interface_rows(self) -> list[conductors.InterfaceRow]:
        rows = []
        for hw_name, hw in self.hardware_types.items():
            for kind, names in hw.interface_names().items():
                rows += [
                    conductors.InterfaceRow(hw_name, kind, name, i == 0)
                    for i, name in enumerate(names)
                ]
        return rows

    # -- shutdown -----------------------------------------------------------------------
    def del_host(self) -> None:
        """Go offline, hand queued work to the new owners and release every lock."""
        self._shutdown.set()
        handed = released = 0
        try:
            conductors.set_online(self.host, False)
        except Exception:
            LOG.exception("Conductor %s could not mark itself offline", self.host)
        if self.ring is not None:
            try:
                handed = len(recovery.hand_back(self).moved)
            except Exception as exc:  # the broker may be stopping too: peers recover it
                LOG.warning("Conductor %s could not hand back its queue: %s", self.host, exc)
        try:
            released = node_db.clear_reservations(self.host)
        except Exception:
            LOG.exception("Conductor %s could not release its locks", self.host)
        LOG.info(
            "Conductor %s offline; handed back %d queued tasks, released %d node locks",
            self.host,
            handed,
            released,
        )

    @property
    def started(self) -> bool:
        """Started and not shutting down: may take periodic work."""
        return self._started and not self._shutdown.is_set()

    # -- keepalive ----------------------------------------------------------------------
    def heartbeat(self) -> None:
        """Stamp this conductor's heartbeat; rejoin if it had been marked offline."""
        if self._shutdown.is_set() or not self._started or self.draining:
            return
        if not conductors.touch(self.host):
            LOG.warning("Conductor %s was offline in the database; rejoining", self.host)
            conductors.set_online(self.host, True)

    # -- what runs here -----------------------------------------------------------------
    @contextmanager
    def working_on(self, node_uuid: str) -> Iterator[None]:
        """Mark a node as being worked on by this process; refuse a second task on it."""
        with self._busy_lock:
            if node_uuid in self._busy:
                metrics.LOCK_CONFLICTS.labels("busy").inc()
                raise exceptions.NodeLocked(node=node_uuid, host=f"{self.host} (another task)")
            self._busy.add(node_uuid)
        try:
            yield
        finally:
            with self._busy_lock:
                self._busy.discard(node_uuid)

    def busy_nodes(self) -> set[str]:
        with self._busy_lock:
            return set(self._busy)

    @contextmanager
    def periodic_pass(self, job: str) -> Iterator[bool]:
        """One pass of periodic ``job`` at a time: yields False while another one runs."""
        lock = self._passes[job]
        if not lock.acquire(blocking=False):
            yield False
            return
        try:
            yield True
        finally:
            lock.release()

    # -- nodes --------------------------------------------------------------------------
    def ring_owner(self, node: Node) -> str:
        """The conductor the ring gives ``node`` to (raises NoLiveConductor)."""
        assert self.ring is not None
        return self.ring.get_conductor(node.uuid, node.driver, node.conductor_group)

    def owns(self, node: Node) -> bool:
        try:
            return self.ring_owner(node) == self.host
        except exceptions.NoLiveConductor:
            return False

    def iter_nodes(self, **filters: Any) -> Iterator[Node]:
        """The nodes the ring gives this conductor (detached copies), optionally filtered."""
        rows = node_db.for_conductor(
            self.settings.conductor_group, list(self.hardware_types), **filters
        )
        for node in rows:
            if self._shutdown.is_set():
                return
            if self.owns(node):
                yield node

    def get_driver(self, node: Node) -> HardwareType:
        """The node's hardware type with the interfaces the node chose (``<kind>_interface``)."""
        try:
            hardware = self.hardware_types[node.driver]
        except KeyError:
            raise exceptions.UnknownDriver(
                driver=node.driver, known=sorted(self.hardware_types)
            ) from None
        return hardware.select(
            {kind: getattr(node, f"{kind}_interface", None) for kind in hardware.interfaces}
        )

    def enabled_interfaces(self, driver: str) -> dict[str, list[str]]:
        """``{kind: [names]}`` a node of hardware type ``driver`` may choose here."""
        hardware = self.hardware_types.get(driver)
        names = hardware.interface_names() if hardware is not None else {}
        return {
            **names,
            "network": list(self.settings.enabled_network_interfaces),
            "storage": list(self.settings.enabled_storage_interfaces),
        }

    def network_interface(self, node: Node) -> NetworkInterface | None:
        """The node's network interface (None before ``init_host`` loaded the factories)."""
        if self.network_factory is None:
            return None
        return self.network_factory.get(node.network_interface)
