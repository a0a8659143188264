"""Feedback export: verdicts become an eval dataset the harness reads and history `triage train` reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.domain import AuditEvent, Review
from agent.graph.classifier.data import read_labelled
from agent.settings import get_settings
from agent.storage.reviews import ReviewError, ReviewStore
from agent.storage.tickets import TicketStore
from evals.resolve.data import load_cases, load_kb
from tests.conftest import DEMO_KB

TICKETS = [
    ("A-1", "Payslip missing", "Maria never got her October payslip.", "payslips", ["KB-009"], "approve"),
    ("A-2", "SSO audience error", "Okta says audience mismatch.", "account_access", ["KB-003"], "edit"),
    ("A-3", "Strange login", "Someone we do not know logged in.", "account_access", ["KB-003"], "reject"),
]


def _store(tmp: Path) -> tuple[TicketStore, ReviewStore]:
    store = TicketStore(f"sqlite:///{tmp / 't.db'}")
    reviews = ReviewStore(store)
    ids: list[str] = []
    for ext, subject, body, category, docs, _ in TICKETS:
        ticket_id, _ = store.create_or_get("generic", ext, {"external_id": ext, "subject": subject, "body": body})
        assert store.claim("w", 60) is not None
        result = {
            "triage": {
                "category": {"value": category, "confidence": 0.7},
                "priority": {"value": "normal", "confidence": 0.6},
                "sentiment": {"value": "neutral", "confidence": 0.6},
                "language": {"value": "en", "confidence": 0.9},
                "risk": {"value": [], "confidence": 0.6},
            },
            "decision": {"action": "suggest", "reason": "r"},
            "reply": {"text": f"draft for {ext} [{docs[0]}]", "citations": docs},
            "policy_version": "p1",
        }
        assert store.complete(ticket_id, "w", "awaiting_review", result, [AuditEvent(node="t", event="t")])
        ids.append(ticket_id)
    for ticket_id, (ext, *_, action) in zip(ids, TICKETS, strict=True):
        verdict = Review(
            action=action,  # type: ignore[arg-type]
            text="edited reply" if action == "edit" else None,
            reason="not a how-to: a security incident" if action == "reject" else None,
            category="other" if ext == "A-2" else None,
            by="anna",
            role="agent",
        )
        reviews.submit(ticket_id, verdict)
    return store, reviews


def test_verdicts_export_as_eval_data_and_history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store, reviews = _store(tmp_path)
    rows = reviews.all()
    assert [r["action"] for r in rows] == ["approve", "edit", "reject"]
    assert rows[0]["final_text"] == rows[0]["draft_text"] == "draft for A-1 [KB-009]"
    assert rows[1]["final_text"] == "edited reply" and rows[1]["draft_text"] == "draft for A-2 [KB-003]"
    # a second verdict on the same ticket is refused, and the ticket is back on the queue once
    try:
        reviews.submit(rows[0]["ticket_id"], Review(action="approve", by="bob"))
        raise AssertionError("second verdict accepted")
    except ReviewError as exc:
        assert exc.code == "already_reviewed"
    assert store.counts() == {"received": 3}

    from api.cli import app

    out, hist = tmp_path / "fb" / "eval.jsonl", tmp_path / "fb" / "history.jsonl"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TRIAGE_DATABASE_URL", f"sqlite:///{tmp_path / 't.db'}")
    get_settings.cache_clear()
    try:
        r = CliRunner().invoke(app, ["export-feedback", "--out", str(out), "--history", str(hist)])
    finally:
        get_settings.cache_clear()
    assert r.exit_code == 0, r.output
    assert (
        "3 reviewed, 0 auto-resolutions that did not stay resolved" in r.output
        and "wrote 2 labelled tickets" in r.output
    )
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [x["gold"]["outcome"] for x in lines] == ["auto_resolve", "suggest", "handoff"]
    assert lines[0]["gold"]["doc_ids"] == ["KB-009"] and lines[2]["gold"]["doc_ids"] == []
    assert lines[1]["gold"]["category"] == "other" and lines[1]["review"]["category_corrected"]
    assert lines[2]["review"]["reason"].startswith("not a how-to") and lines[2]["review"]["by"] == "anna"
    # the harness reads it as a test set against the demo KB
    cases = load_cases(out, load_kb(DEMO_KB))
    assert [c.should_handoff for c in cases] == [False, False, True]
    assert cases[0].gold_doc_ids == ["KB-009", "KB-009.uk"]  # the Ukrainian translation counts as the article
    # and `triage train` reads the history: rejected without a correction is left out
    data = read_labelled(hist, ["subject+body"], ["category"])
    assert data.labels["category"] == ["payslips", "other"]
