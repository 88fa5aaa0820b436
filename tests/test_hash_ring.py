"""The hash ring: stable ownership, minimal movement, caching, and the empty-ring guard."""

from __future__ import annotations

import uuid

import pytest

from app import exceptions
from app.hash_ring import HashRingManager

NODES = [str(uuid.UUID(int=i)) for i in range(1, 2001)]


class Members:
    """A membership source the test controls (stands in for the conductors table)."""

    def __init__(self, hosts: list[str]) -> None:
        self.hosts = hosts
        self.reads = 0

    def __call__(self, timeout: float) -> dict[tuple[str, str], frozenset[str]]:
        self.reads += 1
        return {("", "fake-hardware"): frozenset(self.hosts)} if self.hosts else {}


def _owners(ring: HashRingManager) -> dict[str, str]:
    return {node: ring.get_conductor(node, "fake-hardware") for node in NODES}


def test_same_membership_gives_same_owners_everywhere() -> None:
    a = HashRingManager(ttl=0, source=Members(["c1", "c2", "c3"]))
    b = HashRingManager(ttl=0, source=Members(["c3", "c1", "c2"]))
    assert _owners(a) == _owners(b)


def test_load_is_spread() -> None:
    owners = _owners(HashRingManager(ttl=0, source=Members(["c1", "c2", "c3"])))
    counts = [list(owners.values()).count(h) for h in ("c1", "c2", "c3")]
    assert min(counts) > len(NODES) / 3 * 0.6, counts


def test_removing_a_conductor_moves_only_its_nodes() -> None:
    members = Members(["c1", "c2", "c3"])
    ring = HashRingManager(ttl=0, source=members)
    before = _owners(ring)
    members.hosts = ["c1", "c2"]
    after = _owners(ring)
    moved = [n for n in NODES if before[n] != after[n]]
    assert moved and all(before[n] == "c3" for n in moved)
    assert "c3" not in after.values()


def test_empty_ring_is_a_503_not_a_queue_called_none() -> None:
    ring = HashRingManager(ttl=0, source=Members([]))
    with pytest.raises(exceptions.NoLiveConductor) as err:
        ring.get_conductor(NODES[0], "fake-hardware")
    assert err.value.code == 503


def test_unknown_group_or_driver_has_no_owner() -> None:
    ring = HashRingManager(ttl=0, source=Members(["c1"]))
    with pytest.raises(exceptions.NoLiveConductor):
        ring.get_conductor(NODES[0], "fake-hardware", group="east")
    with pytest.raises(exceptions.NoLiveConductor):
        ring.get_conductor(NODES[0], "ipmi")


def test_membership_is_cached_for_the_ttl() -> None:
    members = Members(["c1"])
    ring = HashRingManager(ttl=3600, source=members)
    for node in NODES[:100]:
        ring.get_conductor(node, "fake-hardware")
    assert members.reads == 1
    members.hosts = ["c2"]
    assert ring.get_conductor(NODES[0], "fake-hardware") == "c1"  # still cached
    ring.reset()
    assert ring.get_conductor(NODES[0], "fake-hardware") == "c2"


def test_a_joining_conductor_is_found_without_waiting_for_the_ttl() -> None:
    members = Members([])
    ring = HashRingManager(ttl=3600, source=members)
    with pytest.raises(exceptions.NoLiveConductor):
        ring.get_conductor(NODES[0], "fake-hardware")
    members.hosts = ["c1"]
    assert ring.get_conductor(NODES[0], "fake-hardware") == "c1"
