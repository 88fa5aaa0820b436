"""A failed-login budget: a client that keeps guessing passwords is slowed, then refused.

Each failed ``http_basic`` check is counted twice, against the client's address and against
the user name it tried, in a sliding window of ``IRONWORKS_AUTH_FAILURE_WINDOW`` seconds.
Once either has ``IRONWORKS_AUTH_FAILURE_LIMIT`` failures in the window, further requests
from that address, or for that user, are answered 429 with ``Retry-After`` *before* any
bcrypt work (a check costs 0.1-0.5 s of an API thread), until the oldest failure leaves the
window. A success does not clear the budget: a guesser that finds a password after many
failures would otherwise reset its own count.

The counts live in the API process (each gunicorn worker keeps its own), bounded in size:
at most :data:`MAX_KEYS` addresses and users are tracked, the stalest dropped first.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque

MAX_KEYS = 10_000


class FailureBudget:
    """Failures per key (``addr:...``, ``user:...``) in a sliding window; thread-safe."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._lock = threading.Lock()
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, key: str, now: float) -> deque[float] | None:
        times = self._failures.get(key)
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def retry_after(self, *keys: str) -> float:
        """Seconds until every one of ``keys`` is under the limit again (0: allowed now)."""
        if self.limit <= 0:
            return 0.0
        now = time.monotonic()
        wait = 0.0
        with self._lock:
            for key in keys:
                times = self._recent(key, now)
                if times is not None and len(times) >= self.limit:
                    wait = max(wait, times[-self.limit] + self.window - now)
        return wait

    def fail(self, *keys: str) -> None:
        """Count one failure against each of ``keys``."""
        now = time.monotonic()
        with self._lock:
            for key in keys:
                times = self._recent(key, now)
                if times is None:
                    times = self._failures[key] = deque(maxlen=max(self.limit, 1))
                times.append(now)
                self._failures.move_to_end(key)
            while len(self._failures) > MAX_KEYS:
                self._failures.popitem(last=False)
