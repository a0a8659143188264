"""The figures of a resolve run: outcomes (auto / wrong / handoff) under a policy, retrieval quality,
the auto-vs-wrong curve, per-language figures, per-ticket rows, and `evaluate` putting them together
into the run's result (what `--json` writes and the report reads). No model runs here: cheap to sweep."""

from __future__ import annotations

from collections import Counter
from typing import Any

from agent.domain import Decision
from agent.graph.policy import Policy
from evals.provenance import git_commit
from evals.resolve.replay import Trace
from evals.stats import percentile, wilson_upper

ACTIONS = ("auto_resolve", "suggest", "handoff")
CURVE_STEPS = [round(0.30 + 0.02 * i, 2) for i in range(31)]  # retrieval.auto_at_least 0.30 .. 0.90


def _ratio(a: int | float, b: int | float) -> float | None:
    return round(a / b, 4) if b else None


def id_context_scores(traces: list[Trace], k: int) -> dict[str, float | None]:
    """ID-based context precision and recall, as ragas defines them (IDBasedContextPrecision /
    IDBasedContextRecall): per case |retrieved ∩ gold| / |retrieved| and |retrieved ∩ gold| / |gold|
    over the top-k retrieved doc ids, averaged over cases with gold docs. No LLM needed.

    Computed here rather than by importing ragas: ragas 0.4.3 and 0.3.9 fail at import with every
    current langchain-community (vibrantlabsai/ragas#2745, #2995)."""
    ps: list[float] = []
    rs: list[float] = []
    for t in traces:
        gold = set(t.case.gold_doc_ids)
        if not gold:
            continue
        retrieved = {h.doc_id for h in t.hits[:k]}
        both = len(retrieved & gold)
        ps.append(both / len(retrieved) if retrieved else 0.0)
        rs.append(both / len(gold))
    return {
        "context_precision": round(sum(ps) / len(ps), 4) if ps else None,
        "context_recall": round(sum(rs) / len(rs), 4) if rs else None,
    }


def outcome_metrics(
    traces: list[Trace], policy: Policy | None, decisions: list[Decision] | None = None
) -> dict[str, Any]:
    """Outcome counts and rates under `policy`, or for given per-trace `decisions` (cross-validation
    decides each fold under its own policy). No retrieval figures: cheap enough to sweep."""
    n = len(traces)
    if decisions is None:
        assert policy is not None
        decisions = [t.decide(policy) for t in traces]
    counts = Counter(d.action for d in decisions)
    wrong = [t.case.id for t, d in zip(traces, decisions, strict=True) if t.is_wrong(d)]
    auto = counts["auto_resolve"]
    answerable = [(t, d) for t, d in zip(traces, decisions, strict=True) if not t.case.should_handoff]
    should = [(t, d) for t, d in zip(traces, decisions, strict=True) if t.case.should_handoff]
    handed = [(t, d) for t, d in zip(traces, decisions, strict=True) if d.action == "handoff"]
    ans_auto = sum(d.action == "auto_resolve" for _, d in answerable)
    ans_right = sum(d.action == "auto_resolve" and not t.is_wrong(d) for t, d in answerable)
    return {
        "tickets": n,
        "answerable": len(answerable),
        "should_handoff": len(should),
        "outcomes": {a: counts.get(a, 0) for a in ACTIONS},
        "auto_resolution_rate": _ratio(auto, n) or 0.0,
        "auto_resolution_rate_answerable": _ratio(ans_auto, len(answerable)),
        "correct_auto_rate_answerable": _ratio(ans_right, len(answerable)),
        "wrong_resolutions": len(wrong),
        "wrong_resolution_rate": _ratio(len(wrong), auto) or 0.0,
        "wrong_resolution_upper95": round(wilson_upper(len(wrong), auto), 4),
        "wrong_per_ticket": _ratio(len(wrong), n) or 0.0,
        "suggest_rate": _ratio(counts.get("suggest", 0), n) or 0.0,
        "handoff_rate": _ratio(counts.get("handoff", 0), n) or 0.0,
        "handoff_recall": _ratio(sum(d.action == "handoff" for _, d in should), len(should)),
        "handoff_precision": _ratio(sum(t.case.should_handoff for t, _ in handed), len(handed)),
        "wrong_ids": wrong,
    }


def retrieval_metrics(traces: list[Trace], k: int) -> dict[str, Any]:
    with_gold = [t for t in traces if t.case.gold_doc_ids]
    r1 = r5 = 0
    rr = 0.0
    for t in with_gold:
        ids = [h.doc_id for h in t.hits]
        gold = set(t.case.gold_doc_ids)
        r1 += bool(set(ids[:1]) & gold)
        r5 += bool(set(ids[:5]) & gold)
        rank = next((i for i, d in enumerate(ids, 1) if d in gold), None)
        rr += 1.0 / rank if rank else 0.0
    m = len(with_gold)
    return {
        "retrieval_cases": m,
        "recall_at_1": _ratio(r1, m),
        "recall_at_5": _ratio(r5, m),
        "mrr": _ratio(rr, m),
        **id_context_scores(traces, k),
    }


def curve(traces: list[Trace], policy: Policy) -> list[dict[str, float]]:
    """Auto-resolution vs wrong-resolution as retrieval.auto_at_least moves (other thresholds fixed)."""
    points: list[dict[str, float]] = []
    for th in CURVE_STEPS:
        p = policy.model_copy(update={"retrieval": policy.retrieval.model_copy(update={"auto_at_least": th})})
        m = outcome_metrics(traces, p)
        points.append(
            {
                "auto_at_least": th,
                "auto_resolution_rate": m["auto_resolution_rate"],
                "wrong_resolution_rate": m["wrong_resolution_rate"],
                "wrong_per_ticket": m["wrong_per_ticket"],
            }
        )
    return points


def by_language(traces: list[Trace], policy: Policy) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for lang in sorted({t.triage.language.value for t in traces}):
        sub = [t for t in traces if t.triage.language.value == lang]
        m = outcome_metrics(sub, policy)
        r = retrieval_metrics(sub, 5) if any(t.case.gold_doc_ids for t in sub) else {}
        out[lang] = {
            "tickets": m["tickets"],
            "auto_resolution_rate": m["auto_resolution_rate"],
            "wrong_resolutions": m["wrong_resolutions"],
            "handoff_recall": m["handoff_recall"],
            "recall_at_5": r.get("recall_at_5"),
        }
    return out


def rows(traces: list[Trace], policy: Policy) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for t in traces:
        d = t.decide(policy)
        top = t.hits[0] if t.hits else None
        out.append(
            {
                "id": t.case.id,
                "action": d.action,
                "wrong": t.is_wrong(d),
                "answerable": not t.case.should_handoff,
                "gold_outcome": t.case.gold_outcome,
                "rules": d.rules,
                "top_doc": top.doc_id if top else None,
                "top_score": top.score if top else None,
                "cited": t.draft.citations if t.draft is not None and d.action != "handoff" else [],
                "gold_docs": t.case.gold_doc_ids,
                "category": t.triage.category.value,
                "category_confidence": t.triage.category.confidence,
                "language": t.triage.language.value,
                "seconds": round(t.seconds, 3),
            }
        )
    return out


def evaluate(traces: list[Trace], policy: Policy, facts: dict[str, Any], k: int = 5) -> dict[str, Any]:
    """The result of a run under `policy`: every figure above, the run facts, per-ticket rows."""
    outcome = outcome_metrics(traces, policy)
    prompts: dict[str, str] = {}
    for t in traces:
        prompts.update(t.prompts)
    secs = [t.seconds for t in traces]
    rule_counts = Counter(r.split(":")[0] for t in traces for r in t.decide(policy).rules if r != "auto")
    return {
        "kind": "resolve",
        **{k_: v for k_, v in outcome.items() if k_ != "wrong_ids"},
        **retrieval_metrics(traces, k),
        "seconds_p50": round(percentile(secs, 0.5), 3),
        "seconds_p95": round(percentile(secs, 0.95), 3),
        "by_language": by_language(traces, policy),
        "rules_fired": dict(rule_counts.most_common()),
        "curve": curve(traces, policy),
        "wrong_ids": outcome["wrong_ids"],
        "run": {
            **facts,
            "policy_version": policy.version,
            "prompts": prompts,
            "commit": git_commit(),
        },
        "rows": rows(traces, policy),
    }
