from __future__ import annotations

from langgraph.runtime import Runtime

from agent.domain import AuditEvent
from agent.state import AgentContext, TriageState


def retrieve(state: TriageState, runtime: Runtime[AgentContext]) -> TriageState:
    """Top-k KB articles and L3 root-cause docs for the redacted ticket text.

    No metadata filter here: a ticket's product hint is often wrong (a payroll admin asking about
    logins), so the whole KB is searched; the store supports filters for callers that want them.
    """
    ctx = runtime.context
    hits = ctx.knowledge.search(state["text"], k=ctx.settings.top_k)
    return {
        "hits": hits,
        "audit": [
            AuditEvent(
                node="retrieve",
                event="retrieved",
                detail={"hits": [{"doc_id": h.doc_id, "score": h.score} for h in hits]},
            )
        ],
    }
