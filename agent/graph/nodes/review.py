from __future__ import annotations

from langgraph.runtime import Runtime
from langgraph.types import interrupt

from agent.domain import AuditEvent, Review
from agent.graph.context import AgentContext
from agent.graph.state import TriageState


def review_request(state: TriageState) -> dict[str, object]:
    """What the interrupt shows a reviewer (also stored with the paused ticket)."""
    draft = state["draft"]
    return {
        "ticket_id": state["ticket"].id,
        "draft": draft.text,
        "citations": draft.citations,
        "reason": state["decision"].reason,
    }


def review(state: TriageState, runtime: Runtime[AgentContext]) -> TriageState:
    """A suggested reply waits here for a support agent: approve (as is), edit (send their text) or
    reject (hand the ticket off, with the reason).

    `interrupt()` pauses the graph; the worker resumes it with the agent's `Review` when one is
    submitted (POST /reviews/{id}). LangGraph re-runs this node from its start on resume, so it has
    no side effects: the suggestion was written by `park` before it, the outcome is written after it.
    """
    if not runtime.context.review:  # a dry run (evals, run-ticket): nobody to wait for, the run ends here
        return {}
    answer = interrupt(review_request(state))
    verdict = answer if isinstance(answer, Review) else Review.model_validate(answer)
    who = {"by": verdict.by, "role": verdict.role, "key_id": verdict.key_id, "at": verdict.at.isoformat()}
    draft = state["draft"]
    if verdict.action == "reject":
        decision = state["decision"]
        handed = decision.model_copy(
            update={
                "action": "handoff",
                "reason": f"{verdict.by} rejected the suggested reply: {verdict.reason or 'no reason given'}",
                "rules": [*decision.rules, "review_rejected"],
            }
        )
        return {
            "review": verdict,
            "decision": handed,
            "audit": [AuditEvent(node="review", event="reject", detail={**who, "reason": verdict.reason})],
        }
    text = verdict.text if verdict.action == "edit" and verdict.text else draft.text
    final = verdict.model_copy(update={"text": text})
    return {
        "review": final,
        "draft": draft.model_copy(update={"text": text}),
        "audit": [
            AuditEvent(
                node="review",
                event=verdict.action,
                detail={**who, "edited": text != draft.text, "category": verdict.category},
            )
        ],
    }
