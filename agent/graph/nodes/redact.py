from __future__ import annotations

from agent.domain import AuditEvent
from agent.graph.state import TriageState
from agent.graph.textutil import redact as mask_pii


def redact(state: TriageState) -> TriageState:
    """Mask PII before any model (embedder or LLM) sees the text."""
    ticket = state["ticket"]
    text, counts = mask_pii(f"{ticket.subject}\n\n{ticket.body}".strip())
    return {
        "text": text,
        "redactions": counts,
        "audit": [AuditEvent(node="redact", event="masked", detail={"counts": counts})],
    }
