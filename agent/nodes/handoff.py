from __future__ import annotations

from agent.domain import AuditEvent
from agent.state import TriageState


def handoff(state: TriageState) -> TriageState:
    """Route to a human queue with an internal note: what the ticket is, what the AI found, why it stopped."""
    triage = state["triage"]
    decision = state["decision"]
    hits = state.get("hits", [])
    found = "\n".join(f"- {h.doc_id} {h.title} (match {h.score:.2f})" for h in hits[:3]) or "- nothing relevant"
    lines = [
        f"AI triage handed this ticket to queue '{decision.queue}'.",
        f"Why: {decision.reason}",
        (
            f"Triage: category {triage.category.value} ({triage.category.confidence:.2f}), "
            f"priority {triage.priority.value}, language {triage.language.value}, "
            f"sentiment {triage.sentiment.value}, risk {', '.join(triage.risk.value) or 'none'}"
        ),
    ]
    if decision.linked_issue:
        lines.append(f"Known issue: {decision.linked_issue}")
    lines += ["Closest knowledge:", found]
    note = "\n".join(lines)
    return {
        "handoff_note": note,
        "audit": [AuditEvent(node="handoff", event="routed", detail={"queue": decision.queue})],
    }
