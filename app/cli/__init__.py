"""``ironworks``: the operator's command line.

Two kinds of commands, by what they talk to:

* ``db upgrade``, ``status``, ``conductor drain`` use the database and the broker configured
  by the ``IRONWORKS_*`` variables, as the conductors do (run them where a conductor runs);
* ``node ...`` use only the REST API (``--url``, default ``IRONWORKS_API_URL`` or
  http://127.0.0.1:6385; ``--user``/``--password`` for HTTP basic auth).

Exit codes: 0 done; 1 the API refused the request, or the work failed or timed out;
2 the API, the database or the broker could not be reached.

Each command group lives in its own module with a ``register(subparsers)`` function; heavy
imports (Celery, alembic, the ring) happen inside the commands that need them. This package
is the one part of ``app/`` that uses ``workers/`` (the drain broadcast, queue depths), always
through such function-level imports: the core never imports it, so no cycle appears.
"""

from __future__ import annotations

import argparse
import logging
import sys

from app.cli import conductor, db, node, status
from app.cli.output import CommandFailed

EXIT_UNREACHABLE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ironworks", description="Operate an Ironworks deployment."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (db, status, conductor, node):
        module.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    from kombu.exceptions import OperationalError as BrokerError
    from sqlalchemy.exc import DBAPIError, ProgrammingError

    try:
        code: int = args.func(args)
    except CommandFailed as exc:
        print(f"ironworks: {exc}", file=sys.stderr)
        return exc.exit_code
    except DBAPIError as exc:
        if isinstance(exc, ProgrammingError) or "no such table" in str(exc.orig):
            print(
                f"ironworks: the database has no current Ironworks schema ({exc.orig}); "
                "run `ironworks db upgrade`",
                file=sys.stderr,
            )
            return 1
        print(f"ironworks: the database did not answer: {exc.orig}", file=sys.stderr)
        return EXIT_UNREACHABLE
    except BrokerError as exc:
        print(f"ironworks: the broker did not answer: {exc}", file=sys.stderr)
        return EXIT_UNREACHABLE
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130
    return code
