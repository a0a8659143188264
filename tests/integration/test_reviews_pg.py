"""The review verdict store on PostgreSQL (the scaled mode): one verdict per ticket under concurrency."""

from __future__ import annotations

import pytest

from agent.domain import Review
from agent.graph.testing import sample_result
from agent.storage.reviews import ReviewError, ReviewStore
from agent.storage.tickets import TicketStore
from tests.integration.test_writeback_e2e import pg_url as pg_url  # the fixture: a throwaway schema

pytestmark = pytest.mark.integration


def test_review_store_on_postgresql(pg_url: str) -> None:
    """The verdict table and its one-verdict-per-ticket rule on PostgreSQL, concurrent submits included."""
    from concurrent.futures import ThreadPoolExecutor

    store = TicketStore(pg_url)
    reviews = ReviewStore(store)
    ticket_id, _ = store.create_or_get("generic", "pg-1", {"external_id": "pg-1", "subject": "s", "body": "b"})
    assert store.claim("w", 60) is not None
    result = sample_result(reply={"text": "the draft [KB-009]", "citations": ["KB-009"]})
    assert store.complete(ticket_id, "w", "awaiting_review", result, [])

    def submit(name: str) -> str:
        try:
            reviews.submit(ticket_id, Review(action="approve", by=name, role="agent"))
        except ReviewError as exc:
            return exc.code
        return "ok"

    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(submit, ["a", "b", "c", "d"]))
    assert outcomes.count("ok") == 1 and set(outcomes) - {"ok"} <= {"already_reviewed", "not_awaiting"}
    pending = reviews.pending(ticket_id)
    assert pending is not None and pending.text == "the draft [KB-009]"
    assert store.counts() == {"received": 1}
    reviews.mark_applied(ticket_id)
    assert reviews.pending(ticket_id) is None
    (row,) = reviews.all()
    assert row["final_text"] == "the draft [KB-009]" and row["applied_at"] is not None
    store.engine.dispose()
