from __future__ import annotations

import math
from collections import defaultdict
from functools import lru_cache
from typing import Any, Literal

from langchain_core.messages import HumanMessage, SystemMessage
from langgraph.runtime import Runtime
from pydantic import BaseModel, Field, create_model

from agent.domain import PRIORITIES, RISK_FLAGS, SENTIMENTS, AuditEvent, Scored, Triage
from agent.graph.classifier.model import Prediction
from agent.graph.context import AgentContext
from agent.graph.llm import LLM_FALLBACK_ERRORS
from agent.graph.policy import Policy
from agent.graph.prompts import fence, load_prompt
from agent.graph.state import TriageState
from agent.graph.textutil import detect_language, lexicon_sentiment
from knowledge.types import Hit


def nearest_doc_category(
    hits: list[Hit], policy: Policy, temperature: float | None = None
) -> tuple[str, float, dict[str, float]]:
    """Category by a similarity-weighted vote of the retrieved docs; the vote share is the confidence.

    Each document weighs exp((its cosine - the best cosine) / T), T = `retrieval.vote_temperature`
    (or `temperature`): T is on the embedder's cosine scale. MiniLM's 0.05 under multilingual e5's
    compressed cosines (five hits within ~0.03) weighs every hit nearly alike, so the vote is the
    hits' category frequencies; e5's T is fitted by log-loss of the gold category on the smoke dev
    half (see policy.yaml)."""
    t = temperature if temperature is not None else policy.retrieval.vote_temperature
    top = hits[0].score if hits else 0.0
    if not hits or top < policy.retrieval.out_of_scope_below:
        return "other", round(0.5 + 0.5 * (1 - top / max(policy.retrieval.out_of_scope_below, 1e-6)), 3), {}
    votes: dict[str, float] = defaultdict(float)
    for h in hits:
        votes[h.category or "other"] += math.exp(max(-60.0, (h.score - top) / t))
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


TRAINED_FIELDS = ("category", "priority", "sentiment")


def _classifier_hints(preds: dict[str, Prediction]) -> str:
    if not preds:
        return "- no classifier trained for this service"
    lines: list[str] = []
    for name in TRAINED_FIELDS:
        p = preds.get(name)
        if p is not None:
            lines.append(f"- {name}: " + ", ".join(f"{lab} {prob:.2f}" for lab, prob in p.top))
    return "\n".join(lines)


def _trained_category(p: Prediction) -> str:
    return "other" if p.out_of_scope else p.label


def classify(state: TriageState, runtime: Runtime[AgentContext]) -> TriageState:
    """Category, priority, language, sentiment and risk flags, each with a confidence.

    Order of trust: the trained classifier (calibrated on the team's own history) decides every
    field it is confident about; when it is unsure of a field, or has no model for it, the LLM is
    asked, with the classifier's top candidates in the prompt. Deterministic parts always run:
    language by script, risk and priority patterns from the policy, a nearest-doc category vote.
    Without an LLM, the classifier's best guess stands with its (low) confidence, and the policy's
    thresholds keep such tickets away from auto-resolution. `Triage.sources` says which path set
    each field.
    """
    ctx = runtime.context
    policy = ctx.policy
    text = state["text"]
    hits = state.get("hits", [])
    lang, lang_conf = detect_language(text)
    rule_risks = policy.detect_risk(text, state.get("redactions"))
    # the learned detector (agent/graph/risk/); None: off. It reuses the retrieval embedder when it is its own
    risk_model = policy.detect_risk_model(text, getattr(ctx.knowledge, "embedder", None))
    unsure = ["possible_risk"] if policy.review_risk(risk_model) else []
    det_risks = sorted(set(rule_risks) | set(risk_model.flags if risk_model is not None else []) | set(unsure))
    nd_cat, nd_conf, support = nearest_doc_category(hits, policy)
    rule_prio = policy.rule_priority(text, det_risks)
    sent, sent_conf = lexicon_sentiment(text)
    preds: dict[str, Prediction] = ctx.classifier.predict([text])[0] if ctx.classifier is not None else {}
    cat_pred = preds.get("category")
    if cat_pred is not None and not cat_pred.out_of_scope and cat_pred.label not in policy.categories:
        # trained on labels the policy does not know: not usable for this field (start-up warns)
        del preds["category"]
    version = ctx.classifier.version if ctx.classifier is not None else None
    classifier_detail = {
        f: {"label": p.label, "confidence": p.confidence, "confident": p.confident} for f, p in preds.items()
    }
    cat_pred = preds.get("category")
    if ctx.llm is None and cat_pred is not None and not cat_pred.confident and not cat_pred.out_of_scope:
        # Below its own threshold the classifier defers to the LLM; with none, the nearest documents'
        # vote decides instead (smoke train half, --llm none: the trained classifier's unsure category
        # held Ukrainian auto-resolution at 38% against 69% by the vote, README issue 14)
        del preds["category"]
    sources = {
        "category": "nearest_doc",
        "priority": "rules",
        "sentiment": "rules",
        "language": "rules",
        "risk": "rules" if risk_model is None else "rules+model",
    }
    category = Scored[str](value=nd_cat, confidence=nd_conf)
    priority = Scored[str](value=rule_prio, confidence=0.6)
    sentiment = Scored[str](value=sent, confidence=sent_conf)
    if "category" in preds:
        p = preds["category"]
        category = Scored[str](value=_trained_category(p), confidence=p.confidence)
        sources["category"] = "classifier"
    if "priority" in preds and preds["priority"].label in PRIORITIES:
        p = preds["priority"]
        floor = policy.priority_floor(text, det_risks)
        value = _max_prio(p.label, floor)
        priority = Scored[str](value=value, confidence=p.confidence if value == p.label else 0.9)
        sources["priority"] = "classifier"
    if "sentiment" in preds and preds["sentiment"].label in SENTIMENTS:
        p = preds["sentiment"]
        sentiment = Scored[str](value=p.label, confidence=p.confidence)
        sources["sentiment"] = "classifier"
    base = Triage(
        category=category,
        priority=priority,
        language=Scored[str](value=lang, confidence=lang_conf),
        sentiment=sentiment,
        risk=Scored[list[str]](value=det_risks, confidence=0.95 if det_risks else 0.6),
        decided_by="classifier" if "category" in preds else "nearest_doc",
        sources=sources,
        model_version=version,
    )
    unsure = [f for f in TRAINED_FIELDS if f not in preds or not preds[f].confident]
    if ctx.llm is None or not unsure:
        why = "no LLM configured" if unsure else "classifier confident on every field"
        return {
            "triage": base,
            "audit": [
                AuditEvent(
                    node="classify",
                    event="triaged",
                    detail={
                        "by": base.decided_by,
                        "why": why,
                        **_brief(base),
                        "classifier": classifier_detail,
                        "rule_risks": rule_risks,
                        "risk_model": risk_model.audit() if risk_model is not None else None,
                    },
                )
            ],
        }

    prompt = load_prompt(ctx.settings.prompts_dir, "classify")
    categories = "\n".join(f"- {name}: {rule.description}" for name, rule in policy.categories.items())
    candidates = "\n".join(f"- [{h.category}] {h.title} (match {h.score:.2f})" for h in hits[:3]) or "- none"
    data = fence(text)  # the ticket between per-request markers it cannot close
    system, user = prompt.render(
        categories=categories,
        ticket=data.text,
        tag=data.tag,
        candidates=candidates,
        classifier=_classifier_hints(preds),
    )
    schema = classification_schema(tuple(policy.category_names))
    try:
        out: Any = ctx.llm.with_structured_output(schema).invoke([SystemMessage(system), HumanMessage(user)])
    except LLM_FALLBACK_ERRORS as exc:
        # a confident classifier category still stands; otherwise this is a fallback (handed off)
        category_ok = "category" in preds and "category" not in unsure
        fallback = base.model_copy(update={"decided_by": "classifier" if category_ok else "fallback"})
        return {
            "triage": fallback,
            "prompts": {prompt.name: prompt.version},
            "audit": [
                AuditEvent(
                    node="classify",
                    event="llm_failed",
                    detail={
                        "error": f"{type(exc).__name__}: {str(exc)[:300]}",
                        "fallback": fallback.decided_by if category_ok else base.sources["category"],
                    },
                )
            ],
        }
    llm_risks = [str(r) for r in out.risk_flags] if float(out.risk_confidence) >= policy.risk.llm_min_confidence else []
    risks = sorted(set(det_risks) | set(llm_risks))
    sources = {**sources, "risk": "rules+llm" if risk_model is None else "rules+model+llm"}
    triage = base.model_copy(
        update={
            "risk": Scored[list[str]](
                value=risks, confidence=round(max(float(out.risk_confidence), 0.95 if det_risks else 0.0), 3)
            ),
            "decided_by": "llm" if "category" in unsure else "classifier",
        }
    )
    if "category" in unsure:
        llm_cat = str(out.category)
        # The LLM's stated confidence is not calibrated: average it with the calibrated classifier
        # probability of the same label (or, without a classifier, the retrieval vote), so a label
        # nothing else supports cannot look certain.
        if "category" in preds:
            probs = dict(preds["category"].top)
            other_p = max(1.0 if preds["category"].out_of_scope else 0.0, probs.get("other", 0.0))
            support_p = other_p if llm_cat == "other" else probs.get(llm_cat, 0.0)
        elif llm_cat == "other":
            support_p = 1.0 if nd_cat == "other" else 0.0
        else:
            support_p = support.get(llm_cat, 0.0)
        cat_conf = 0.5 * float(out.category_confidence) + 0.5 * support_p
        triage.category = Scored[str](value=llm_cat, confidence=round(cat_conf, 3))
        sources["category"] = "llm"
    floor = policy.priority_floor(text, risks)  # risks may now include the LLM's
    if "priority" in unsure:
        prio = _max_prio(str(out.priority), floor)
        conf = float(out.priority_confidence) if prio == out.priority else 0.9
        triage.priority = Scored[str](value=prio, confidence=round(conf, 3))
        sources["priority"] = "llm"
    elif _max_prio(triage.priority.value, floor) != triage.priority.value:
        triage.priority = Scored[str](value=floor, confidence=0.9)
    if "sentiment" in unsure:
        triage.sentiment = Scored[str](value=str(out.sentiment), confidence=round(float(out.sentiment_confidence), 3))
        sources["sentiment"] = "llm"
    triage.sources = sources
    return {
        "triage": triage,
        "prompts": {prompt.name: prompt.version},
        "audit": [
            AuditEvent(
                node="classify",
                event="triaged",
                detail={
                    "by": triage.decided_by,
                    "llm_for": unsure,
                    **_brief(triage),
                    "classifier": classifier_detail,
                    "rule_risks": rule_risks,
                    "risk_model": risk_model.audit() if risk_model is not None else None,
                    "llm_risks": out.risk_flags,
                },
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
