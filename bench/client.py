"""HTTP calls for the benchmarks: timed, retried when the API says "try again", counted.

A 409 whose fault says the node is locked (or changed under the request) and every 503 are
retried after a short sleep, up to ``max_retries`` times and never past the caller's
deadline; every attempt's duration is recorded, since each is one real HTTP call. Anything
else that is not the expected status is an error: counted by status and kept as a few
examples. :func:`run_concurrently` spreads work items over C client threads, each with its
own ``requests.Session``, and stops taking new items at the deadline.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import requests

from bench.system import LATEST

T = TypeVar("T")
R = TypeVar("R")
RETRY_SLEEP = 0.05
MAX_EXAMPLES = 5


@dataclass
class Tally:
    """What the calls of one phase or operation saw (shared by the client threads)."""

    latencies: list[float] = field(default_factory=list)
    retries_409: int = 0
    retries_503: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def timed(self, seconds: float) -> None:
        with self._lock:
            self.latencies.append(seconds)

    def retried(self, status: int) -> None:
        with self._lock:
            if status == 409:
                self.retries_409 += 1
            else:
                self.retries_503 += 1

    def failed(self, kind: str, detail: str) -> None:
        with self._lock:
            self.errors[kind] += 1
            if len(self.examples) < MAX_EXAMPLES:
                self.examples.append(f"{kind}: {detail[:300]}")

    def summary(self) -> dict[str, Any]:
        return {
            "retries_409": self.retries_409,
            "retries_503": self.retries_503,
            "errors": dict(self.errors),
            "error_examples": list(self.examples),
        }


def _fault(response: requests.Response) -> str:
    """The faultstring of an Ironic-format error answer, else the raw text."""
    try:
        return str(json.loads(response.json()["error_message"])["faultstring"])
    except (ValueError, KeyError, TypeError):
        return response.text


def _retryable(response: requests.Response) -> bool:
    if response.status_code == 503:
        return True
    if response.status_code != 409:
        return False
    fault = _fault(response).lower()
    return "locked" in fault or "please retry" in fault


class Client:
    """Timed calls against one API base URL; one ``requests.Session`` per thread."""

    def __init__(self, base_url: str, timeout: float = 30.0, max_retries: int = 200) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_retries = max_retries
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()

    def session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers.update(LATEST)
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session

    def close(self) -> None:
        with self._lock:
            for session in self._sessions:
                session.close()
            self._sessions.clear()

    def call(
        self, tally: Tally, method: str, path: str, expect: int, deadline: float, **kwargs: Any
    ) -> requests.Response | None:
        """One operation: the response with status ``expect``, or None (counted in tally)."""
        url = self.base_url + path
        for _attempt in range(self.max_retries + 1):
            started = time.perf_counter()
            try:
                response = self.session().request(method, url, timeout=self.timeout, **kwargs)
            except requests.RequestException as exc:
                tally.failed(type(exc).__name__, f"{method} {path}: {exc}")
                return None
            tally.timed(time.perf_counter() - started)
            if response.status_code == expect:
                return response
            if not _retryable(response) or time.monotonic() + RETRY_SLEEP > deadline:
                tally.failed(str(response.status_code), f"{method} {path}: {_fault(response)}")
                return None
            tally.retried(response.status_code)
            time.sleep(RETRY_SLEEP)
        tally.failed("too many retries", f"{method} {path}")
        return None

    def get_json(self, path: str, **params: Any) -> Any:
        """An untimed GET for bookkeeping (convergence polls, listing)."""
        response = self.session().get(self.base_url + path, params=params, timeout=self.timeout)
        response.raise_for_status()
        return response.json()


def run_concurrently(
    items: Iterable[T],
    work: Callable[[T], R],
    concurrency: int,
    deadline: float,
    on_done: Callable[[], None] | None = None,
) -> list[R]:
    """Run ``work`` over ``items`` on ``concurrency`` threads until done or ``deadline``."""
    source = iter(items)
    lock = threading.Lock()
    results: list[R] = []

    def worker() -> None:
        while time.monotonic() < deadline:
            with lock:
                item = next(source, _END)
            if item is _END:
                return
            result = work(item)  # type: ignore[arg-type]
            with lock:
                results.append(result)
            if on_done is not None:
                on_done()

    with ThreadPoolExecutor(concurrency, thread_name_prefix="bench-client") as pool:
        futures = [pool.submit(worker) for _ in range(concurrency)]
        for future in futures:
            future.result()
    return results


_END = object()
