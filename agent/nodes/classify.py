from __future__ import annotations

import math
from collections import defaultdict
from functools import lru_cache
from typing import Any, Literal

from langchain_core.messages import HumanMessage, SystemMessage
from langgraph.runtime import Runtime
from pydantic import BaseModel, Field, create_model

from agent.domain import PRIORITIES, RISK_FLAGS, SENTIMENTS, AuditEvent, Hit, Scored, Triage
from agent.llm import LLM_RUNTIME_ERRORS
from agent.policy import Policy
from agent.prompts import load_prompt
from agent.state import AgentContext, TriageState
from agent.textutil import detect_language, lexicon_sentiment

TEMPERATURE = 0.05  # softmax temperature over cosine scores for the nearest-doc category vote


def nearest_doc_category(hits: list[Hit], policy: Policy) -> tuple[str, float, dict[str, float]]:
    """Category by a similarity-weighted vote of the retrieved docs; the vote share is the confidence."""
    top = hits[0].score if hits else 0.0
    if not hits or top < policy.retrieval.out_of_scope_below:
        return "other", round(0.5 + 0.5 * (1 - top / max(policy.retrieval.out_of_scope_below, 1e-6)), 3), {}
    votes: dict[str, float] = defaultdict(float)
    for h in hits:
        votes[h.category or "other"] += math.exp((h.score - top) / TEMPERATURE)
    total = sum(votes.values())
    share = {c: v / total for c, v in votes.items()}
    best = max(share, key=lambda c: share[c])
    return best, round(share[best], 3), share


@lru_cache(maxsize=16)
def classification_schema(categories: tuple[str, ...]) -> type[BaseModel]:
    conf = Field(ge=0.0, le=1.0)
    fields: dict[str, Any] = {
        "category": (Literal[categories], ...),  # type: ignore[valid-type]
        "category_confidence": (float, conf),
        "priority": (Literal[PRIORITIES], ...),  # type: ignore[valid-type]
        "priority_confidence": (float, conf),
        "sentiment": (Literal[SENTIMENTS], ...),  # type: ignore[valid-type]
        "sentiment_confidence": (float, conf),
        "risk_flags": (list[Literal[RISK_FLAGS]], Field(default_factory=list, max_length=3)),  # type: ignore[valid-type]
        "risk_confidence": (float, conf),
    }
    return create_model("TicketClassification", **fields)


def _max_prio(a: str, b: str) -> str:
    return a if PRIORITIES.index(a) >= PRIORITIES.index(b) else b  # type: ignore[arg-type]


def classify(state: TriageState, runtime: Runtime[AgentContext]) -> TriageState:
    """Category, priority, language, sentiment and risk flags, each with a confidence.

    Deterministic parts always run (language by script, risk and priority patterns from the
    policy, nearest-doc category vote); the LLM, when configured, adds its reading with structured
    output. A failing LLM falls back to the deterministic triage and says so in the audit trail.
    """
    ctx = runtime.context
    policy = ctx.policy
    text = state["text"]
    hits = state.get("hits", [])
    lang, lang_conf = detect_language(text)
    rule_risks = policy.detect_risk(text)
    nd_cat, nd_conf, support = nearest_doc_category(hits, policy)
    rule_prio = policy.rule_priority(text, rule_risks)
    sent, sent_conf = lexicon_sentiment(text)
    base = Triage(
        category=Scored[str](value=nd_cat, confidence=nd_conf),
        priority=Scored[str](value=rule_prio, confidence=0.6),
        language=Scored[str](value=lang, confidence=lang_conf),
        sentiment=Scored[str](value=sent, confidence=sent_conf),
        risk=Scored[list[str]](value=rule_risks, confidence=0.95 if rule_risks else 0.6),
        decided_by="nearest_doc",
    )
    if ctx.llm is None:
        return {
            "triage": base,
            "audit": [AuditEvent(node="classify", event="triaged", detail={"by": "nearest_doc", **_brief(base)})],
        }

    prompt = load_prompt(ctx.settings.prompts_dir, "classify")
    categories = "\n".join(f"- {name}: {rule.description}" for name, rule in policy.categories.items())
    candidates = "\n".join(f"- [{h.category}] {h.title} (match {h.score:.2f})" for h in hits[:3]) or "- none"
    system, user = prompt.render(categories=categories, ticket=text, candidates=candidates)
    schema = classification_schema(tuple(policy.category_names))
    try:
        out: Any = ctx.llm.with_structured_output(schema).invoke([SystemMessage(system), HumanMessage(user)])
    except LLM_RUNTIME_ERRORS as exc:
        fallback = base.model_copy(update={"decided_by": "fallback"})
        return {
            "triage": fallback,
            "prompts": {prompt.name: prompt.version},
            "audit": [
                AuditEvent(
                    node="classify",
                    event="llm_failed",
                    detail={"error": f"{type(exc).__name__}: {str(exc)[:300]}", "fallback": "nearest_doc"},
                )
            ],
        }
    # The LLM's stated confidence is not calibrated: average it with the retrieval vote for the
    # same category, so a category nothing in the KB supports cannot look certain.
    llm_cat = str(out.category)
    cat_conf = 0.5 * float(out.category_confidence) + 0.5 * support.get(llm_cat, 0.0)
    if llm_cat == "other":
        cat_conf = 0.5 * float(out.category_confidence) + 0.5 * (1.0 if nd_cat == "other" else 0.0)
    llm_risks = [str(r) for r in out.risk_flags] if float(out.risk_confidence) >= policy.risk.llm_min_confidence else []
    risks = sorted(set(rule_risks) | set(llm_risks))
    floor = policy.priority_floor(text, risks)
    priority = _max_prio(str(out.priority), floor)
    triage = Triage(
        category=Scored[str](value=llm_cat, confidence=round(cat_conf, 3)),
        priority=Scored[str](
            value=priority, confidence=round(float(out.priority_confidence) if priority == out.priority else 0.9, 3)
        ),
        language=base.language,
        sentiment=Scored[str](value=str(out.sentiment), confidence=round(float(out.sentiment_confidence), 3)),
        risk=Scored[list[str]](
            value=risks,
            confidence=round(max(float(out.risk_confidence), 0.95 if rule_risks else 0.0), 3),
        ),
        decided_by="llm",
    )
    return {
        "triage": triage,
        "prompts": {prompt.name: prompt.version},
        "audit": [
            AuditEvent(
                node="classify",
                event="triaged",
                detail={"by": "llm", **_brief(triage), "rule_risks": rule_risks, "llm_risks": out.risk_flags},
            )
        ],
    }


def _brief(t: Triage) -> dict[str, Any]:
    return {
        "category": t.category.value,
        "category_confidence": t.category.confidence,
        "priority": t.priority.value,
        "language": t.language.value,
        "risk": t.risk.value,
    }
