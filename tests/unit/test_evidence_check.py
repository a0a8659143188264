"""The customer's evidence check (agent/graph/checks/evidence.py): an error code or a quoted message
of the ticket that another retrieved article documents and the cited one does not stops an auto-send."""

from __future__ import annotations

from types import SimpleNamespace
from typing import cast

import pytest
from langgraph.runtime import Runtime

from agent.domain import Draft
from agent.graph.checks import content_findings
from agent.graph.checks.evidence import evidence_elsewhere, quoted_evidence
from agent.graph.context import AgentContext
from agent.graph.nodes.ground_check import ground_check
from agent.graph.policy import load_policy
from agent.graph.state import TriageState
from agent.settings import REPO_ROOT, Settings
from knowledge.testing import InMemoryRetriever

KB = REPO_ROOT / "knowledge" / "demo"
SYNC_ERRORS = (KB / "kb" / "KB-016-xero-quickbooks-sync-errors.md").read_text(encoding="utf-8")
DUPLICATES = (KB / "rca" / "RCA-004-xero-duplicate-journals.md").read_text(encoding="utf-8")
TICKET = (
    "October journal never arrived in Xero\n\nHi - our accountant says there's no payroll journal in Xero "
    "for October. In PayFlow the sync history shows the October run with a red Failed and 'Account mapping "
    "missing'. How do I fix it, and will it go across on its own afterwards?"
)


@pytest.mark.parametrize(
    ("ticket", "expected"),
    [
        (TICKET, ["Account mapping missing"]),
        ('Sync history says Failed - "PF-4201 Connection expired".', ["PF-4201", "PF-4201 Connection expired"]),
        ("Пише «Період закрито», а звіт не вивантажується", ["Період закрито"]),
        ("Pay run PR-2025-10-011 failed with PF-4205 after HTTP 429", ["PR-2025-10-011", "PF-4205"]),
        # apostrophes inside words are not quotes; one quoted word names a state, not a message
        ("I didn't get it and it's odd, we don't know why. It says 'Failed'.", []),
        ("Вона каже, що п'ять днів не п'ятниця, статус «Помилка»", []),
    ],
)
def test_codes_and_quoted_messages_are_the_evidence(ticket: str, expected: list[str]) -> None:
    assert quoted_evidence(ticket) == expected


def test_a_quoted_error_another_article_documents_is_evidence_elsewhere() -> None:
    assert evidence_elsewhere(TICKET, [DUPLICATES], {"KB-016": SYNC_ERRORS}) == [("Account mapping missing", "KB-016")]
    # cited the article that has it: nothing to say; no other article has it: nothing either
    assert evidence_elsewhere(TICKET, [SYNC_ERRORS], {"RCA-004": DUPLICATES}) == []
    assert evidence_elsewhere(TICKET, [DUPLICATES], {"RCA-007": "Something else entirely."}) == []


def test_the_finding_stops_the_reply_and_names_the_other_article() -> None:
    reply = "Your journal was posted twice; go to Settings > Integrations > Xero > Sync history."
    got = content_findings(reply, [DUPLICATES], TICKET, language="en", other_doc_texts={"KB-016": SYNC_ERRORS})
    hit = [f for f in got if f.rule == "evidence_elsewhere"]
    assert len(hit) == 1 and "'Account mapping missing' is in KB-016" in hit[0].why
    # without the other documents (a caller that passes none) the rule cannot fire
    assert not [
        f for f in content_findings(reply, [DUPLICATES], TICKET, language="en") if f.rule == "evidence_elsewhere"
    ]


def test_the_ground_check_node_reads_the_other_retrieved_articles(settings: Settings) -> None:
    """The node passes every retrieved, uncited article's whole text to the check (both versions)."""
    kb = InMemoryRetriever.demo()
    ctx = SimpleNamespace(settings=settings, policy=load_policy(settings.policy_file), knowledge=kb)
    runtime = Runtime(context=cast(AgentContext, ctx))
    reply = "Your journal was posted twice: open Settings > Integrations > Xero > Sync history [RCA-004]."
    state = {
        "text": TICKET,
        "hits": [kb.hit("RCA-004", 0.92), kb.hit("KB-016", 0.91)],
        "draft": Draft(text=reply, citations=["RCA-004"], language="en"),
        "triage": SimpleNamespace(category=SimpleNamespace(value="integrations")),
    }
    out = ground_check(cast(TriageState, state), runtime)
    found = [f for f in out["findings"] if f.rule == "evidence_elsewhere"]
    assert len(found) == 1 and "'Account mapping missing' is in KB-016" in found[0].why
    # citing the article that lists the error: no such finding
    state["draft"] = Draft(text=reply.replace("RCA-004", "KB-016"), citations=["KB-016"], language="en")
    out = ground_check(cast(TriageState, state), runtime)
    assert not [f for f in out["findings"] if f.rule == "evidence_elsewhere"]
