"""Durable state on one SQLAlchemy declarative base: tickets and their audit, review verdicts, API keys,
the write-back ledger; Alembic migrations in migrations/. SQLite by default, PostgreSQL by URL.

`open_database(url)` is how a process opens it: the engine, `migrate` to head, the `TicketStore`."""

from agent.storage.db import Base, MigrationError, make_engine, migrate
from agent.storage.tickets import open_database

__all__ = ["Base", "MigrationError", "make_engine", "migrate", "open_database"]
