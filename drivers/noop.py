"""No-op network and storage interfaces: nothing to wire, nothing to attach."""

from __future__ import annotations

from drivers.base import NetworkInterface, StorageInterface


class NoopNetwork(NetworkInterface):
    name = "noop"


class NoopStorage(StorageInterface):
    name = "noop"
