"""The learning loop: an auto-resolution that did not stay resolved (reopened, reassigned to a human,
rated bad) comes out of `triage export-feedback` as a negative example, from the real lifecycle
tables on SQLite; one that stayed resolved does not."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.domain import Ticket, TicketEvent, TicketResult
from agent.graph.testing import sample_result
from agent.storage import open_database
from agent.storage.events import EventStore, record_outcome
from agent.storage.tickets import TicketStore
from evals.feedback import export_feedback, undone_auto_resolutions

pytestmark = pytest.mark.integration
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
AUTO = {
    "decision": {"action": "auto_resolve", "reason": "KB-009 answers it", "rules": ["auto"]},
    "reply": {"text": "Open People > Employees and click Resend payslip [KB-009].", "citations": ["KB-009"]},
}


def auto_resolved(store: TicketStore, external_id: str) -> Ticket:
    fields = {"external_id": external_id, "subject": "Payslip missing", "body": "Please resend her payslip.",
              "created_at": T0.isoformat()}  # fmt: skip
    ticket_id, _ = store.create_or_get("zendesk", f"d-{external_id}", fields)
    claimed = store.claim("w", 60)
    assert claimed is not None and claimed.id == ticket_id
    result = sample_result(**AUTO)
    assert store.complete(ticket_id, "w", "done", result, [])
    record_outcome(store, claimed, TicketResult.model_validate(result), "done")  # our reply and solve
    return claimed


def test_reopened_and_badly_rated_auto_resolutions_become_negative_examples(tmp_path: Path) -> None:
    store = open_database(f"sqlite:///{tmp_path / 'triage.db'}")
    events = EventStore(store)
    reopened, rated, kept = (auto_resolved(store, x) for x in ("Z-1", "Z-2", "Z-3"))
    later = datetime.now(UTC) + timedelta(minutes=1)  # after our own reply and solve (our clock)
    events.record(
        [
            TicketEvent(
                source="zendesk",
                external_id="Z-1",
                kind="status",
                status="open",
                previous="solved",
                at=later,
                event_id="e1",
            ),
            TicketEvent(
                source="zendesk", external_id="Z-2", kind="satisfaction", rating="bad", at=later, event_id="e2"
            ),
            TicketEvent(
                source="zendesk", external_id="Z-3", kind="satisfaction", rating="good", at=later, event_id="e3"
            ),
        ]
    )
    rows = {r["id"]: r for r in undone_auto_resolutions(store)}
    assert set(rows) == {"Z-1", "Z-2"}, rows  # Z-3 stayed resolved and was rated good
    assert rows["Z-1"]["review"]["action"] == "reopened" and rows["Z-2"]["review"]["action"] == "rated_bad"
    for row in rows.values():
        assert row["gold"]["outcome"] == "suggest" and row["gold"]["doc_ids"] == []
        assert row["review"]["cited"] == ["KB-009"] and row["draft"].startswith("Open People")
    assert rows["Z-1"]["review"]["ticket_id"] == reopened.id and rows["Z-2"]["review"]["ticket_id"] == rated.id

    out = tmp_path / "feedback" / "eval.jsonl"
    n_eval, _ = export_feedback([], out, None, None, list(rows.values()))
    written = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert n_eval == 2 and {w["id"] for w in written} == {"Z-1", "Z-2"}
    assert kept.external_id not in {w["id"] for w in written}
    # the export's own filter: nothing created before `since`
    assert undone_auto_resolutions(store, since=T0 + timedelta(days=30)) == []
