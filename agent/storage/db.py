"""The one declarative base, the engine factory, and `migrate`: every table comes from the migrations.

    store = open_database(settings.db_url)   # engine + migrate to head + TicketStore (serve, worker, CLI)
    migrate("postgresql+psycopg://...")      # or just bring a database to the current schema

Every table (tickets, audit, reviews, api_keys, writebacks) is declared on `Base`; the Alembic
migrations in `agent/storage/migrations/versions/` create and change them, never `create_all`.
`migrate()` is idempotent and cheap at head (one read of `alembic_version`); below head it upgrades
under a lock: a PostgreSQL advisory lock (per schema) or SQLite's write lock (`BEGIN IMMEDIATE`),
so several processes starting at once migrate once. On PostgreSQL the whole upgrade is one
transaction. A database made before migrations existed (our tables, no `alembic_version`) is
adopted: the baseline revision keeps the tables it finds (checked to have the baseline's columns)
and creates only the missing ones, so it ends at head with every row kept.

The stores (`TicketStore`, `KeyStore`, `Ledger`) call `ensure_migrated(engine)`: `migrate` once per
engine per process, so code and tests that build a store from a URL get their tables too.

Constraint names follow PostgreSQL's own defaults (`tickets_pkey`, `audit_ticket_id_fkey`,
`ix_tickets_status`): what the pre-migration `create_all` made there, so later migrations can name them.
"""

from __future__ import annotations

import logging
import threading
import weakref
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import MetaData, create_engine, event, inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import DeclarativeBase

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory


log = logging.getLogger("triage.storage")

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
NAMING_CONVENTION = {
    "pk": "%(table_name)s_pkey",
    "fk": "%(table_name)s_%(column_0_name)s_fkey",
    "uq": "%(table_name)s_%(column_0_N_name)s_key",
    "ix": "ix_%(column_0_label)s",
    "ck": "%(table_name)s_%(constraint_name)s_check",
}
# the tables the baseline revision creates (a database holding some of them and no alembic_version
# was made by the stores' create_all before migrations existed)
BASELINE_TABLES = frozenset({"tickets", "audit", "reviews", "api_keys", "writebacks"})
VERSION_TABLE = "alembic_version"  # Alembic's default, in the connection's default schema
_MIGRATED: weakref.WeakSet[Engine] = weakref.WeakSet()  # engines `ensure_migrated` needs not check again
_IN_PROCESS = threading.Lock()
MIGRATION_LOCK_KEY = 0x74726961  # "tria": pg_advisory_xact_lock(MIGRATION_LOCK_KEY, hashtext(current_schema()))


class Base(DeclarativeBase):
    """The one declarative base of the service's database."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class MigrationError(RuntimeError):
    """The database cannot be brought to this version's schema; the message says why and what to do."""


def make_engine(url: str) -> Engine:
    """An engine for a SQLAlchemy URL. SQLite: the file's folder is created, WAL (readers never block the
    writer) and synchronous=FULL (a 202 means the row is on disk). Others: pre-ping pooled connections."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
            cur.execute("PRAGMA synchronous=FULL")  # a 202 means the row is on disk
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def alembic_config(url: str | None = None) -> Config:
    """Alembic's Config built in code (no alembic.ini): the migrations inside the package, so an installed
    wheel migrates too. `url` is for Alembic's own commands (`python -m agent.storage.migrations`);
    `migrate` hands its connection over in `config.attributes["connection"]` instead."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))  # configparser interpolation
    return config


@lru_cache(maxsize=1)
def _scripts() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    """The revision this version of the code expects (read from the migration files once per process)."""
    head = _scripts().get_current_head()
    assert head is not None, f"no migrations in {MIGRATIONS_DIR}"
    return head


def current_revision(conn: Connection) -> str | None:
    """The revision recorded in the database's `alembic_version` (None: never migrated). Read directly
    (not through Alembic's MigrationContext, which logs at every call): this is the cheap check."""
    if not inspect(conn).has_table(VERSION_TABLE):
        return None
    versions = conn.execute(text(f"select version_num from {VERSION_TABLE}")).scalars().all()
    if len(versions) > 1:
        raise MigrationError(
            f"{VERSION_TABLE} holds several revisions ({', '.join(versions)}); this service has one line"
        )
    return versions[0] if versions else None


def lock_for_migration(conn: Connection) -> None:
    """Serialise migrations of one database for the rest of `conn`'s transaction: PostgreSQL's
    transaction-level advisory lock (per schema, released at commit), SQLite's write lock."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("select pg_advisory_xact_lock(:k, hashtext(current_schema()))"), {"k": MIGRATION_LOCK_KEY})
    elif conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")  # waits (up to the busy timeout) for another migrating process


def migrate(target: Engine | str) -> str:
    """Bring the database to the head revision and return it. Idempotent; at head it only reads
    `alembic_version`. Below head: upgrades under `lock_for_migration`, re-checking once the lock is
    held (another process may have just done it). Raises `MigrationError` when the database is at a
    revision this code does not know (a newer version of the service migrated it)."""
    engine = make_engine(target) if isinstance(target, str) else target
    try:
        head = head_revision()
        with engine.connect() as conn:
            if current_revision(conn) == head:
                _MIGRATED.add(engine)
                return head
        # Alembic's `op` and `context` are process-wide proxies: one upgrade at a time in this process,
        # then the database's own lock against other processes
        with _IN_PROCESS, engine.begin() as conn:
            lock_for_migration(conn)
            _upgrade(conn, head)
        _MIGRATED.add(engine)
        return head
    finally:
        if isinstance(target, str):
            engine.dispose()


def _upgrade(conn: Connection, head: str) -> None:
    from alembic import command
    from alembic.util import CommandError

    current = current_revision(conn)
    if current == head:
        return
    where = conn.engine.url.render_as_string(hide_password=True)
    if current is None:
        found = sorted(BASELINE_TABLES & set(inspect(conn).get_table_names()))
        if found:
            log.warning(
                "%s has the tables %s but no alembic_version: made before migrations existed; adopting them "
                "at the baseline revision (rows kept) and upgrading to %s",
                where,
                ", ".join(found),
                head,
            )
    else:
        try:
            _scripts().get_revision(current)
        except CommandError:
            raise MigrationError(
                f"{where} is at schema revision {current!r}, which this version of the service does not know "
                f"(its newest is {head!r}): a newer version migrated it; run that version, or restore a backup"
            ) from None
    log.info("migrating %s from %s to %s", where, current or "an empty database", head)
    config = alembic_config()
    config.attributes["connection"] = conn
    command.upgrade(config, "head")


def ensure_migrated(engine: Engine) -> None:
    """`migrate(engine)` unless it already ran on this engine in this process (what the stores call)."""
    if engine not in _MIGRATED:
        migrate(engine)
