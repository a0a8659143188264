"""Alembic's environment for the service's database: the one `Base`'s metadata, batch mode for SQLite.

Run by `agent.storage.db.migrate` (which hands over its locked connection in
`config.attributes["connection"]`) and by `python -m agent.storage.migrations ...` (a URL from
`-x url=...` or the settings' TRIAGE_DATABASE_URL; the same lock is taken).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from agent.storage.db import lock_for_migration, make_engine
from agent.storage.schema import metadata

config = context.config
target_metadata = metadata()


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite alters a table by copying it; PostgreSQL gets plain ALTERs
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("no database URL: pass -x url=<SQLAlchemy URL> or set TRIAGE_DATABASE_URL")
    return url


if context.is_offline_mode():  # `upgrade --sql`: the DDL as a script
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
elif (given := config.attributes.get("connection")) is not None:
    _run(given)
else:
    engine = make_engine(_url())
    try:
        with engine.begin() as conn:
            lock_for_migration(conn)
            _run(conn)
    finally:
        engine.dispose()
