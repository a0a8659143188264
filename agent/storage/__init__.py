"""Durable state on one SQLAlchemy declarative base: tickets and their audit, review verdicts, API keys,
the write-back ledger; Alembic migrations in migrations/. SQLite by default, PostgreSQL by URL."""
