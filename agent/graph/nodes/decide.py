from __future__ import annotations

from langgraph.runtime import Runtime

from agent.domain import AuditEvent
from agent.graph.context import AgentContext
from agent.graph.state import TriageState


def decide(state: TriageState, runtime: Runtime[AgentContext]) -> TriageState:
    """Apply the deterministic policy (thresholds and risk rules); the LLM has no say here."""
    policy = runtime.context.policy
    decision = policy.decide(
        state["triage"],
        state.get("hits", []),
        query_language=state.get("query_language", "en"),
        compound=policy.is_compound(state["text"]),
    )
    return {
        "decision": decision,
        "audit": [
            AuditEvent(
                node="decide",
                event=decision.action,
                detail={"reason": decision.reason, "rules": decision.rules, "policy_version": policy.version},
            )
        ],
    }
