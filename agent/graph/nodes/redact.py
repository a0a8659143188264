from __future__ import annotations

from agent.domain import AuditEvent
from agent.graph.redaction import redact as mask
from agent.graph.state import TriageState


def redact(state: TriageState) -> TriageState:
    """Mask secrets and personal identifiers before any model (embedder, classifier, LLM) sees the
    text: `text` is the only ticket text later nodes and prompts get. The audit and the stored
    `redactions` say which kinds were masked and how many, never the values."""
    ticket = state["ticket"]
    text, counts = mask(f"{ticket.subject}\n\n{ticket.body}".strip())
    return {
        "text": text,
        "redactions": counts,
        "audit": [AuditEvent(node="redact", event="masked", detail={"kinds": sorted(counts), "counts": counts})],
    }
