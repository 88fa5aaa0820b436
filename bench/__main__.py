"""``python -m bench {lifecycle,powersync,api} ...``: the command line.

Each command starts what it needs (see ``bench/system.py``), runs, prints a table, writes
``<results-dir>/<benchmark>-<database>-<broker>-<time>.json`` and a PNG beside it, and stops
everything it started, also on Ctrl-C, SIGTERM or an error.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from bench import api, chart, lifecycle, powersync
from bench.client import Client
from bench.progress import status
from bench.stats import (
    DEFAULT_RESULTS,
    backend_label,
    environment,
    print_rss,
    redact_url,
    save,
)
from bench.system import System, SystemConfig, tree_rss

DESCRIPTION = "Ironworks benchmarks (see bench/README.md)."


def _common(parser: argparse.ArgumentParser, with_url: bool = True) -> None:
    group = parser.add_argument_group("system under test")
    group.add_argument("--database-url", help="SQLAlchemy URL (default: SQLite in a temp dir)")
    group.add_argument("--broker-url", help="redis:// or amqp:// (default: embedded redis)")
    if with_url:
        group.add_argument("--url", help="a running API (then nothing is started, no RSS)")
        group.add_argument("--api-workers", type=int, default=1, help="gunicorn workers")
        group.add_argument(
            "--api-threads", type=int, default=SystemConfig.api_threads, help="per gunicorn worker"
        )
        group.add_argument("--conductor-threads", type=int, default=8, help="per conductor")
        group.add_argument(
            "--fake-delay", type=float, default=0.0, help="s per fake driver operation"
        )
    out = parser.add_argument_group("output")
    out.add_argument("--results-dir", type=Path, default=DEFAULT_RESULTS)
    out.add_argument("--no-chart", action="store_true", help="write the JSON only")
    out.add_argument("--keep-state", action="store_true", help="keep the temp dir and logs")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=DESCRIPTION)
    commands = parser.add_subparsers(dest="command", required=True)
    life = commands.add_parser("lifecycle", help="N nodes through their whole life over REST")
    life.add_argument("-n", "--nodes", type=int, default=1000)
    life.add_argument("-c", "--concurrency", type=int, default=8, help="client threads")
    life.add_argument("--phase-timeout", type=float, default=900.0, help="seconds per phase")
    _common(life)
    sync = commands.add_parser("powersync", help="one power-state sync pass over N nodes")
    sync.add_argument("-n", "--nodes", type=int, default=10_000)
    sync.add_argument("-l", "--latency", type=float, default=20.0, help="ms per BMC call")
    sync.add_argument(
        "-w",
        "--workers",
        type=_int_list,
        default=None,
        help="concurrency, or a sweep like 8,16,32,64 "
        "(default: IRONWORKS_SYNC_POWER_STATE_WORKERS)",
    )
    sync.add_argument("--passes", type=int, default=1, help="passes per concurrency (best kept)")
    _common(sync, with_url=False)
    rest = commands.add_parser("api", help="GET / list / PATCH latency and throughput")
    rest.add_argument("-n", "--nodes", type=int, default=1000, help="nodes to enroll first")
    rest.add_argument("-c", "--concurrency", type=int, default=8, help="client threads")
    rest.add_argument("-r", "--requests", type=int, default=2000, help="per operation")
    rest.add_argument("-d", "--duration", type=float, default=60.0, help="max s per operation")
    _common(rest)
    return parser


def _int_list(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected integers like 8,16,32: {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError("worker counts must be positive")
    return values


def _config(args: argparse.Namespace) -> SystemConfig:
    return SystemConfig(
        database_url=args.database_url,
        broker_url=args.broker_url,
        api_workers=getattr(args, "api_workers", 1),
        api_threads=getattr(args, "api_threads", SystemConfig.api_threads),
        conductor_threads=getattr(args, "conductor_threads", 8),
        fake_delay=getattr(args, "fake_delay", 0.0),
        keep_state=args.keep_state,
    )


def _setup(args: argparse.Namespace, system: System | None) -> dict[str, Any]:
    database = system.database_url if system else args.database_url
    broker = system.broker_url if system else args.broker_url
    setup: dict[str, Any] = {
        "database": (database or "unknown").split(":", 1)[0].split("+", 1)[0],
        "broker": (broker or "unknown").split(":", 1)[0],
        "database_url": redact_url(database) if database else None,
        "broker_url": redact_url(broker) if broker else None,
        "api_url": getattr(args, "url", None) or (system.url or None if system else None),
        "started_by_bench": system is not None,
        "embedded_broker": not args.broker_url,
    }
    for key in ("api_workers", "api_threads", "conductor_threads", "fake_delay"):
        if hasattr(args, key) and system is not None:
            setup[key] = getattr(args, key)
    return setup


Body = Callable[[Client], dict[str, Any]]


def _over_rest(args: argparse.Namespace, body: Body) -> dict[str, Any]:
    """Run ``body`` against ``--url`` or a system started for it; adds setup and RSS."""
    if args.url:
        client = Client(args.url)
        try:
            return {**body(client), "setup": _setup(args, None), "rss": {}}
        finally:
            client.close()
    with System(_config(args)) as system:
        client = Client(system.url)
        try:
            result = body(client)
            return {**result, "setup": _setup(args, system), "rss": system.rss()}
        finally:
            client.close()


def _lifecycle(args: argparse.Namespace) -> dict[str, Any]:
    return _over_rest(
        args, lambda c: lifecycle.run(c, args.nodes, args.concurrency, args.phase_timeout)
    )


def _api(args: argparse.Namespace) -> dict[str, Any]:
    return _over_rest(
        args, lambda c: api.run(c, args.nodes, args.concurrency, args.requests, args.duration)
    )


def _powersync(args: argparse.Namespace) -> dict[str, Any]:
    with System(_config(args), with_api=False) as system:
        result = powersync.run(system, args.nodes, args.latency, args.workers, args.passes)
        rss = system.rss()
        own = tree_rss(os.getpid())
        rss["bench (in-process conductor)"] = {**own, "children": [], "total_kb": own["own_kb"]}
        return {**result, "setup": _setup(args, system), "rss": rss}


COMMANDS = {"lifecycle": _lifecycle, "powersync": _powersync, "api": _api}
REPORTS = {"lifecycle": lifecycle.report, "powersync": powersync.report, "api": api.report}


def _finish(args: argparse.Namespace, result: dict[str, Any]) -> None:
    result["environment"] = environment()
    result["arguments"] = {k: str(v) for k, v in vars(args).items() if not callable(v)}
    REPORTS[args.command](result)
    print_rss(result["rss"])
    stem = f"{args.command}-{backend_label(args.database_url, args.broker_url)}"
    path = save(result, args.results_dir, stem)
    print(f"\nresults: {path}")
    if not args.no_chart:
        drawn = chart.render(result, path.with_suffix(".png"))
        if drawn is not None:
            print(f"chart:   {drawn}")


def _terminate(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started ignoring it
    try:
        result = COMMANDS[args.command](args)
    except KeyboardInterrupt:
        status("\nbench: interrupted; every process it started has been stopped")
        return 130
    _finish(args, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
