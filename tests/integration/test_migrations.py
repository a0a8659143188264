"""The one storage schema comes from the Alembic migrations, on SQLite and PostgreSQL: an empty database
is migrated to head and every store works on it; models and migrations cannot drift apart; a database
made before migrations existed is adopted with its rows; several processes migrating at once migrate
once; at head `migrate` takes no lock; `python -m agent.storage.migrations` runs Alembic's commands."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    inspect,
    text,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from agent.domain import Review
from agent.settings import REPO_ROOT
from agent.storage import MigrationError, make_engine, migrate, open_database
from agent.storage.db import BASELINE_TABLES, MIGRATION_LOCK_KEY, head_revision
from agent.storage.keys import KeyStore
from agent.storage.ledger import Ledger
from agent.storage.reviews import ReviewStore
from agent.storage.schema import metadata
from agent.storage.tickets import TicketStore

pytestmark = pytest.mark.integration
# the tables at head: the baseline's and 0002_ticket_events's (lifecycle events for the KPIs)
HEAD_TABLES = BASELINE_TABLES | {"ticket_events", "ticket_lifecycle", "alembic_version"}
PG_BASE = os.environ.get("TRIAGE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TICKET = {"external_id": "T-1", "subject": "Payslip missing", "body": "Anna did not get her payslip."}


@contextmanager
def _pg_schema(options: str = "") -> Iterator[str]:
    """A URL whose tables live in a fresh PostgreSQL schema (dropped afterwards); skips when PG is down."""
    schema = f"mig_{uuid.uuid4().hex[:10]}"
    try:
        admin = create_engine(PG_BASE)
        with admin.begin() as conn:
            conn.execute(text(f"create schema {schema}"))
    except (OperationalError, ImportError):
        pytest.skip(f"no PostgreSQL at {PG_BASE}")
    try:
        yield f"{PG_BASE}?options=-csearch_path%3D{schema}{options}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"drop schema {schema} cascade"))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file that does not exist yet, or an empty PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'new' / 'triage.db'}"
    else:
        with _pg_schema() as url:
            yield url


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def _version(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(text("select version_num from alembic_version")).scalars())


def _drift(engine: Engine, target: MetaData) -> list[Any]:
    with engine.connect() as conn:
        return list(compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), target))


def test_an_empty_database_is_migrated_to_head_and_every_store_works(db_url: str) -> None:
    assert migrate(db_url) == head_revision()
    store = open_database(db_url)  # at head already: only the cheap check
    try:
        assert _tables(store.engine) == HEAD_TABLES
        assert _version(store.engine) == [head_revision()]

        ticket_id, created = store.create_or_get("generic", "d-1", TICKET)
        assert created and store.claim("w", 60) is not None
        assert store.complete(ticket_id, "w", "awaiting_review", None, [])
        reviews = ReviewStore(store)
        reviews.submit(ticket_id, Review(action="edit", text="the edited reply", by="anna", role="agent"))
        pending = reviews.pending(ticket_id)
        assert pending is not None and pending.text == "the edited reply"
        keys = KeyStore(store.engine, store.writing)
        assert keys.authenticate(keys.create("anna", "agent", "t").key).name == "anna"
        ledger = Ledger(store.engine)
        assert ledger.run_step(ticket_id, "note", lambda: "note 1") is not None
        assert ledger.run_step(ticket_id, "note", lambda: "note 2") is None  # done: skipped

        assert migrate(store.engine) == head_revision()  # idempotent: nothing changes, nothing is lost
        assert _version(store.engine) == [head_revision()]
        assert store.get(ticket_id) is not None and [r.status for r in ledger.steps(ticket_id)] == ["done"]
    finally:
        store.engine.dispose()


def test_the_models_and_the_migrations_do_not_drift_apart(db_url: str) -> None:
    """Autogenerate's comparison of the migrated database with every model: no difference. Change a
    model without a migration (or the reverse) and this fails."""
    engine = make_engine(db_url)
    try:
        migrate(engine)
        assert _drift(engine, metadata()) == []

        # the comparison is not blind: a column the migrations do not make is reported
        changed = MetaData()
        for table in metadata().tables.values():
            table.to_metadata(changed)
        changed.tables["tickets"].append_column(Column("sla_due_at", DateTime(timezone=True), nullable=True))
        assert [d[0] for d in _drift(engine, changed)] == ["add_column"]
    finally:
        engine.dispose()


# ---- a database made before migrations existed -----------------------------------------------------------
def _old_tables(md: MetaData) -> dict[str, Table]:
    """The tables exactly as the stores' create_all made them before migrations (no naming convention)."""
    return {
        "tickets": Table(
            "tickets", md,
            Column("id", String(32), primary_key=True), Column("source", String(32), nullable=False),
            Column("delivery_id", String(255), nullable=False),
            Column("external_id", String(255), nullable=False, index=True),
            Column("status", String(20), nullable=False, index=True), Column("payload", JSON, nullable=False),
            Column("result", JSON), Column("error", Text), Column("attempts", Integer, nullable=False),
            Column("lease_owner", String(64)), Column("lease_until", DateTime(timezone=True)),
            Column("created_at", DateTime(timezone=True), nullable=False),
            Column("updated_at", DateTime(timezone=True), nullable=False),
            UniqueConstraint("source", "delivery_id", name="uq_ticket_delivery"),
        ),
        "audit": Table(
            "audit", md,
            Column("id", Integer, primary_key=True, autoincrement=True),
            Column("ticket_id", String(32), ForeignKey("tickets.id"), nullable=False, index=True),
            Column("at", DateTime(timezone=True), nullable=False), Column("node", String(64), nullable=False),
            Column("event", String(64), nullable=False), Column("detail", JSON, nullable=False),
        ),
        "reviews": Table(
            "reviews", md,
            Column("ticket_id", String(32), primary_key=True), Column("action", String(16), nullable=False),
            Column("draft_text", Text, nullable=False), Column("final_text", Text), Column("reason", Text),
            Column("category", String(64)), Column("reviewer", String(200), nullable=False),
            Column("role", String(16)), Column("key_id", String(64)),
            Column("created_at", DateTime(timezone=True), nullable=False),
            Column("applied_at", DateTime(timezone=True)),
        ),
        "api_keys": Table(
            "api_keys", md,
            Column("id", String(12), primary_key=True), Column("name", String(100), nullable=False),
            Column("role", String(16), nullable=False), Column("key_hash", String(64), nullable=False),
            Column("created_at", DateTime(timezone=True), nullable=False),
            Column("created_by", String(120), nullable=False), Column("last_used_at", DateTime(timezone=True)),
            Column("revoked_at", DateTime(timezone=True)), Column("revoked_by", String(120)),
        ),
        "writebacks": Table(
            "writebacks", md,
            Column("id", Integer, primary_key=True, autoincrement=True),
            Column("ticket_id", String(64), nullable=False, index=True), Column("step", String(32), nullable=False),
            Column("system", String(32), nullable=False), Column("external_id", String(255), nullable=False),
            Column("status", String(16), nullable=False, index=True), Column("attempts", Integer, nullable=False),
            Column("retryable", Boolean, nullable=False), Column("last_error", Text), Column("response", Text),
            Column("created_at", DateTime(timezone=True), nullable=False),
            Column("updated_at", DateTime(timezone=True), nullable=False),
            UniqueConstraint("ticket_id", "step", name="uq_writeback_step"),
        ),
    }  # fmt: skip


def _make_old_database(url: str, tables: tuple[str, ...]) -> None:
    md = MetaData()
    old = _old_tables(md)
    engine = make_engine(url)
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    payload = {**TICKET, "id": "old-1", "source": "zendesk", "received_at": now.isoformat()}
    try:
        md.create_all(engine, tables=[old[name] for name in tables])
        with engine.begin() as conn:
            if "tickets" in tables:
                conn.execute(old["tickets"].insert().values(
                    id="old-1", source="zendesk", delivery_id="dlv-1", external_id="T-1", status="done",
                    payload=payload, result={"decision": {"action": "auto_resolve"}}, attempts=1,
                    created_at=now, updated_at=now,
                ))  # fmt: skip
                conn.execute(old["audit"].insert().values(
                    ticket_id="old-1", at=now, node="intake", event="received", detail={"source": "zendesk"}
                ))  # fmt: skip
            if "writebacks" in tables:
                conn.execute(old["writebacks"].insert().values(
                    ticket_id="old-1", step="reply", system="zendesk", external_id="T-1", status="done",
                    attempts=1, retryable=True, response="comment 1", created_at=now, updated_at=now,
                ))  # fmt: skip
    finally:
        engine.dispose()


@pytest.mark.parametrize("tables", [tuple(BASELINE_TABLES), ("tickets", "audit", "writebacks")], ids=["all", "some"])
def test_a_database_made_before_migrations_is_adopted_with_its_rows(db_url: str, tables: tuple[str, ...]) -> None:
    """Tables present, no alembic_version: recorded at the baseline and upgraded, no 'table already
    exists', the old rows readable through the stores; the tables the old database lacked are created."""
    _make_old_database(db_url, tables)
    store = TicketStore(db_url)  # what every store constructor does: migrate (once per engine)
    try:
        assert _version(store.engine) == [head_revision()]
        assert _tables(store.engine) == HEAD_TABLES
        got = store.get("old-1")
        assert got is not None and got["status"] == "done" and got["ticket"]["subject"] == TICKET["subject"]
        assert [a["event"] for a in got["audit"]] == ["received"]
        assert store.find_by_delivery("zendesk", "dlv-1") == "old-1"  # the unique key still dedupes
        assert store.create_or_get("zendesk", "dlv-1", TICKET) == ("old-1", False)
        ledger = Ledger(store.engine)
        assert ledger.run_step("old-1", "reply", lambda: "posted again") is None  # done before: never re-posted
        keys = KeyStore(store.engine, store.writing)
        assert keys.get(keys.create("olga", "admin", "t").info.id) is not None
        assert _drift(store.engine, metadata()) == []
    finally:
        store.engine.dispose()


def test_a_foreign_table_with_our_name_stops_the_migration_and_says_why(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("create table tickets (id integer primary key, title text)"))
        with pytest.raises(RuntimeError, match="table 'tickets' exists but has no column"):
            migrate(engine)
        assert _tables(engine) == {"tickets"}  # nothing half-done, no alembic_version
    finally:
        engine.dispose()


def test_a_database_from_a_newer_version_is_refused_with_what_to_do(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        migrate(engine)
        with engine.begin() as conn:
            conn.execute(text("update alembic_version set version_num = 'ffff_from_the_future'"))
        with pytest.raises(MigrationError, match="newer version migrated it"):
            migrate(engine)
    finally:
        engine.dispose()


# ---- concurrency and cost -------------------------------------------------------------------------------
def _start(url: str, barrier: Any) -> str:
    """One process starting up (run in a fresh interpreter): wait for the others, then migrate."""
    engine = make_engine(url)
    with engine.connect() as conn:  # connected before the race: the race is the migration itself
        conn.execute(text("select 1"))
    barrier.wait()
    try:
        return migrate(engine)
    finally:
        engine.dispose()


def test_several_processes_starting_at_once_migrate_once(db_url: str) -> None:
    """Three processes released together on an empty database all succeed; the tables exist once and
    alembic_version holds one row. Without the database lock the losers fail on 'already exists' (or a
    duplicate version row)."""
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Manager().Barrier(3)
    with ProcessPoolExecutor(3, mp_context=ctx) as pool:
        futures = [pool.submit(_start, db_url, barrier) for _ in range(3)]
        assert [f.result(timeout=120) for f in futures] == [head_revision()] * 3  # re-raises a failure
    engine = make_engine(db_url)
    try:
        assert _version(engine) == [head_revision()]
        assert _tables(engine) == HEAD_TABLES
    finally:
        engine.dispose()


def test_threads_of_one_process_migrating_different_databases_do_not_mix(tmp_path: Path) -> None:
    """Alembic's `op`/`context` are process-wide: two threads upgrading two databases at once take turns."""
    urls = [f"sqlite:///{tmp_path / f'db{i}.db'}" for i in range(4)]
    barrier = threading.Barrier(len(urls))

    def start(url: str) -> str:
        barrier.wait()
        return migrate(url)

    with ThreadPoolExecutor(len(urls)) as pool:
        assert list(pool.map(start, urls)) == [head_revision()] * len(urls)
    for url in urls:
        engine = make_engine(url)
        assert _tables(engine) == HEAD_TABLES and _version(engine) == [head_revision()]
        engine.dispose()


def test_at_head_migrate_takes_no_lock(tmp_path: Path) -> None:
    """SQLite: with another connection holding the write lock and no busy wait allowed, `migrate` at
    head still returns (it only reads); below head it needs the lock and fails at once."""
    url = f"sqlite:///{tmp_path / 'triage.db'}"
    migrate(url)
    holder = make_engine(url)
    impatient = create_engine(url, connect_args={"timeout": 0})
    try:
        with holder.connect() as conn:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            assert migrate(impatient) == head_revision()
            conn.rollback()
        with holder.begin() as conn:
            conn.exec_driver_sql("delete from alembic_version")  # below head now
        with holder.connect() as conn:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            with pytest.raises(OperationalError, match="locked"):
                migrate(impatient)
            conn.rollback()
        assert migrate(impatient) == head_revision()  # lock free: the baseline adopts its own tables
    finally:
        holder.dispose()
        impatient.dispose()


def test_at_head_migrate_takes_no_lock_on_postgresql() -> None:
    """PostgreSQL: another session holds the migration lock; `migrate` at head still returns, below
    head it waits for the lock (here it gives up at lock_timeout, 0.5 s)."""
    with _pg_schema("%20-clock_timeout%3D500") as url:
        migrate(url)
        holder, other = make_engine(url), make_engine(url)
        lock = text("select pg_advisory_lock(:k, hashtext(current_schema()))")
        try:
            with holder.connect() as conn:
                conn.execute(lock, {"k": MIGRATION_LOCK_KEY})  # a session lock: held until unlocked
                assert migrate(other) == head_revision()
                with other.begin() as c:
                    c.execute(text("delete from alembic_version"))  # below head now
                with pytest.raises(OperationalError, match="lock timeout"):
                    migrate(other)
                conn.execute(text("select pg_advisory_unlock_all()"))
                conn.commit()
            assert migrate(other) == head_revision()  # lock free: the baseline adopts its own tables
        finally:
            holder.dispose()
            other.dispose()


# ---- Alembic's own commands -----------------------------------------------------------------------------
def test_alembic_commands_run_with_the_config_the_code_builds(tmp_path: Path) -> None:
    """`python -m agent.storage.migrations` (what the README tells a developer to run): upgrade an empty
    database, then `check` finds no model change without a migration."""
    url = f"sqlite:///{tmp_path / 'dev.db'}"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "agent.storage.migrations", "-x", f"url={url}", *args],
            cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip

    up = run("upgrade", "head")
    assert up.returncode == 0, up.stderr
    check = run("check")
    assert check.returncode == 0 and "No new upgrade operations detected" in check.stdout + check.stderr, check
    current = run("current")
    assert head_revision() in current.stdout, current
