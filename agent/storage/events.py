"""Ticket lifecycle events and the per-ticket summary the KPIs read (agent/insights/kpis.py).

    events = EventStore(store)                  # on the ticket store's engine (and its SQLite write lock)
    events.record([TicketEvent(...), ...])      # idempotent; answers which were new
    events.lifecycle("zendesk", "5158")         # the summary row, or None

Two tables:

- `ticket_events`: every event once, keyed by (source, event_key): the sender's own event id, else
  `sha256:` of the event's content (its time included when the sender gave one). Kept with the
  system's own time (`at`), so the order of arrival never matters.
- `ticket_lifecycle`: one row per ticket (source, external_id), folded from all of its events in
  the system's time order every time one arrives: created, first response, solved, reopened,
  assigned to a human, auto-resolved by this service, satisfaction, and the attributes the KPIs
  filter on (client tier, support tier, priority, category, queue, linked RCA). A ticket that exists
  only from events (created before the service existed, or whose "created" arrives last) has a row
  too; `ticket_id` links it to our own ticket when we have one.

The fold (`fold`) is pure and unit-tested; `record` takes the summary row's lock (PostgreSQL: `FOR
UPDATE`; SQLite: the store's write lock) before reading the ticket's events, so two deliveries for
one ticket at once never lose each other's events. `record_outcome` turns the graph's stored result
into this service's own events (triaged; reply and solve for an auto-resolution; a handoff).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
    bindparam,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from agent.domain import Ticket, TicketEvent, TicketResult, utcnow
from agent.storage.db import Base, ensure_migrated

if TYPE_CHECKING:
    from agent.storage.tickets import TicketStore

log = logging.getLogger("triage.storage")

RESOLVED = ("solved", "closed")
# a write-back's own echo (our reply or solve, or the group our handoff set, coming back from the
# ticketing system's webhook) arrives within seconds: inside this window it is the same action
ECHO = timedelta(seconds=120)
MAX_KEY = 255
ATTRIBUTES = ("tier", "support_tier", "category", "queue", "linked_issue", "action", "ticket_id")
_WIDTH = {"tier": 40, "support_tier": 8, "category": 64, "queue": 64, "linked_issue": 64, "action": 16, "ticket_id": 32}


class EventRow(Base):
    __tablename__ = "ticket_events"
    __table_args__ = (
        UniqueConstraint("source", "event_key", name="uq_ticket_event"),
        Index("ix_ticket_events_ticket", "source", "external_id", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(255))
    event_key: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)  # the TicketEvent as JSON
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LifecycleRow(Base):
    __tablename__ = "ticket_lifecycle"
    __table_args__ = (Index("ix_ticket_lifecycle_linked_issue", "linked_issue", "created_at"),)

    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    external_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    ticket_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True, index=True)
    created_known: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="new")
    first_response_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    first_response_by: Mapped[str | None] = mapped_column(String(16), nullable=True)
    first_response_s: Mapped[int | None] = mapped_column(Integer, nullable=True)
    replies: Mapped[int] = mapped_column(Integer, default=0)  # public agent/service replies before the first solve
    first_solved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    solved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)  # None: open now
    resolution_s: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reopens: Mapped[int] = mapped_column(Integer, default=0)
    last_reopened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    human_assigned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    ai_triaged: Mapped[bool] = mapped_column(Boolean, default=False)
    action: Mapped[str | None] = mapped_column(String(16), nullable=True)
    auto_resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    auto_undone_s: Mapped[int | None] = mapped_column(Integer, nullable=True)  # reopened / to a human after
    priority: Mapped[str | None] = mapped_column(String(16), nullable=True)
    tier: Mapped[str | None] = mapped_column(String(40), nullable=True)
    support_tier: Mapped[str | None] = mapped_column(String(8), nullable=True)
    category: Mapped[str | None] = mapped_column(String(64), nullable=True)
    queue: Mapped[str | None] = mapped_column(String(64), nullable=True)
    linked_issue: Mapped[str | None] = mapped_column(String(64), nullable=True)
    csat: Mapped[str | None] = mapped_column(String(8), nullable=True)
    events: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# ---- the fold ----------------------------------------------------------------------------------------


def _utc(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _seconds(later: datetime | None, earlier: datetime | None) -> int | None:
    """Whole seconds from `earlier` to `later` (rounded down; never below zero), None if either is missing."""
    if later is None or earlier is None:
        return None
    return max(0, math.floor((later - earlier).total_seconds()))


@dataclass
class Lifecycle:
    """What a ticket's events add up to (the columns of `ticket_lifecycle`)."""

    created_at: datetime | None = None
    created_known: bool = False
    status: str = "new"
    first_response_at: datetime | None = None
    first_response_by: str | None = None
    replies: int = 0
    first_solved_at: datetime | None = None
    solved_at: datetime | None = None
    reopens: int = 0
    last_reopened_at: datetime | None = None
    human_assigned_at: datetime | None = None
    ai_triaged: bool = False
    auto_resolved_at: datetime | None = None
    auto_undone_at: datetime | None = None
    priority: str | None = None
    csat: str | None = None
    events: int = 0
    attributes: dict[str, str] = field(default_factory=dict[str, str])

    @property
    def first_response_s(self) -> int | None:
        return _seconds(self.first_response_at, self.created_at)

    @property
    def resolution_s(self) -> int | None:
        return _seconds(self.solved_at, self.created_at)

    @property
    def auto_undone_s(self) -> int | None:
        return _seconds(self.auto_undone_at, self.auto_resolved_at)

    def columns(self) -> dict[str, Any]:
        a = {k: v[: _WIDTH.get(k, MAX_KEY)] for k, v in self.attributes.items()}  # what the columns hold
        return {
            "ticket_id": a.get("ticket_id"),
            "created_at": self.created_at,
            "created_known": self.created_known,
            "status": self.status,
            "first_response_at": self.first_response_at,
            "first_response_by": self.first_response_by,
            "first_response_s": self.first_response_s,
            "replies": self.replies,
            "first_solved_at": self.first_solved_at,
            "solved_at": self.solved_at,
            "resolution_s": self.resolution_s,
            "reopens": self.reopens,
            "last_reopened_at": self.last_reopened_at,
            "human_assigned_at": self.human_assigned_at,
            "ai_triaged": self.ai_triaged,
            "action": a.get("action"),
            "auto_resolved_at": self.auto_resolved_at,
            "auto_undone_s": self.auto_undone_s,
            "priority": self.priority,
            "tier": a.get("tier"),
            "support_tier": a.get("support_tier"),
            "category": a.get("category"),
            "queue": a.get("queue"),
            "linked_issue": a.get("linked_issue"),
            "csat": self.csat,
            "events": self.events,
        }


def _created(events: Sequence[TicketEvent]) -> tuple[datetime | None, bool]:
    """The ticket's creation: the earliest `created` event with the system's own time, else the
    earliest `created` at our receipt, else the earliest event of any kind (not known)."""
    told = [e.at for e in events if e.kind == "created" and e.time_known]
    if told:
        return min(told), True
    received = [e.at for e in events if e.kind == "created"]
    if received:
        return min(received), True
    return (min(e.at for e in events), False) if events else (None, False)


def fold(events: Iterable[TicketEvent]) -> Lifecycle:
    """The lifecycle of one ticket from its events, whatever order they arrived in (they are sorted
    by the system's time here; a created event first at equal times)."""
    ordered = sorted(events, key=lambda e: (_utc(e.at), e.kind != "created"))
    out = Lifecycle(events=len(ordered))
    out.created_at, out.created_known = _created(ordered)
    reply_times: list[tuple[datetime, str]] = []
    for e in ordered:
        at = _utc(e.at)
        for key, value in e.attributes.items():
            if key in ATTRIBUTES and value:
                out.attributes[key] = value
        if e.priority is not None:
            out.priority = e.priority
        if e.kind == "triaged":
            out.ai_triaged = True
        elif e.kind == "comment" and e.public and e.actor in ("agent", "service"):
            # our own reply and its echo from the ticketing system's webhook are one reply
            echo = any(abs(at - t) <= ECHO and who != e.actor for t, who in reply_times)
            reply_times.append((at, e.actor or "agent"))
            if not echo and out.first_solved_at is None:
                out.replies += 1
            if out.first_response_at is None or at < out.first_response_at:
                out.first_response_at, out.first_response_by = at, e.actor
        elif e.kind == "status" and e.status is not None:
            auto = e.attributes.get("resolution") == "auto"
            if e.status in RESOLVED:
                if out.solved_at is None:
                    out.solved_at = at
                    out.first_solved_at = out.first_solved_at or at
                    if auto and out.auto_resolved_at is None:
                        out.auto_resolved_at = at
                elif auto and out.auto_resolved_at is None and at - out.solved_at <= ECHO:
                    out.auto_resolved_at = out.solved_at  # the system's echo of our solve came first
            elif out.solved_at is not None:  # back from solved/closed: reopened
                out.reopens += 1
                out.last_reopened_at = at
                out.solved_at = None
                if out.auto_resolved_at is not None and out.auto_undone_at is None:
                    out.auto_undone_at = at
            out.status = e.status
        elif e.kind == "assigned" and e.to_human:
            out.human_assigned_at = out.human_assigned_at or at
            if (
                out.auto_resolved_at is not None
                and out.auto_undone_at is None
                and at - out.auto_resolved_at > ECHO  # not the write-back's own group change
            ):
                out.auto_undone_at = at
        elif e.kind == "satisfaction" and e.rating is not None:
            out.csat = e.rating
    if out.created_at is not None and out.first_response_at is not None and out.first_response_at < out.created_at:
        out.first_response_at = out.created_at  # a clock skew between systems: never a negative time
    return out


# ---- storage -----------------------------------------------------------------------------------------


def event_key(event: TicketEvent) -> str:
    """The dedupe key: the sender's event id (hashed when it does not fit), else a content hash; the
    time is part of the content only when the sender gave it (our receipt time differs per retry)."""
    if event.event_id:
        key = f"{event.kind}:{event.event_id}" if not event.event_id.startswith(f"{event.kind}:") else event.event_id
        if len(key) <= MAX_KEY and "\x00" not in key:
            return key
        return "sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    content = event.model_dump(mode="json", exclude={"event_id"} if event.time_known else {"event_id", "at"})
    raw = json.dumps(content, sort_keys=True, ensure_ascii=False)
    return "sha256:" + hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class _BatchStatements:
    """`EventStore.record_in`'s statements, built once per dialect: a statement built per call costs
    SQLAlchemy more Python (its cache key) than running it."""

    insert_lifecycle: Any
    lock: Any
    insert_events: Any
    select_events: Any
    update_lifecycle: Any
    as_json: bool = False  # PostgreSQL: the two inserts take their rows as one JSON parameter (`rows`)


_BATCH: dict[str, _BatchStatements] = {}
_EVENT_COLUMNS = ("source", "external_id", "event_key", "kind", "at", "data", "received_at")
_PG_TYPES = {Boolean: "boolean", Integer: "integer", DateTime: "timestamptz", JSON: "json", String: "varchar"}


def _pg_insert_from_json(table: Table, columns: Sequence[str], returning: Sequence[str]) -> str:
    """PostgreSQL: `INSERT ... ON CONFLICT DO NOTHING RETURNING` of `columns` whose rows come as one JSON
    array parameter (json_to_recordset), so the statement's text is the same for any number of rows (see
    agent/storage/intake_batch.py `_PG_STORE`: psycopg re-parses in Python every query of over 50
    parameters, which a multi-row VALUES is at a handful of rows). The record's fields are unbounded
    (`varchar`) and go to the columns by assignment: a value too long for its column fails the insert
    as a VALUES row would (an explicit CAST to `varchar(n)` would cut it). A `json` field keeps its
    text as sent, so `data` is stored as SQLAlchemy's JSON type would send it (json.dumps of the value,
    composed in the array's json.dumps). The text is psycopg's (`pg_rows_returning` runs it)."""
    fields = ", ".join(f'"{name}" {_PG_TYPES[type(table.c[name].type)]}' for name in columns)
    names = ", ".join(f'"{name}"' for name in columns)
    back = ", ".join(f'"{name}"' for name in returning)
    return (
        f"INSERT INTO {table.name} ({names}) SELECT {names} FROM json_to_recordset(CAST(%s AS json)) AS r({fields}) "
        f"ON CONFLICT DO NOTHING RETURNING {back}"
    )


def _json_default(value: object) -> str:
    """json.dumps of a batch's rows: a datetime as ISO 8601 with its offset (timestamptz reads it exactly)."""
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def pg_rows_returning(conn: Connection, sql: str, rows: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Run a PostgreSQL statement whose one parameter (`%s`) is `rows` as a JSON array (datetimes as ISO
    8601) on `conn`'s own psycopg connection, inside `conn`'s transaction; the rows it returns. Straight
    to the driver: SQLAlchemy's execute, result and cursor bookkeeping cost about twice the driver's own
    work for these small statements (the API's group commit runs three a batch). An error is psycopg's
    own; the caller's transaction is rolled back as for any other (SQLAlchemy then sees a lost
    connection when it rolls back, and drops it from the pool)."""
    raw = cast(Any, conn.connection.dbapi_connection)
    with raw.cursor() as cur:
        cur.execute(sql, (json.dumps(rows, default=_json_default),))
        return cur.fetchall()


def _batch_statements(dialect: str) -> _BatchStatements:
    if dialect not in _BATCH:
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        life_table, events_table = cast(Table, LifecycleRow.__table__), cast(Table, EventRow.__table__)
        life, ev = life_table.c, events_table.c
        in_pairs = (life.source.in_(bindparam("sources", expanding=True)),
                    life.external_id.in_(bindparam("externals", expanding=True)))  # fmt: skip
        lock = select(life.source).where(*in_pairs).order_by(life.source, life.external_id).with_for_update()
        columns = [k for k in Lifecycle().columns() if k not in ("source", "external_id")] + ["updated_at"]
        pg = dialect == "postgresql"
        if pg:
            insert_lifecycle = _pg_insert_from_json(
                life_table, ["source", "external_id", *columns], ["source", "external_id"]
            )
            insert_events = _pg_insert_from_json(events_table, _EVENT_COLUMNS, ["source", "event_key"])
        else:
            insert_lifecycle = insert(life_table).on_conflict_do_nothing().returning(life.source, life.external_id)
            insert_events = insert(events_table).on_conflict_do_nothing().returning(ev.source, ev.event_key)
        _BATCH[dialect] = _BatchStatements(
            insert_lifecycle=insert_lifecycle,
            lock=lock if pg else None,
            insert_events=insert_events,
            select_events=select(ev.source, ev.external_id, ev.data)
            .where(ev.source.in_(bindparam("sources", expanding=True)),
                   ev.external_id.in_(bindparam("externals", expanding=True)))
            .order_by(ev.at, ev.id),
            update_lifecycle=update(life_table)
            .where(life.source == bindparam("k_source"), life.external_id == bindparam("k_external_id"))
            .values({name: bindparam(name) for name in columns}),
            as_json=pg,
        )  # fmt: skip
    return _BATCH[dialect]


def _returning(
    conn: Connection, st: _BatchStatements, statement: Any, rows: list[dict[str, Any]]
) -> list[tuple[Any, ...]]:
    """One of `st`'s inserts of `rows` (PostgreSQL: as one JSON parameter); the rows it returns."""
    if st.as_json:
        return pg_rows_returning(conn, statement, rows)
    return [tuple(r) for r in conn.execute(statement, rows)]


class EventStore:
    """Lifecycle events on the service's database (the migrations make the tables)."""

    def __init__(
        self, store: TicketStore | Engine, writing: Callable[[], AbstractContextManager[Session]] | None = None
    ):
        if isinstance(store, Engine):
            self.engine = store
            ensure_migrated(store)
            self._writing = writing
        else:
            self.engine = store.engine
            self._writing = writing or store.writing
        self._session = sessionmaker(self.engine, expire_on_commit=False)

    def _write(self) -> AbstractContextManager[Session]:
        return self._writing() if self._writing is not None else self._session.begin()

    def record(self, events: Sequence[TicketEvent]) -> list[bool]:
        """Store each event once and refold the tickets they belong to; True for each event that
        was new (False: already stored, a redelivery)."""
        if not events:
            return []
        now = utcnow()
        by_ticket: dict[tuple[str, str], list[int]] = {}
        for i, e in enumerate(events):
            by_ticket.setdefault((e.source, e.external_id), []).append(i)
        result = [False] * len(events)
        for (source, external_id), indexes in by_ticket.items():
            flags: list[bool] = []
            for attempt in range(3):
                try:
                    with self._write() as s:
                        self._lock(s, source, external_id, now)
                        flags = [self._insert(s, events[i], now) for i in indexes]
                        if any(flags):
                            self._refold(s, source, external_id, now)
                    break
                except IntegrityError:  # a concurrent first event of the same ticket: take the lock again
                    if attempt == 2:
                        raise
            for i, flag in zip(indexes, flags, strict=True):
                result[i] = flag
        return result

    def _lock(self, s: Session, source: str, external_id: str, now: datetime) -> None:
        """Make sure the ticket's summary row exists, and hold its lock for the rest of the transaction."""
        values = {
            "source": source,
            "external_id": external_id,
            "created_known": False,
            "status": "new",
            "replies": 0,
            "reopens": 0,
            "ai_triaged": False,
            "events": 0,
            "updated_at": now,
        }
        dialect = s.get_bind().dialect.name
        if dialect == "postgresql":
            s.execute(postgresql.insert(LifecycleRow).values(**values).on_conflict_do_nothing())
            s.execute(
                select(LifecycleRow.source)
                .where(LifecycleRow.source == source, LifecycleRow.external_id == external_id)
                .with_for_update()
            )
        elif dialect == "sqlite":
            s.execute(sqlite.insert(LifecycleRow).values(**values).on_conflict_do_nothing())
        elif s.get(LifecycleRow, (source, external_id)) is None:
            s.add(LifecycleRow(**values))
            s.flush()

    def _insert(self, s: Session, event: TicketEvent, now: datetime) -> bool:
        at = _utc(event.at)
        values = {
            "source": event.source,
            "external_id": event.external_id,
            "event_key": event_key(event),
            "kind": event.kind,
            "at": at,
            "data": event.model_copy(update={"at": at}).model_dump(mode="json"),
            "received_at": now,
        }
        dialect = s.get_bind().dialect.name
        if dialect in ("postgresql", "sqlite"):
            insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
            # RETURNING, not rowcount: the ORM path does not report a skipped row on PostgreSQL
            stored = s.execute(insert(EventRow).values(**values).on_conflict_do_nothing().returning(EventRow.id))
            return stored.first() is not None
        exists = s.scalar(
            select(EventRow.id).where(EventRow.source == event.source, EventRow.event_key == values["event_key"])
        )
        if exists is not None:
            return False
        s.add(EventRow(**values))
        s.flush()
        return True

    def _refold(self, s: Session, source: str, external_id: str, now: datetime) -> None:
        rows = s.scalars(
            select(EventRow.data)
            .where(EventRow.source == source, EventRow.external_id == external_id)
            .order_by(EventRow.at, EventRow.id)
        ).all()
        life = fold(TicketEvent.model_validate(r) for r in rows)
        row = s.get(LifecycleRow, (source, external_id), populate_existing=True)
        assert row is not None
        for key, value in life.columns().items():
            setattr(row, key, value)
        row.updated_at = now

    def record_in(self, s: Session | Connection, events: Sequence[TicketEvent], now: datetime) -> list[bool]:
        """`record` inside the caller's transaction `s` (a session or a Core connection; the caller
        commits, and on SQLite holds the store's write lock), a handful of statements for any number of
        events: the summary rows are made and locked in key order (PostgreSQL: `FOR UPDATE`), the
        events inserted once, the tickets with a new event refolded. What the API's group commit of new
        tickets uses (agent/storage/intake_batch.py)."""
        if not events:
            return []
        conn = s if isinstance(s, Connection) else s.connection()
        dialect = conn.dialect.name
        if dialect not in ("postgresql", "sqlite"):  # the generic path, one ticket at a time
            if isinstance(s, Connection):  # a session joining the connection's transaction
                with Session(bind=s) as joined:
                    out = self.record_in(joined, events, now)
                    joined.flush()
                return out
            out: list[bool] = []
            for e in events:
                self._lock(s, e.source, e.external_id, now)
                out.append(self._insert(s, e, now))
                if out[-1]:
                    self._refold(s, e.source, e.external_id, now)
            return out
        st = _batch_statements(dialect)
        rows: list[dict[str, Any]] = []
        first: dict[tuple[str, str], int] = {}  # (source, event key) -> its first row: a repeat is no new event
        for e in events:
            utc = e.at.tzinfo is UTC  # stored as is (the copy costs more than the rest of the row)
            at = e.at if utc else _utc(e.at)
            rows.append({"source": e.source, "external_id": e.external_id, "event_key": event_key(e), "kind": e.kind,
                         "at": at, "data": (e if utc else e.model_copy(update={"at": at})).model_dump(mode="json"),
                         "received_at": now})  # fmt: skip
            first.setdefault((e.source, rows[-1]["event_key"]), len(rows) - 1)
        unique = sorted(first.values())
        by_key: dict[tuple[str, str], list[TicketEvent]] = {}
        for i in unique:
            by_key.setdefault((events[i].source, events[i].external_id), []).append(events[i])
        keys = sorted(by_key)
        # A summary row that does not exist yet is inserted whole, folded from these events: no event of
        # its ticket can be stored before its row (this method and `record` make the row first), and the
        # row is ours (locked) until commit. The rows that existed (events came before the ticket) are
        # locked in key order, and refolded from all their events once these are stored.
        summaries = [{"source": src, "external_id": ext, **fold(by_key[(src, ext)]).columns(), "updated_at": now}
                     for src, ext in keys]  # fmt: skip
        made = _returning(conn, st, st.insert_lifecycle, summaries)
        fresh = {(str(src), str(ext)) for src, ext in made}
        old = [k for k in keys if k not in fresh]
        # column IN lists, exact pairs checked here (SQLite scans the table for a row-value IN)
        pairs = {"sources": sorted({k[0] for k in old}), "externals": sorted({k[1] for k in old})}
        if st.lock is not None and old:
            conn.execute(st.lock, pairs)
        inserted = _returning(conn, st, st.insert_events, [rows[i] for i in unique])
        stored = {(str(src), str(key)) for src, key in inserted}
        flags = [first[(r["source"], r["event_key"])] == i and (r["source"], r["event_key"]) in stored
                 for i, r in enumerate(rows)]  # fmt: skip
        changed = sorted({(r["source"], r["external_id"]) for r, new in zip(rows, flags, strict=True) if new} - fresh)
        if changed:
            by_ticket: dict[tuple[str, str], list[TicketEvent]] = {k: [] for k in changed}
            wanted = {"sources": sorted({k[0] for k in changed}), "externals": sorted({k[1] for k in changed})}
            for src, ext, data in map(tuple, conn.execute(st.select_events, wanted)):
                if (src, ext) in by_ticket:  # the IN lists match other pairs of these values too
                    by_ticket[(src, ext)].append(TicketEvent.model_validate(data))
            folded = [{"k_source": src, "k_external_id": ext, **fold(evs).columns(), "updated_at": now}
                      for (src, ext), evs in by_ticket.items()]  # fmt: skip
            conn.execute(st.update_lifecycle, folded)
        return flags

    # ---- reads -------------------------------------------------------------------------------------
    def lifecycle(self, source: str, external_id: str) -> dict[str, Any] | None:
        with self._session.begin() as s:
            row = s.get(LifecycleRow, (source, external_id))
            if row is None:
                return None
            out = {c.name: getattr(row, c.name) for c in LifecycleRow.__table__.columns}
        return {k: _utc(v) if isinstance(v, datetime) else v for k, v in out.items()}

    def events_of(self, source: str, external_id: str) -> list[TicketEvent]:
        with self._session.begin() as s:
            rows = s.scalars(
                select(EventRow.data)
                .where(EventRow.source == source, EventRow.external_id == external_id)
                .order_by(EventRow.at, EventRow.id)
            ).all()
        return [TicketEvent.model_validate(r) for r in rows]

    def iter_lifecycles(self) -> Iterator[dict[str, Any]]:
        with self._session.begin() as s:
            for row in s.scalars(select(LifecycleRow)):
                yield {c.name: getattr(row, c.name) for c in LifecycleRow.__table__.columns}


# ---- this service's own events -------------------------------------------------------------------------


def created_event(ticket: Ticket) -> TicketEvent:
    """The ticket's creation as its own system dated it (`created_at`), else our receipt."""
    at = ticket.created_at or ticket.received_at or utcnow()
    attributes = {"ticket_id": ticket.id}
    if ticket.customer.tier:
        attributes["tier"] = ticket.customer.tier
    return TicketEvent(
        source=ticket.source,
        external_id=ticket.external_id,
        kind="created",
        at=at,
        event_id=f"intake:{ticket.id}",  # the same key as the webhook route's (api/providers/lifecycle.py)
        time_known=ticket.created_at is not None,
        actor="system",
        attributes=attributes,
    )


def outcome_events(ticket: Ticket, result: TicketResult, status: str, at: datetime | None = None) -> list[TicketEvent]:
    """This service's own part of the lifecycle, from the graph's stored result: it triaged the ticket;
    an auto-resolution that went out is a public reply (a first response) and a solve; an approved
    suggestion is a reply sent for an agent (and a solve unless the plan kept it open); a handoff is a
    reassignment to a human queue. A failed write-back is none of these until it is retried."""
    at = at or utcnow()
    routing = result.routing
    attributes: dict[str, str] = {"ticket_id": ticket.id, "action": result.decision.action}
    optional = {
        "category": result.triage.category.value,
        "linked_issue": result.decision.linked_issue,
        "queue": result.decision.queue or (routing.queue if routing else None),
        "support_tier": routing.tier if routing else None,
        "tier": routing.client_tier if routing else None,
    }
    attributes.update({k: v for k, v in optional.items() if v})
    priority = result.triage.priority.value
    base = {"source": ticket.source, "external_id": ticket.external_id, "at": at, "actor": "service"}
    key = f"triage:{ticket.id}"
    out = [
        created_event(ticket),
        TicketEvent(
            **base,
            kind="triaged",
            event_id=f"{key}:triaged",
            priority=priority if priority in ("low", "normal", "high", "urgent") else None,  # type: ignore[arg-type]
            attributes=attributes,
        ),
    ]
    if status != "done" and result.decision.action != "handoff":
        return out
    action = result.decision.action
    review = result.review.action if result.review else None
    if action == "handoff" and status == "handed_off":
        group = {"queue": attributes.get("queue", ""), "assignee": routing.engineer or "" if routing else ""}
        out.append(
            TicketEvent(
                **base,
                kind="assigned",
                event_id=f"{key}:handoff",
                to_human=True,
                attributes={k: v for k, v in group.items() if v},
            )
        )
        return out
    if status != "done" or result.reply is None:
        return out
    by_agent = action == "suggest" and review in ("approve", "edit")
    out.append(
        TicketEvent(
            **{**base, "actor": "agent" if by_agent else "service"},
            kind="comment",
            public=True,
            event_id=f"{key}:reply",
        )
    )
    plan = result.writeback.plan if result.writeback else None
    resolves = plan.resolve if plan is not None and plan.resolve is not None else True
    if resolves:
        out.append(
            TicketEvent(
                **{**base, "actor": "agent" if by_agent else "service"},
                kind="status",
                status="solved",
                event_id=f"{key}:solved",
                attributes={} if by_agent else {"resolution": "auto"},
            )
        )
    return out


def record_outcome(store: TicketStore, ticket: Ticket, result: TicketResult, status: str) -> None:
    """Record this service's own events for a finished ticket (the worker calls it after storing the
    result). Never raises: the KPIs must not cost a ticket its result."""
    try:
        EventStore(store).record(outcome_events(ticket, result, status))
    except Exception:
        log.exception("ticket %s: could not record its lifecycle events", ticket.id)
