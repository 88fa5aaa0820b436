"""Storage interfaces: ``noop`` (no volumes to attach; boot from local disk)."""

from __future__ import annotations

from drivers.base import StorageInterface


class NoopStorage(StorageInterface):
    name = "noop"
