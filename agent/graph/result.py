"""The one typed result of a ticket, built once from the graph's final state, and the status it gives."""

from __future__ import annotations

from agent.domain import Action, Citation, Reply, RetrievedDoc, TicketResult, TicketStatus, WriteBack
from agent.graph.state import TriageState

STATUS_FOR_ACTION: dict[Action, TicketStatus] = {
    "auto_resolve": "done",
    "suggest": "awaiting_review",
    "handoff": "handed_off",
}


def ticket_result(state: TriageState, policy_version: str) -> TicketResult:
    """What is stored with the ticket and every reader gets back (see agent.domain.TicketResult)."""
    decision = state["decision"]
    draft = state.get("draft")
    titles = {h.doc_id: h.title for h in state.get("hits", [])}
    reply = None
    if draft is not None and decision.action != "handoff":
        reply = Reply(
            text=draft.text,
            citations=draft.citations,
            sources=[Citation(doc_id=c, title=titles.get(c)) for c in draft.citations],
            language=draft.language,
            grounded=draft.grounded,
            generated_by=draft.generated_by,
        )
    return TicketResult(
        triage=state["triage"],
        decision=decision,
        reply=reply,
        handoff_note=state.get("handoff_note"),
        retrieved=[
            RetrievedDoc(doc_id=h.doc_id, title=h.title, score=h.score, type=h.doc_type) for h in state.get("hits", [])
        ],
        query_language=state.get("query_language"),
        redactions=state.get("redactions", {}),
        prompts=state.get("prompts", {}),
        policy_version=policy_version,
        writeback=state.get("writeback"),
        review=state.get("review"),
        routing=state.get("routing"),
    )


def ticket_status(action: Action, writeback: WriteBack | None, review: str | None = None) -> TicketStatus:
    """The status a finished ticket gets: its outcome's (a suggestion a human approved or edited is
    done: the reply went out), unless writing it back failed."""
    if writeback is not None and not writeback.ok:
        return "writeback_failed"
    if action == "suggest" and review in ("approve", "edit"):
        return "done"
    return STATUS_FOR_ACTION[action]


def status_of(state: TriageState) -> TicketStatus:
    verdict = state.get("review")
    return ticket_status(state["decision"].action, state.get("writeback"), verdict.action if verdict else None)


def failure_text(writeback: WriteBack | None) -> str | None:
    """The ticket's `error` for a failed write-back (None when it did not fail)."""
    if writeback is None or writeback.ok:
        return None
    kind = "transient, retry later" if writeback.retryable else "permanent, fix the cause then retry"
    return f"write-back to {writeback.system} failed at step {writeback.failed_step} ({kind}): {writeback.error}"[:2000]
