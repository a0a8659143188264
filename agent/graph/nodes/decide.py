from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agent.domain import AuditEvent
from agent.graph.answerability import features
from agent.graph.context import AgentContext
from agent.graph.state import TriageState


def decide(state: TriageState, runtime: Runtime[AgentContext]) -> TriageState:
    """Apply the deterministic policy (thresholds, risk rules, the calibrated chance that the reply
    resolves the ticket); the LLM has no say here.

    The answerability features are computed here, once, and recorded in the audit event
    (`detail.answerability.features`): the eval harness reads them from there, so what it replays is
    exactly what the service decided on."""
    ctx = runtime.context
    policy = ctx.policy
    hits = state.get("hits", [])
    triage = state["triage"]
    query_language = state.get("query_language", "en")
    feats = features(hits, triage, state["text"], query_language)
    p, problem = policy.assess(feats, ctx.settings.embedder)
    decision = policy.decide(
        triage,
        hits,
        query_language=query_language,
        compound=policy.is_compound(state["text"]),
        answerability=p,
        answerability_problem=problem,
    )
    model = policy.answerability_model() if p is not None else None
    assessed: dict[str, Any] = {"p": p, "features": feats, "embedder": ctx.settings.embedder}
    if model is not None:
        assessed["model"] = model.version
        assessed["why"] = model.contributions(feats)
    if problem is not None:
        assessed["problem"] = problem
    return {
        "decision": decision,
        "audit": [
            AuditEvent(
                node="decide",
                event=decision.action,
                detail={
                    "reason": decision.reason,
                    "rules": decision.rules,
                    "policy_version": policy.version,
                    "answerability": assessed,
                },
            )
        ],
    }
