"""Group-committed intake (agent/storage/intake_batch.py) on the real databases, SQLite and PostgreSQL:
a batch deduplicates exactly as `create_or_get` does, its lifecycle events fold as `EventStore.record`
folds them, and many clients posting one delivery id or one external id at once to the real server on
loopback make one ticket."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from sqlalchemy import func, select, text

from agent.domain import TicketEvent
from agent.storage import intake_batch
from agent.storage.events import EventStore
from agent.storage.intake_batch import IntakeWriter, Pending, store_batch
from agent.storage.tickets import AuditRow, TicketRow, TicketStore, prepare_ticket
from api.providers import lifecycle
from evals.demo import signed_headers
from tests.conftest import make_settings
from tests.integration.conftest import fresh_pg_database, serve_in_thread

pytestmark = pytest.mark.integration


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'triage.db'}"
    else:
        with fresh_pg_database("intake_batch") as url:
            yield url


def _pending(source: str, delivery: str, external: str, scope: str = "") -> Pending:
    fields: dict[str, Any] = {"external_id": external, "subject": "Payslip missing", "body": "Anna has no payslip."}
    new = prepare_ticket(source, delivery, fields, external_scope=scope)
    return Pending(new, lifecycle.created_from_fields(source, new.ticket_id, fields, new.received_at))


def test_a_batch_deduplicates_like_create_or_get(db_url: str) -> None:
    store = TicketStore(db_url)
    stored, _ = store.create_or_get("zendesk", "d-0", {"external_id": "Z-0", "subject": "s", "body": "b"})
    batch = [
        _pending("zendesk", "d-0", "Z-0"),  # a redelivery of a stored ticket
        _pending("zendesk", "d-1", "Z-1"),  # new
        _pending("zendesk", "d-2", "Z-1"),  # the same source ticket under another delivery id, same batch
        _pending("zendesk", "d-1", "Z-1"),  # the same delivery again, same batch
        _pending("zendesk", "d-3", "Z-0"),  # the stored ticket under another delivery id
        _pending("zendesk", "d-4", ""),  # no external id: the delivery id alone
        _pending("zendesk", "d-5", ""),
        _pending("jira", "d-1", "Z-1"),  # another source: another ticket
        _pending("generic", "d-9", "7", scope="key-a"),  # two senders' external ids never meet
        _pending("generic", "d-10", "7", scope="key-b"),
    ]
    out = store_batch(store, batch)
    new_z1 = batch[1].ticket.ticket_id
    assert out[0] == (stored, False)
    assert out[1] == (new_z1, True)
    assert out[2] == (new_z1, False) and out[3] == (new_z1, False)
    assert out[4] == (stored, False)
    assert out[5][1] and out[6][1] and out[5][0] != out[6][0]
    assert out[7] == (batch[7].ticket.ticket_id, True)
    assert out[8][1] and out[9][1]
    assert sum(store.counts().values()) == 7
    # the same answers as the one-at-a-time path, and again as a second batch (everything stored now)
    assert store.create_or_get("zendesk", "d-2", {"external_id": "Z-1", "subject": "s", "body": "b"}) == (new_z1, False)
    again = store_batch(store, [_pending(p.ticket.source, p.ticket.delivery_key, p.ticket.payload["external_id"])
                                for p in batch[:8]])  # fmt: skip
    assert [tid for tid, _ in again] == [tid for tid, _ in out[:8]] and not any(c for _, c in again)
    # every new ticket has its intake audit event and its lifecycle row, once
    with store.session() as s:
        audits = s.scalar(select(func.count()).select_from(AuditRow).where(AuditRow.node == "intake"))
    assert audits == 7
    events = EventStore(store)
    life = events.lifecycle("zendesk", "Z-1")
    assert life is not None and life["ticket_id"] == new_z1 and life["events"] == 1
    assert len(events.events_of("zendesk", "Z-1")) == 1


def test_a_batch_stores_the_same_rows_as_create_prepared(db_url: str) -> None:
    """The batch's insert (on PostgreSQL one statement with the rows as JSON) stores what the ORM path
    stores: every column of the ticket and of its audit event, the JSON columns' text included."""
    store = TicketStore(db_url)
    fields: dict[str, Any] = {"external_id": "R-1", "subject": "Zahlung \u00fcberf\u00e4llig \u2603 \"quoted\"",
                              "body": "Line 1\nLine 2\ttab \\ backslash \U0001f600", "requester": "ann@example.com",
                              "customer": {"name": "Acme", "tier": "gold"}, "language": "de"}  # fmt: skip
    one = prepare_ticket("zendesk", "row-1", fields)
    batched = prepare_ticket("zendesk", "row-2", {**fields, "external_id": "R-2"})
    assert store.create_prepared(one) == (one.ticket_id, True)
    assert store_batch(store, [Pending(batched)]) == [(batched.ticket_id, True)]
    raw_json = "CAST({} AS TEXT)".format  # the stored text, not a re-parsed value
    with store.engine.connect() as conn:
        rows = {r["id"]: dict(r) for r in conn.execute(
            text(f"SELECT *, {raw_json('payload')} AS payload_text FROM tickets WHERE id IN (:a, :b)"),
            {"a": one.ticket_id, "b": batched.ticket_id}).mappings()}  # fmt: skip
        audits = {r["ticket_id"]: dict(r) for r in conn.execute(
            text(f"SELECT *, {raw_json('detail')} AS detail_text FROM audit WHERE ticket_id IN (:a, :b)"),
            {"a": one.ticket_id, "b": batched.ticket_id}).mappings()}  # fmt: skip
    with store.session() as s:
        orm = {
            r.id: r for r in s.scalars(select(TicketRow).where(TicketRow.id.in_([one.ticket_id, batched.ticket_id])))
        }
        times = {r.ticket_id: r.at for r in s.scalars(select(AuditRow).where(AuditRow.ticket_id.in_(list(orm))))}
    a, b = rows[one.ticket_id], rows[batched.ticket_id]
    swap = {one.ticket_id: batched.ticket_id, "R-1": "R-2", one.delivery_key: batched.delivery_key,
            str(one.external_key): str(batched.external_key),
            one.payload["received_at"]: batched.payload["received_at"]}  # fmt: skip

    def as_b(value: object) -> object:
        if isinstance(value, str):
            for x, y in swap.items():
                value = value.replace(x, y)
        return value

    # each ticket's own receipt time (compared below); `payload` as text (payload_text) and as read (orm)
    shifted = {"created_at", "updated_at", "payload"}
    for column in a:  # the JSON text too: it differs only in the ids and the receipt time
        if column not in shifted:
            assert as_b(a[column]) == b[column], column
    assert "Zahlung" in b["payload_text"] and a["payload_text"] != b["payload_text"]  # compared after the swap
    assert orm[batched.ticket_id].created_at == orm[batched.ticket_id].updated_at
    assert orm[batched.ticket_id].created_at.replace(tzinfo=UTC) == batched.received_at
    assert times[batched.ticket_id].replace(tzinfo=UTC) == batched.received_at
    assert orm[batched.ticket_id].payload == batched.payload and orm[batched.ticket_id].status == "received"
    ra, rb = audits[one.ticket_id], audits[batched.ticket_id]
    for column in ("node", "event", "detail_text"):
        assert as_b(ra[column]) == rb[column], column


def test_the_batched_fold_matches_record(db_url: str) -> None:
    """Events stored through `record_in` (a batch) fold to the same lifecycle as through `record`,
    whether the ticket's summary row exists already (updates came first) or not."""
    store = TicketStore(db_url)
    events = EventStore(store)
    t0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def history(external: str) -> list[TicketEvent]:
        src = "zendesk"
        return [
            TicketEvent(source=src, external_id=external, kind="comment", at=t0 + timedelta(minutes=30), public=True,
                        actor="agent", event_id=f"{external}-c1"),
            TicketEvent(source=src, external_id=external, kind="status", at=t0 + timedelta(hours=2), status="solved",
                        event_id=f"{external}-s1"),
            TicketEvent(source=src, external_id=external, kind="created", at=t0, event_id=f"{external}-created",
                        time_known=True, attributes={"tier": "gold"}),
        ]  # fmt: skip

    for external, early in (("A", 0), ("B", 2)):  # B: two updates stored before the rest arrives
        h = history(external)
        events.record(h[:early])
        events.record(h[early:])
        twin = history(external + "-batched")
        events.record(twin[:early])
        with store.writing() as s:
            flags = events.record_in(s, twin[early:] + twin[early:], t0)  # each repeated: stored once
        assert flags == [True] * (3 - early) + [False] * (3 - early)
        one, batched = events.lifecycle("zendesk", external), events.lifecycle("zendesk", external + "-batched")
        assert one is not None and batched is not None
        skip = {"external_id", "updated_at"}
        assert {k: v for k, v in batched.items() if k not in skip} == {k: v for k, v in one.items() if k not in skip}
        assert batched["events"] == 3 and batched["first_response_s"] == 1800


def _stored_events(store: TicketStore) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every event row (its `data` as stored text, no id) and every summary row, in key order."""
    with store.engine.connect() as conn:
        events = [dict(r) for r in conn.execute(text(
            "SELECT source, external_id, event_key, kind, at, CAST(data AS TEXT) AS data_text, received_at "
            "FROM ticket_events ORDER BY source, event_key")).mappings()]  # fmt: skip
        life = [dict(r) for r in conn.execute(
            text("SELECT * FROM ticket_lifecycle ORDER BY source, external_id")).mappings()]  # fmt: skip
    return events, life


def test_record_in_stores_the_same_rows_as_record(db_url: str) -> None:
    """`record_in` (on PostgreSQL one statement per table with the rows as one JSON parameter) stores
    what `record` stores: every column of each event, its JSON `data` as the same text, and the same
    summary rows; an event repeated in the batch, or one stored before, is stored once."""
    store = TicketStore(db_url)
    events = EventStore(store)
    t0 = datetime(2026, 3, 2, 9, 0, 0, 123456, tzinfo=UTC)
    kyiv = (t0 + timedelta(minutes=5)).astimezone(timezone(timedelta(hours=3)))  # stored in UTC
    history = [
        TicketEvent(source="zendesk", external_id="Q-1", kind="created", at=t0, event_id="q1-created",
                    attributes={"tier": "gold \u2603", "ticket_id": "t" * 40}),
        TicketEvent(source="zendesk", external_id="Q-1", kind="comment", at=kyiv,
                    public=True, actor="agent", event_id="q1-c1", attributes={"queue": 'say "hi" \\ \U0001f600'}),
        TicketEvent(source="zendesk", external_id="Q-1", kind="status", at=t0 + timedelta(hours=1), status="solved",
                    attributes={"resolution": "auto"}),  # no event id: keyed by its content
        TicketEvent(source="zendesk", external_id="Q-2", kind="created", at=t0, time_known=False),
        TicketEvent(source="jira", external_id="Q-1", kind="priority", at=t0, priority="high", event_id="j1"),
    ]  # fmt: skip
    events.record(history[:1])  # Q-1's summary row exists before the batch
    events.record(history[1:])
    by_record = _stored_events(store)
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM ticket_events"))
        conn.execute(text("DELETE FROM ticket_lifecycle"))
    events.record(history[:1])
    with store.writing_connection() as conn:  # the API's group commit passes a Core connection
        flags = events.record_in(conn, history + history[1:2], t0)
    assert flags == [False, True, True, True, True, False]
    by_batch = _stored_events(store)
    assert len(by_batch[0]) == len(history) and len(by_batch[1]) == 3
    skip = {"received_at", "updated_at"}  # our receipt: `record` takes its own clock
    for one, batched in zip(by_record[0] + by_record[1], by_batch[0] + by_batch[1], strict=True):
        assert {k: v for k, v in batched.items() if k not in skip} == {k: v for k, v in one.items() if k not in skip}
    assert [e["data_text"] for e in by_batch[0]] == [e["data_text"] for e in by_record[0]]
    life = events.lifecycle("zendesk", "Q-1")
    assert life is not None and life["events"] == 3 and life["first_response_s"] == 300 and life["queue"]


def test_a_batch_folds_tickets_that_share_a_summary_row(db_url: str) -> None:
    """Tickets that are one lifecycle row (the same external id under two senders' scopes; no external
    id at all) each add their created event once, in one batch and across batches."""
    store = TicketStore(db_url)
    batch = [_pending("generic", "s-1", "7", scope="key-a"), _pending("generic", "s-2", "7", scope="key-b"),
             _pending("generic", "s-3", ""), _pending("generic", "s-4", ""),
             _pending("generic", "s-1", "7", scope="key-a")]  # fmt: skip
    out = store_batch(store, batch)
    assert [created for _, created in out] == [True, True, True, True, False]
    again = store_batch(store, [_pending("generic", "s-5", ""), _pending("generic", "s-2", "7", scope="key-b")])
    assert [created for _, created in again] == [True, False]
    events = EventStore(store)
    for external, tickets in (("7", 2), ("", 3)):
        life = events.lifecycle("generic", external)
        assert life is not None and life["events"] == tickets
        assert [e.kind for e in events.events_of("generic", external)] == ["created"] * tickets
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(AuditRow)) == 5


def test_a_value_too_long_for_its_column_fails_the_batch_on_postgresql(db_url: str) -> None:
    """The JSON rows reach the columns by assignment, so PostgreSQL's column width refuses a value (an
    explicit CAST to varchar(n) would cut it): the batch fails as a multi-row VALUES would."""
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite does not enforce a VARCHAR's width")
    store = TicketStore(db_url)
    events = EventStore(store)
    long = TicketEvent(source="zendesk", external_id="L" * 300, kind="created", at=datetime.now(UTC), event_id="l")
    with pytest.raises(Exception, match="too long"), store.writing_connection() as conn:
        events.record_in(conn, [long], long.at)
    assert events.lifecycle("zendesk", "L" * 300) is None


def test_a_failed_batch_stores_each_ticket_on_its_own(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    store = TicketStore(db_url)

    def broken(_store: TicketStore, _items: object) -> list[tuple[str, bool]]:
        raise RuntimeError("the batch failed")

    monkeypatch.setattr(intake_batch, "store_batch", broken)
    writer = IntakeWriter(store).start()

    async def submit() -> list[tuple[str, bool]]:
        items = [_pending("generic", f"f-{i}", f"F-{i % 2}") for i in range(4)]
        return list(await asyncio.gather(*(writer.submit(p) for p in items)))

    try:
        out = asyncio.run(submit())
    finally:
        writer.close()
    assert sum(created for _, created in out) == 2 and len({tid for tid, _ in out}) == 2
    assert sum(store.counts().values()) == 2


def test_the_writer_survives_losing_its_connection(db_url: str) -> None:
    """The writer keeps its connection between batches while deliveries keep coming: when that
    connection is lost (here: its PostgreSQL backend terminated), the batch is stored one ticket at a
    time and the next batch takes a fresh connection; after `hold_s` idle the connection goes back."""
    import asyncio
    import time

    store = TicketStore(db_url)
    writer = IntakeWriter(store, hold_s=0.5).start()

    async def submit(*items: Pending) -> list[tuple[str, bool]]:
        return list(await asyncio.gather(*(writer.submit(p) for p in items)))

    try:
        first = asyncio.run(submit(_pending("generic", "h-1", "H-1")))
        held = writer._conn  # pyright: ignore[reportPrivateUsage]
        assert held is not None and first[0][1]
        if db_url.startswith("postgresql"):
            pid = cast(Any, held.connection.dbapi_connection).info.backend_pid
            with store.engine.connect() as admin:
                admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        else:
            held.invalidate()  # SQLite: the closest thing to a lost connection
        lost = asyncio.run(submit(_pending("generic", "h-2", "H-2"), _pending("generic", "h-3", "H-3")))
        assert [created for _, created in lost] == [True, True]
        after = asyncio.run(submit(_pending("generic", "h-4", "H-4"), _pending("generic", "h-1", "H-1")))
        assert after == [(after[0][0], True), (first[0][0], False)]
        assert writer._conn is not None  # pyright: ignore[reportPrivateUsage]
        if db_url.startswith("postgresql"):  # SQLAlchemy reconnects an invalidated SQLite connection in place
            assert writer._conn is not held  # pyright: ignore[reportPrivateUsage]
        deadline = time.monotonic() + 10
        while writer._conn is not None and time.monotonic() < deadline:  # pyright: ignore[reportPrivateUsage]
            time.sleep(0.05)
        assert writer._conn is None  # pyright: ignore[reportPrivateUsage]
    finally:
        writer.close()
    assert sum(store.counts().values()) == 4
    events = EventStore(store)
    for n in range(1, 5):
        assert [e.kind for e in events.events_of("generic", f"H-{n}")] == ["created"]


@pytest.mark.parametrize("clients", [24])
def test_many_clients_posting_one_ticket_at_once_make_one_ticket(db_url: str, tmp_path: Path, clients: int) -> None:
    """The real server on loopback: `clients` connections post at once, half the same delivery (one
    webhook-id), half the same source ticket under their own delivery ids; one ticket each, every
    answer carries its id, exactly one 202 each."""
    settings = make_settings(tmp_path, database_url=db_url, worker_enabled=False)
    secret = settings.webhook_secret
    assert secret is not None
    barrier = threading.Barrier(clients)

    def post(url: str, i: int) -> httpx.Response:
        same_delivery = i % 2 == 0
        payload = {"external_id": "SAME-DELIVERY" if same_delivery else "SAME-TICKET", "subject": "Payslip",
                   "body": f"sent by client {i}"}  # fmt: skip
        body = json.dumps(payload).encode()
        msg_id = "msg_one_delivery" if same_delivery else f"msg_client_{i}"
        headers = signed_headers(secret.get_secret_value(), body, msg_id)
        with httpx.Client(base_url=url, timeout=30) as client:
            client.get("/healthz")  # connected before the barrier: the posts go out together
            barrier.wait(30)
            return client.post("/webhooks/generic", content=body, headers=headers)

    with serve_in_thread(settings) as url, ThreadPoolExecutor(clients) as pool:
        answers = list(pool.map(lambda i: post(url, i), range(clients)))
        store = TicketStore(db_url)
        total = sum(store.counts().values())
    assert all(r.status_code in (200, 202) for r in answers), [r.text for r in answers if r.status_code >= 300]
    for parity in (0, 1):
        group = [r for i, r in enumerate(answers) if i % 2 == parity]
        assert sum(r.status_code == 202 for r in group) == 1
        assert len({r.json()["ticket_id"] for r in group}) == 1
        assert sum(r.json()["duplicate"] for r in group) == len(group) - 1
    assert total == 2
    events = EventStore(store)
    for external in ("SAME-DELIVERY", "SAME-TICKET"):
        assert [e.kind for e in events.events_of("generic", external)] == ["created"]
