"""Alembic environment: runs on the connection Ironworks hands over (see app/db/migrate.py)."""

from __future__ import annotations

from alembic import context

from app.db.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - the `alembic` CLI path
    from app.db.engine import get_engine

    connection = get_engine().connect()

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
