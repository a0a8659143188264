"""Durable ticket store (SQLAlchemy 2): SQLite by default, PostgreSQL by URL.

A ticket is written once at intake (status=received) and then moved by workers with a lease:
`claim()` takes one ticket (a conditional UPDATE, safe with several workers; on PostgreSQL the row
is picked with `FOR UPDATE SKIP LOCKED`), the worker's heartbeat `renew()`s the lease while it works,
and `complete()` writes the result, status and audit trail (each event once) in one transaction and
only while the worker still holds the lease, so a ticket is finished exactly once even if a worker
dies half-way; a dead worker's ticket is claimable again when its short lease runs out. A `writeback_failed`
ticket is leased the same way while its write-back is retried (`lock_writeback`/`finish_writeback`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from agent.domain import AuditEvent, Ticket, TicketStatus, utcnow
from agent.storage.db import Base, ensure_migrated, make_engine, migrate

UNFINISHED: tuple[TicketStatus, ...] = ("received", "processing")


log = logging.getLogger("triage.storage")


class TicketRow(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("source", "delivery_id", name="uq_ticket_delivery"),
        # one ticket per ticket of the source system: a new-ticket event under another delivery id is
        # the same ticket (NULL for tickets without an external id: NULLs never collide)
        Index("uq_ticket_external", "source", "external_key", unique=True),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    source: Mapped[str] = mapped_column(String(32))
    delivery_id: Mapped[str] = mapped_column(String(255))
    external_id: Mapped[str] = mapped_column(String(255), index=True)
    # the dedupe key of external_id (`delivery_key` of it), NULL when the ticket has none
    external_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AuditRow(Base):
    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    node: Mapped[str] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)


MAX_DELIVERY_ID = 255  # TicketRow.delivery_id's length
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")  # NUL (PostgreSQL text refuses it), lone surrogates


def delivery_key(delivery_id: str) -> str:
    """The dedupe key stored for a delivery id: the id itself, or `sha256:<hex>` of it when it is
    longer than the column (255 characters) or holds characters a database cannot store. Stable,
    so a redelivery with the same id maps to the same key; idempotent (a key maps to itself)."""
    if len(delivery_id) <= MAX_DELIVERY_ID and not _UNSTORABLE.search(delivery_id):
        return delivery_id
    return "sha256:" + hashlib.sha256(delivery_id.encode("utf-8", "surrogatepass")).hexdigest()


def _aware(dt: datetime | None) -> datetime | None:
    # SQLite returns naive datetimes; everything we store is UTC.
    if dt is not None and dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt


def _add_audit(s: Session, ticket_id: str, audit: list[AuditEvent]) -> int:
    """Store the events of `audit` not stored yet for this ticket; returns how many were new.

    A resumed graph hands back its whole audit trail (the state's list accumulates across the run
    before a pause and the run after it), so an event already stored (same time, node and event)
    is skipped: each event is written once."""
    if not audit:
        return 0
    stored = {
        (_aware(at), node, event)
        for at, node, event in s.execute(
            select(AuditRow.at, AuditRow.node, AuditRow.event).where(AuditRow.ticket_id == ticket_id)
        )
    }
    new = 0
    for ev in audit:
        key = (_aware(ev.at), ev.node, ev.event)
        if key in stored:
            continue
        stored.add(key)
        new += 1
        s.add(
            AuditRow(
                ticket_id=ticket_id,
                at=ev.at,
                node=ev.node,
                event=ev.event,
                detail=json.loads(json.dumps(ev.detail, default=str)),
            )
        )
    return new


@dataclass(frozen=True)
class NewTicket:
    """A new-ticket delivery ready to store: its dedupe keys and its row, built before any database
    access (`prepare_ticket`); `create_prepared` or a batch (agent/storage/intake_batch.py) stores it."""

    source: str
    delivery_key: str  # `delivery_key` of the delivery id
    external_key: str | None  # `delivery_key` of the (scoped) external id; None: dedupe on the delivery only
    ticket_id: str
    received_at: datetime
    payload: dict[str, Any]  # the Ticket as JSON

    def row(self) -> dict[str, Any]:
        """The `tickets` row (status received)."""
        return {
            "id": self.ticket_id,
            "source": self.source,
            "delivery_id": self.delivery_key,
            "external_id": str(self.payload["external_id"]),
            "external_key": self.external_key,
            "status": "received",
            "payload": self.payload,
            "attempts": 0,
            "created_at": self.received_at,
            "updated_at": self.received_at,
        }

    def audit_row(self) -> dict[str, Any]:
        """Its `intake/received` audit event."""
        return {
            "ticket_id": self.ticket_id,
            "at": self.received_at,
            "node": "intake",
            "event": "received",
            "detail": {"source": self.source, "delivery_id": self.delivery_key},
        }


def prepare_ticket(
    source: str,
    delivery_id: str,
    ticket_fields: dict[str, Any],
    *,
    external_scope: str = "",
    now: datetime | None = None,
) -> NewTicket:
    """The keys and row of a new-ticket delivery (see `TicketStore.create_or_get`); a new ticket id,
    used only if no ticket stands for it yet. Raises pydantic's ValidationError for fields no Ticket has."""
    external = str(ticket_fields.get("external_id") or "").strip()
    scoped = f"{external_scope}:{external}" if external_scope else external
    ticket_id = uuid.uuid4().hex
    now = now or utcnow()
    payload = Ticket.model_validate(
        {**ticket_fields, "id": ticket_id, "source": source, "received_at": now}
    ).model_dump(mode="json")
    return NewTicket(
        source=source,
        delivery_key=delivery_key(delivery_id),
        external_key=delivery_key(scoped) if external else None,
        ticket_id=ticket_id,
        received_at=now,
        payload=payload,
    )


class TicketStore:
    def __init__(self, url: str | Engine) -> None:
        """On a URL or an engine (`agent.storage.open_database` makes one); the database is migrated to
        head first unless this process already did it on that engine."""
        self.engine = make_engine(url) if isinstance(url, str) else url
        self.url = url if isinstance(url, str) else url.url.render_as_string(hide_password=False)
        ensure_migrated(self.engine)
        self._session = sessionmaker(self.engine, expire_on_commit=False)
        # SQLite allows one writer: queue writers here instead of in SQLite's sleeping busy handler
        # (which adds hundreds of ms of tail latency under concurrent webhooks).
        self._write_lock = threading.Lock() if self.engine.dialect.name == "sqlite" else None

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._session.begin() as s:
            yield s

    @contextmanager
    def writing(self) -> Iterator[Session]:
        if self._write_lock is None:
            with self.session() as s:
                yield s
            return
        with self._write_lock, self.session() as s:
            yield s

    @contextmanager
    def writing_connection(self, conn: Connection | None = None) -> Iterator[Connection]:
        """`writing` without the ORM: a Core connection in a transaction, committed on exit; `conn`: on
        that connection (the API's group commit of new tickets, agent/storage/intake_batch.py, keeps one
        while deliveries keep coming), else on one from the pool."""
        with self._write_lock or contextlib.nullcontext():
            if conn is None:
                with self.engine.begin() as fresh:
                    yield fresh
            else:
                with conn.begin():
                    yield conn

    # ---- intake ------------------------------------------------------------------------------
    def create_or_get(
        self, source: str, delivery_id: str, ticket_fields: dict[str, Any], *, external_scope: str = ""
    ) -> tuple[str, bool]:
        """Store a new ticket, or return the id of the one that already stands for it: the ticket this
        delivery created, or the ticket with the same external id from the same source (the same
        source ticket announced again under another event/delivery id is one ticket, not two). A
        delivery or external id the column cannot hold as is (over 255 characters, or with characters
        PostgreSQL refuses) is stored as its hash (`delivery_key`), so a redelivery still finds the
        ticket. Race-safe: two deliveries of one ticket at once make one row (the unique keys), the
        loser gets the winner's id. A ticket without an external id ("") is deduplicated on the
        delivery id only. `external_scope` (e.g. the API key of `/intake/tickets`) keeps the external
        ids of several senders on one source apart. (The API stores many at once, in one transaction:
        `agent/storage/intake_batch.py`, the same keys.)"""
        return self.create_prepared(prepare_ticket(source, delivery_id, ticket_fields, external_scope=external_scope))

    def create_prepared(self, new: NewTicket) -> tuple[str, bool]:
        """`create_or_get` of a ticket `prepare_ticket` made: one row and its intake audit event."""
        existing = self._find_existing(new.source, new.delivery_key, new.external_key)
        if existing:
            return existing, False
        try:
            with self.writing() as s:
                s.add(TicketRow(**new.row()))
                s.flush()  # the ticket row first: PostgreSQL enforces audit.ticket_id's foreign key
                s.add(AuditRow(**new.audit_row()))
        except IntegrityError:  # a concurrent delivery of the same id or the same ticket won the race
            again = self._find_existing(new.source, new.delivery_key, new.external_key)
            if again is None:
                raise
            return again, False
        return new.ticket_id, True

    def _find_existing(self, source: str, delivery_key_: str, external_key: str | None) -> str | None:
        """One indexed read: the ticket of this delivery, else the one with this external key."""
        match = TicketRow.delivery_id == delivery_key_
        if external_key is not None:
            match = or_(match, TicketRow.external_key == external_key)
        with self.session() as s:
            rows = s.execute(select(TicketRow.id, TicketRow.delivery_id).where(TicketRow.source == source, match)).all()
        by_delivery = next((r.id for r in rows if r.delivery_id == delivery_key_), None)
        return by_delivery or (rows[0].id if rows else None)

    def find_by_delivery(self, source: str, delivery_id: str) -> str | None:
        key = delivery_key(delivery_id)
        with self.session() as s:
            return s.scalar(select(TicketRow.id).where(TicketRow.source == source, TicketRow.delivery_id == key))

    def find_by_external(self, source: str, external_id: str) -> str | None:
        """The ticket that stands for `external_id` of `source` (the one intake deduplicates on), if any."""
        key = delivery_key(external_id.strip())
        with self.session() as s:
            return s.scalar(select(TicketRow.id).where(TicketRow.source == source, TicketRow.external_key == key))

    # ---- work queue --------------------------------------------------------------------------
    def claim(self, worker_id: str, lease_s: float) -> Ticket | None:
        """Take the oldest ticket that is received, or processing with an expired lease (a dead
        worker's). On PostgreSQL the candidate row is locked with `FOR UPDATE SKIP LOCKED`, so
        concurrent workers each take a different ticket without waiting on one another; on SQLite
        (one writer) the conditional UPDATE decides. The lease runs `lease_s` from now: renew it
        with `renew()` while the ticket is worked."""
        now = utcnow()
        claimable = or_(
            TicketRow.status == "received",
            (TicketRow.status == "processing") & (TicketRow.lease_until < now),
        )
        for _ in range(5):
            with self.writing() as s:
                query = select(TicketRow.id).where(claimable).order_by(TicketRow.created_at).limit(1)
                if not self.is_sqlite:
                    query = query.with_for_update(skip_locked=True)
                candidate = s.scalar(query)
                if candidate is None:
                    return None
                res = s.execute(
                    update(TicketRow)
                    .where(TicketRow.id == candidate, claimable)
                    .values(
                        status="processing",
                        lease_owner=worker_id,
                        lease_until=now + timedelta(seconds=lease_s),
                        attempts=TicketRow.attempts + 1,
                        updated_at=now,
                    )
                )
                if res.rowcount == 1:  # type: ignore[attr-defined]
                    row = s.get(TicketRow, candidate)
                    assert row is not None
                    s.add(
                        AuditRow(
                            ticket_id=candidate,
                            at=now,
                            node="worker",
                            event="claimed",
                            detail={"worker": worker_id, "attempt": row.attempts},
                        )
                    )
                    return Ticket.model_validate(row.payload)
            # another worker took it between our select and update: try the next one
        return None

    def renew(self, ticket_id: str, worker_id: str, lease_s: float) -> bool:
        """Extend this worker's lease on a ticket it is working (`processing`) or retrying the
        write-back of (`writeback_failed`) to `lease_s` from now (the worker's heartbeat). False
        when the lease is no longer ours: another worker took the ticket, or it was finished."""
        now = utcnow()
        with self.writing() as s:
            res = s.execute(
                update(TicketRow)
                .where(
                    TicketRow.id == ticket_id,
                    TicketRow.lease_owner == worker_id,
                    TicketRow.status.in_(("processing", "writeback_failed")),
                )
                .values(lease_until=now + timedelta(seconds=lease_s))
            )
            return res.rowcount == 1  # type: ignore[attr-defined]

    def holds_lease(self, ticket_id: str, worker_id: str) -> bool:
        """Whether `worker_id` still owns the ticket's lease (and it has not run out)."""
        with self.session() as s:
            row = s.execute(
                select(TicketRow.lease_owner, TicketRow.lease_until).where(TicketRow.id == ticket_id)
            ).one_or_none()
        if row is None or row[0] != worker_id:
            return False
        until = _aware(row[1])
        return until is not None and until > utcnow()

    def expire_leases(self) -> int:
        """Make every in-flight ticket claimable now (single-process SQLite mode, at start-up)."""
        with self.writing() as s:
            res = s.execute(
                update(TicketRow)
                .where(TicketRow.status == "processing")
                .values(lease_until=utcnow() - timedelta(seconds=1))
            )
            return int(res.rowcount or 0)  # type: ignore[attr-defined]

    def complete(
        self,
        ticket_id: str,
        worker_id: str,
        status: TicketStatus,
        result: dict[str, Any] | None,
        audit: list[AuditEvent],
        error: str | None = None,
    ) -> bool:
        """Write the outcome once; False (and nothing written) if this worker lost its lease."""
        now = utcnow()
        with self.writing() as s:
            res = s.execute(
                update(TicketRow)
                .where(TicketRow.id == ticket_id, TicketRow.status == "processing", TicketRow.lease_owner == worker_id)
                .values(status=status, result=result, error=error, lease_owner=None, lease_until=None, updated_at=now)
            )
            if res.rowcount != 1:  # type: ignore[attr-defined]
                return False
            _add_audit(s, ticket_id, audit)
            return True

    def release(self, ticket_id: str, worker_id: str, error: str) -> None:
        """Give a ticket back to the queue after a transient failure."""
        with self.writing() as s:
            s.execute(
                update(TicketRow)
                .where(TicketRow.id == ticket_id, TicketRow.lease_owner == worker_id)
                .values(status="received", lease_owner=None, lease_until=None, error=error, updated_at=utcnow())
            )

    # ---- write-back retries ----------------------------------------------------------------------
    def lock_writeback(self, ticket_id: str, owner: str, lease_s: float) -> bool:
        """Take a `writeback_failed` ticket for a retry (a lease, so two retries never overlap)."""
        now = utcnow()
        with self.writing() as s:
            res = s.execute(
                update(TicketRow)
                .where(
                    TicketRow.id == ticket_id,
                    TicketRow.status == "writeback_failed",
                    or_(TicketRow.lease_owner.is_(None), TicketRow.lease_until < now),
                )
                .values(lease_owner=owner, lease_until=now + timedelta(seconds=lease_s), updated_at=now)
            )
            return res.rowcount == 1  # type: ignore[attr-defined]

    def unlock_writeback(self, ticket_id: str, owner: str) -> None:
        with self.writing() as s:
            s.execute(
                update(TicketRow)
                .where(TicketRow.id == ticket_id, TicketRow.lease_owner == owner)
                .values(lease_owner=None, lease_until=None)
            )

    def finish_writeback(
        self,
        ticket_id: str,
        owner: str,
        status: TicketStatus,
        result: dict[str, Any],
        audit: list[AuditEvent],
        error: str | None,
    ) -> bool:
        """Store a retry's outcome (status, result with its new `writeback`, error) under its lease."""
        with self.writing() as s:
            res = s.execute(
                update(TicketRow)
                .where(TicketRow.id == ticket_id, TicketRow.lease_owner == owner)
                .values(status=status, result=result, error=error, lease_owner=None, lease_until=None,
                        updated_at=utcnow())
            )  # fmt: skip
            if res.rowcount != 1:  # type: ignore[attr-defined]
                return False
            _add_audit(s, ticket_id, audit)
            return True

    def ids_with_status(self, status: TicketStatus) -> list[str]:
        with self.session() as s:
            query = select(TicketRow.id).where(TicketRow.status == status).order_by(TicketRow.created_at)
            return list(s.scalars(query))

    # ---- reads -------------------------------------------------------------------------------
    def get(self, ticket_id: str) -> dict[str, Any] | None:
        with self.session() as s:
            row = s.get(TicketRow, ticket_id)
            if row is None:
                return None
            audit = s.scalars(select(AuditRow).where(AuditRow.ticket_id == ticket_id).order_by(AuditRow.id)).all()
            return {
                "id": row.id,
                "source": row.source,
                "external_id": row.external_id,
                "status": row.status,
                "attempts": row.attempts,
                "error": row.error,
                "created_at": _aware(row.created_at),
                "updated_at": _aware(row.updated_at),
                "ticket": row.payload,
                "result": row.result,
                "audit": [{"at": _aware(a.at), "node": a.node, "event": a.event, "detail": a.detail} for a in audit],
            }

    def counts(self) -> dict[str, int]:
        with self.session() as s:
            rows = s.execute(select(TicketRow.status, func.count()).group_by(TicketRow.status)).all()
            return {str(k): int(v) for k, v in rows}

    def queue_snapshot(self) -> tuple[int, float | None]:
        """(tickets waiting for a worker, age in seconds of the oldest of them or None): received
        ones, and processing ones whose lease ran out (a dead worker's)."""
        now = utcnow()
        waiting = or_(
            TicketRow.status == "received",
            (TicketRow.status == "processing") & (TicketRow.lease_until < now),
        )
        with self.session() as s:
            depth, oldest = s.execute(select(func.count(), func.min(TicketRow.created_at)).where(waiting)).one()
        first = _aware(oldest)
        return int(depth), (now - first).total_seconds() if first is not None else None


def open_database(url: str) -> TicketStore:
    """The ticket store on `url`, its database migrated to head first (the one way serve, worker and
    the CLI open the database). `KeyStore(store.engine, store.writing)`, `ReviewStore(store)` and
    `Ledger(store.engine)` share it without migrating again."""
    engine = make_engine(url)
    revision = migrate(engine)
    log.info("database %s at schema revision %s", engine.url.render_as_string(hide_password=True), revision)
    return TicketStore(engine)
