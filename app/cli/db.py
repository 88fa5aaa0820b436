"""``ironworks db upgrade``: bring the configured database to the newest migration.

It runs the same locked upgrade as the API and the conductors at start-up
(:func:`app.db.migrate.upgrade`), so it is safe while they run, and prints the revision
before and after.
"""

from __future__ import annotations

import argparse
from typing import Any

from sqlalchemy import Engine

from app.cli.output import safe_url


def register(commands: Any) -> None:
    db = commands.add_parser("db", help="database schema (IRONWORKS_DATABASE_URL)")
    sub = db.add_subparsers(dest="db_command", required=True, metavar="COMMAND")
    p = sub.add_parser("upgrade", help="upgrade the database to the newest migration")
    p.set_defaults(func=upgrade)


def current_revision(engine: Engine) -> str | None:
    """The alembic revision the database is at (None for an empty database)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        revision: str | None = MigrationContext.configure(conn).get_current_revision()
        return revision


def head_revision() -> str | None:
    """The newest revision among the migrations shipped with Ironworks."""
    from alembic.script import ScriptDirectory

    from app.db.migrate import alembic_config

    head: str | None = ScriptDirectory.from_config(alembic_config()).get_current_head()
    return head


def upgrade(args: argparse.Namespace) -> int:
    from app.db import migrate
    from app.db.engine import get_engine

    engine = get_engine()
    print(f"database: {safe_url(engine.url.render_as_string(hide_password=False))}")
    before = current_revision(engine)
    print(f"before:   {before or '(empty database)'}")
    migrate.upgrade(engine)
    after = current_revision(engine)
    note = "head" if after == head_revision() else "not head"
    print(f"after:    {after} ({note}{', unchanged' if after == before else ''})")
    return 0
