"""Group commit for ticket intake: the new tickets of concurrent deliveries stored in one transaction.

    writer = IntakeWriter(store).start()                      # one writer thread per API process
    ticket_id, created = await writer.submit(new_ticket)      # answered only after the commit
    writer.close()

Every request waits for the commit of the transaction that stored (or found) its ticket, so a 2xx
still means "on disk" (SQLite WAL with synchronous=FULL, PostgreSQL's commit): nothing is answered
from memory. What batching saves is the per-ticket transaction, round trips and fsync: while one
batch commits, the next requests queue, and the writer takes all of them (up to `max_batch`) in the
next transaction; a lone request is written at once (no waiting for company).

One batch (`store_batch`): deduplicated exactly as `TicketStore.create_or_get` does, on the delivery
key and on the (scoped) external key: within the batch (a later delivery of a key an earlier one
carries answers that one's ticket), against the stored tickets and against a concurrent writer in
another process alike (`INSERT ... ON CONFLICT DO NOTHING RETURNING id`: a ticket a stored or
committed row stands for is not inserted, and only those are read back, one indexed read). The tickets, their
intake audit events and their lifecycle `created` events (agent/storage/events.py `record_in`) go in
the same transaction. Should a batch fail as a whole (an integrity error nobody expected, a
deadlock), each of its tickets is stored again on its own (`create_prepared`), so one bad ticket
fails only its own request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, bindparam, insert, select, union_all
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection

from agent.domain import TicketEvent
from agent.storage.events import EventStore, pg_rows_returning
from agent.storage.tickets import AuditRow, NewTicket, TicketRow, TicketStore

log = logging.getLogger("triage.storage")

Outcome = tuple[str, bool]  # (ticket id, created now)


@dataclass(frozen=True)
class Pending:
    """A ticket to store and its lifecycle `created` event (recorded only if the ticket is new)."""

    ticket: NewTicket
    created: TicketEvent | None = None


def _plan(items: Sequence[Pending]) -> tuple[list[int], dict[int, int]]:
    """Which items lead (the first of each key in the batch) and which follow an earlier one (index ->
    leader index). The delivery key decides first, as in `create_or_get`, then the external key."""
    by_delivery: dict[tuple[str, str], int] = {}
    by_external: dict[tuple[str, str], int] = {}
    leaders: list[int] = []
    follows: dict[int, int] = {}
    for i, p in enumerate(items):
        t = p.ticket
        d = (t.source, t.delivery_key)
        e = (t.source, t.external_key) if t.external_key is not None else None
        if d in by_delivery:
            follows[i] = by_delivery[d]
            continue
        if e is not None and e in by_external:
            follows[i] = by_external[e]
            by_delivery[d] = follows[i]
            continue
        leaders.append(i)
        by_delivery[d] = i
        if e is not None:
            by_external[e] = i
    return leaders, follows


_TICKETS, _AUDIT = cast(Table, TicketRow.__table__), cast(Table, AuditRow.__table__)
_T = _TICKETS.c
_COLUMNS = (_T.id, _T.source, _T.delivery_id, _T.external_key)
_SOURCES = _T.source.in_(bindparam("sources", expanding=True))
# column IN lists (each answered from its unique index), exact pairs checked in Python: SQLite plans a
# row-value `(a, b) IN (...)` as a scan of the whole table. Built once: a statement built per call costs
# SQLAlchemy more Python (its cache key) than running it.
# One round trip for both keys (UNION ALL: each side answered from its own index).
_EXISTING = union_all(
    select(*_COLUMNS).where(_SOURCES, _T.delivery_id.in_(bindparam("deliveries", expanding=True))),
    select(*_COLUMNS).where(_SOURCES, _T.external_key.in_(bindparam("externals", expanding=True))),
)
_INSERT_AUDIT = insert(_AUDIT)
_INSERT_TICKETS = sqlite.insert(_TICKETS).on_conflict_do_nothing().returning(_T.id)
# PostgreSQL: the tickets and their audit events in one statement whose text is the same for any batch
# size, with the rows as one JSON parameter (json_to_recordset), so psycopg parses the query once, the
# server prepares it once and no value goes through psycopg's per-element array quoting. A multi-row
# VALUES has a placeholder per cell, and psycopg re-parses a query of more than 50 parameters in Python
# every time (~40% of the writer's CPU at 8 tickets a batch). The audit rows join the ids inserted. A
# `json` column keeps its value's text as sent: json.dumps composes, so each payload is stored exactly
# as SQLAlchemy's JSON type would have sent it (json.dumps of the value).
_PG_STORE = """
WITH batch AS (
    SELECT * FROM json_to_recordset(CAST(%s AS json)) AS r(
        id varchar, source varchar, delivery_id varchar, external_id varchar, external_key varchar,
        payload json, detail json, at timestamptz)
), new_tickets AS (
    INSERT INTO tickets (id, source, delivery_id, external_id, external_key, status, payload, attempts,
                         created_at, updated_at)
    SELECT id, source, delivery_id, external_id, external_key, 'received', payload, 0, at, at FROM batch
    ON CONFLICT DO NOTHING
    RETURNING id
), new_audit AS (
    INSERT INTO audit (ticket_id, at, node, event, detail)
    SELECT batch.id, batch.at, 'intake', 'received', batch.detail
    FROM batch JOIN new_tickets ON new_tickets.id = batch.id
)
SELECT id FROM new_tickets
"""  # psycopg's text, run on the driver by `pg_rows_returning` (agent/storage/events.py)

_EVENT_STORES: weakref.WeakKeyDictionary[TicketStore, EventStore] = weakref.WeakKeyDictionary()


def _events(store: TicketStore) -> EventStore:
    """One EventStore per ticket store (each builds a sessionmaker), for `record_in`."""
    events = _EVENT_STORES.get(store)
    if events is None:
        events = _EVENT_STORES.setdefault(store, EventStore(store))
    return events


def _existing(conn: Connection, tickets: Sequence[NewTicket]) -> dict[int, str]:
    """For each of `tickets` (by position) the id of a stored ticket that stands for it, if any."""
    sources = sorted({t.source for t in tickets})
    deliveries = sorted({t.delivery_key for t in tickets})
    externals = sorted({t.external_key for t in tickets if t.external_key is not None})
    rows = conn.execute(_EXISTING, {"sources": sources, "deliveries": deliveries, "externals": externals})
    by_delivery: dict[tuple[str, str], str] = {}
    by_external: dict[tuple[str, str], str] = {}
    for tid, src, delivery, external in rows:
        by_delivery[(src, delivery)] = tid
        if external is not None:
            by_external.setdefault((src, external), tid)
    found: dict[int, str] = {}
    for i, t in enumerate(tickets):
        tid = by_delivery.get((t.source, t.delivery_key))
        if tid is None and t.external_key is not None:
            tid = by_external.get((t.source, t.external_key))
        if tid is not None:
            found[i] = tid
    return found


def _insert_pg(conn: Connection, tickets: Sequence[NewTicket]) -> set[str]:
    """Insert `tickets` and their audit events unless a stored ticket has one of their keys; the ids inserted."""
    rows = []
    for t in tickets:  # status 'received', attempts 0 and the audit's node/event are constants in _PG_STORE
        row = t.row()
        rows.append({"id": row["id"], "source": row["source"], "delivery_id": row["delivery_id"],
                     "external_id": row["external_id"], "external_key": row["external_key"], "payload": row["payload"],
                     "detail": t.audit_row()["detail"], "at": t.received_at.isoformat()})  # fmt: skip
    return {tid for (tid,) in pg_rows_returning(conn, _PG_STORE, rows)}


def _insert_sqlite(conn: Connection, tickets: Sequence[NewTicket]) -> set[str]:
    """`_insert_pg` on SQLite (no data-modifying CTE there): the tickets, then the audit rows of those inserted."""
    inserted = set(conn.execute(_INSERT_TICKETS, [t.row() for t in tickets]).scalars().all())
    if inserted:
        conn.execute(_INSERT_AUDIT, [t.audit_row() for t in tickets if t.ticket_id in inserted])
    return inserted


def _insert_other(conn: Connection, tickets: Sequence[NewTicket]) -> set[str]:
    """Another database (no ON CONFLICT here): only the tickets no stored ticket stands for are inserted
    (a concurrent writer's row is an IntegrityError: the batch is then stored one ticket at a time)."""
    found = _existing(conn, tickets)
    fresh = [t for k, t in enumerate(tickets) if k not in found]
    if fresh:
        conn.execute(insert(_TICKETS), [t.row() for t in fresh])
        conn.execute(_INSERT_AUDIT, [t.audit_row() for t in fresh])
    return {t.ticket_id for t in fresh}


_INSERTS = {"postgresql": _insert_pg, "sqlite": _insert_sqlite}


def store_batch(store: TicketStore, items: Sequence[Pending], conn: Connection | None = None) -> list[Outcome]:
    """Store `items` in one transaction (see the module's docstring); per item (ticket id, created).
    Raises what the database raised (the caller falls back to one ticket at a time). `conn`: the
    connection to use (PostgreSQL and SQLite; not in a transaction), else one from the pool.

    The insert comes first (`ON CONFLICT DO NOTHING`: a ticket a stored one stands for, on either key,
    is skipped), and only the tickets it skipped are read back: the same answers as reading first, one
    statement fewer for the usual batch (all new)."""
    if not items:
        return []
    leaders, follows = _plan(items)
    out: dict[int, Outcome] = {}
    fast = _INSERTS.get(store.engine.dialect.name)
    insert_new = fast or _insert_other
    # PostgreSQL and SQLite: a Core connection (an ORM session costs more Python than the statements)
    transaction = store.writing_connection(conn) if fast else store.writing()
    with transaction as s:
        conn = s if isinstance(s, Connection) else s.connection()
        lead = [items[i].ticket for i in leaders]
        inserted = insert_new(conn, lead)
        skipped = [k for k in range(len(lead)) if lead[k].ticket_id not in inserted]
        if skipped:  # a stored ticket (a redelivery, or another process's commit) stands for these: read it
            found = _existing(conn, [lead[k] for k in skipped])
            for j, k in enumerate(skipped):
                if j not in found:
                    raise RuntimeError(f"ticket {lead[k].ticket_id} was neither inserted nor found")
                out[leaders[k]] = (found[j], False)
        for k, t in enumerate(lead):
            if t.ticket_id in inserted:
                out[leaders[k]] = (t.ticket_id, True)
        if inserted:
            events = [p.created for p in items if p.ticket.ticket_id in inserted and p.created is not None]
            if events:
                _events(store).record_in(s, events, max(t.received_at for t in lead if t.ticket_id in inserted))
    for i, leader in follows.items():
        out[i] = (out[leader][0], False)
    return [out[i] for i in range(len(items))]


def store_one(store: TicketStore, item: Pending) -> Outcome:
    """One ticket on its own (the path a failed batch falls back to): `create_prepared`, then its event."""
    ticket_id, created = store.create_prepared(item.ticket)
    if created and item.created is not None:
        _events(store).record([item.created])
    return ticket_id, created


_Waiter = tuple[Pending, asyncio.AbstractEventLoop, "asyncio.Future[Outcome]"]


class IntakeWriter:
    """The one thread that stores new tickets for this process, a batch per transaction."""

    def __init__(self, store: TicketStore, *, max_batch: int = 256, hold_s: float = 1.0) -> None:
        self.store = store
        self.max_batch = max_batch
        # PostgreSQL and SQLite: the writer keeps its connection while deliveries keep coming (no pool
        # checkout, pre-ping round trip and check-in per batch), and hands it back after `hold_s` with
        # nothing to store, or after any failed batch (the next one takes a fresh, pinged connection)
        self.hold_s = hold_s
        self._conn: Connection | None = None
        self._keeps = store.engine.dialect.name in _INSERTS
        self._queue: queue.SimpleQueue[_Waiter | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.batches = 0  # how many transactions, and how many tickets went through them
        self.items = 0

    def start(self) -> IntakeWriter:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="intake-writer", daemon=True)
                self._thread.start()
        return self

    def close(self, timeout: float = 30.0) -> None:
        """Store what is queued, then stop the thread."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout)
            if self.batches:
                log.info("intake writer: %d tickets in %d transactions (%.1f a transaction)", self.items,
                         self.batches, self.items / self.batches)  # fmt: skip

    def submit(self, item: Pending) -> asyncio.Future[Outcome]:
        """From the event loop: a future answered (ticket id, created) once the ticket's transaction
        committed, or with the exception that stored nothing."""
        if self._thread is None:
            self.start()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Outcome] = loop.create_future()
        self._queue.put((item, loop, future))
        return future

    def _run(self) -> None:
        try:
            self._serve()
        finally:
            self._release()

    def _release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):  # a lost connection: the pool discards it
                conn.close()

    def _next(self) -> _Waiter | None:
        """The next delivery; the connection goes back to the pool while none comes within `hold_s`."""
        if self._conn is not None:
            try:
                return self._queue.get(timeout=self.hold_s)
            except queue.Empty:
                self._release()
        return self._queue.get()

    def _serve(self) -> None:
        while True:
            first = self._next()
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < self.max_batch:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                batch.append(nxt)
            try:
                self._write(batch)
            except Exception as exc:  # never leave a request waiting, nor this thread dead (logged)
                log.exception("intake writer: a batch of %d could not be answered", len(batch))
                for _item, loop, future in batch:
                    failed: list[tuple[asyncio.Future[Outcome], Outcome | BaseException]] = [(future, exc)]
                    with contextlib.suppress(RuntimeError):
                        loop.call_soon_threadsafe(_answer, failed)
            if stop:
                return

    def _write(self, batch: list[_Waiter]) -> None:
        items = [w[0] for w in batch]
        results: list[Outcome | BaseException]
        try:
            if self._keeps and self._conn is None:
                self._conn = self.store.engine.connect()
            results = list(store_batch(self.store, items, self._conn))
        except Exception as exc:  # noqa: BLE001 - the batch as a whole failed: each ticket again on its own
            self._release()
            log.warning(
                "intake batch of %d failed (%s: %s); storing them one by one", len(items), type(exc).__name__, exc
            )
            results = []
            for item in items:
                try:
                    results.append(store_one(self.store, item))
                except Exception as one:  # noqa: BLE001 - this ticket's own failure, answered to its request
                    results.append(one)
        self.batches += 1
        self.items += len(items)
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Outcome], Outcome | BaseException]]] = {}
        for (_item, loop, future), result in zip(batch, results, strict=True):
            by_loop.setdefault(loop, []).append((future, result))
        for loop, answers in by_loop.items():
            with contextlib.suppress(RuntimeError):  # that loop is closed: nobody is waiting any more
                loop.call_soon_threadsafe(_answer, answers)


def _answer(answers: list[tuple[asyncio.Future[Outcome], Outcome | BaseException]]) -> None:
    for future, result in answers:
        if future.done():  # the request was cancelled (client gone); its ticket is stored anyway
            continue
        if isinstance(result, BaseException):
            future.set_exception(result)
        else:
            future.set_result(result)
