"""The figures of a resolve run: outcomes (auto / wrong / handoff) under a policy, retrieval quality,
the auto-vs-wrong curve, per-language figures, per-ticket rows, and `evaluate` putting them together
into the run's result (what `--json` writes and the report reads). No model runs here: cheap to sweep.

Context precision and recall are ragas's own ID-based metrics, scored by ragas per case and
averaged as ragas does (`id_context_cases`); recall@k and MRR are ours (ragas has none on ids).
`ragas_offline` is the one way ragas is imported (evals/judge.py uses it too)."""

from __future__ import annotations

import asyncio
import logging
import math
import os
from collections import Counter
from collections.abc import Generator
from contextlib import contextmanager
from typing import Any

from agent.domain import Decision
from agent.graph.policy import Policy
from evals.provenance import git_commit
from evals.resolve.replay import Trace
from evals.stats import percentile, wilson_upper

ACTIONS = ("auto_resolve", "suggest", "handoff")
CURVE_STEPS = [round(0.30 + 0.02 * i, 2) for i in range(31)]  # retrieval.auto_at_least 0.30 .. 0.90
# ragas logs a warning for every case it scores NaN (no gold ids, nothing retrieved): counted instead
RAGAS_ID_LOGGERS = ("ragas.metrics._context_precision", "ragas.metrics._context_recall")


def _ratio(a: int | float, b: int | float) -> float | None:
    return round(a / b, 4) if b else None


def ragas_offline() -> str:
    """Import ragas with nothing of it reaching the network; its version.

    What ragas 0.4.3 would fetch, and why it does not here:
    - usage telemetry: `ragas._analytics.track` POSTs to t.explodinggradients.com for every LLM
      call, prompt, embedding and (batched on a thread, flushed every 10 s and at exit) every metric
      score. Off: RAGAS_DO_NOT_TRACK=true, set here before the import and re-read (ragas caches it).
    - tiktoken's o200k_base encoding (ragas.tokenizers, for testset chunking), Hugging Face models
      (FaithfulnesswithHHEM, HuggingfaceEmbeddings, HuggingFaceTokenizer) and images of multimodal
      prompts: only on paths not taken here (no testset generation; our LLM and embedder).
    Left: ragas writes an anonymous id to ~/.local/share/ragas/uuid.json when it builds an event,
    before it checks the opt-out; nothing is sent.
    """
    os.environ["RAGAS_DO_NOT_TRACK"] = "true"
    import ragas
    from ragas._analytics import do_not_track

    do_not_track.cache_clear()  # an import before this one may have cached the default (track)
    if not do_not_track():  # pragma: no cover - only if ragas renames its switch
        raise RuntimeError("ragas telemetry is still on: its opt-out variable changed; see evals/resolve/metrics.py")
    return ragas.__version__


def nan_to_none(v: float) -> float | None:
    return None if math.isnan(v) else round(float(v), 4)


def ragas_mean(scores: list[float | None]) -> float | None:
    """The mean of per-case scores as ragas aggregates them (`ragas.utils.safe_nanmean`: cases
    it could not score are left out), rounded; None when no case got a score."""
    from ragas.utils import safe_nanmean

    v = safe_nanmean([math.nan if x is None else x for x in scores])
    return None if math.isnan(v) else round(v, 4)


@contextmanager
def _quiet(*loggers: str) -> Generator[None]:
    saved = [(lg, lg.level) for lg in map(logging.getLogger, loggers)]
    for lg, _ in saved:
        lg.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for lg, level in saved:
            lg.setLevel(level)


def id_context_cases(traces: list[Trace], k: int) -> list[tuple[float | None, float | None]]:
    """Per case, ragas's own ID-based context precision and recall (`IDBasedContextPrecision`,
    `IDBasedContextRecall`, scored by `single_turn_ascore` on a `SingleTurnSample` with
    `retrieved_context_ids` = the doc ids of the top-k hits and `reference_context_ids` = the gold doc
    ids): |retrieved ∩ gold| / |retrieved| and |retrieved ∩ gold| / |gold|, over distinct ids. None
    where ragas gives NaN: recall of a case without gold docs, precision of one with no hits. No LLM."""
    ragas_offline()
    from ragas.dataset_schema import SingleTurnSample
    from ragas.metrics._context_precision import IDBasedContextPrecision
    from ragas.metrics._context_recall import IDBasedContextRecall

    precision, recall = IDBasedContextPrecision(), IDBasedContextRecall()

    async def score_all() -> list[tuple[float | None, float | None]]:
        out: list[tuple[float | None, float | None]] = []
        for t in traces:
            sample = SingleTurnSample(
                retrieved_context_ids=[h.doc_id for h in t.hits[:k]],
                reference_context_ids=list(t.case.gold_doc_ids),
            )
            p = await precision.single_turn_ascore(sample)
            r = await recall.single_turn_ascore(sample)
            out.append((nan_to_none(p), nan_to_none(r)))
        return out

    with _quiet(*RAGAS_ID_LOGGERS):
        return asyncio.run(score_all())


def id_context_scores(cases: list[tuple[float | None, float | None]]) -> dict[str, Any]:
    """`context_precision` and `context_recall` over every case, aggregated as ragas does (NaN
    cases left out), with how many cases each mean is over."""
    ps, rs = [p for p, _ in cases], [r for _, r in cases]
    return {
        "context_precision": ragas_mean(ps),
        "context_recall": ragas_mean(rs),
        "context_precision_cases": sum(p is not None for p in ps),
        "context_recall_cases": sum(r is not None for r in rs),
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


def retrieval_metrics(traces: list[Trace]) -> dict[str, Any]:
    """recall@1, recall@5 and MRR over the cases with gold docs (ours: ragas has no rank metric
    on ids)."""
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
    """The outcome and retrieval figures per ticket language (the case's, else the detected one)."""
    out: dict[str, dict[str, Any]] = {}

    def lang_of(t: Trace) -> str:
        return t.case.language or t.triage.language.value

    for lang in sorted({lang_of(t) for t in traces}):
        sub = [t for t in traces if lang_of(t) == lang]
        m = outcome_metrics(sub, policy)
        r = retrieval_metrics(sub) if any(t.case.gold_doc_ids for t in sub) else {}
        out[lang] = {
            "tickets": m["tickets"],
            "answerable": m["answerable"],
            "auto_resolution_rate": m["auto_resolution_rate"],
            "correct_auto_rate_answerable": m["correct_auto_rate_answerable"],
            "auto_resolved": m["outcomes"]["auto_resolve"],
            "wrong_resolutions": m["wrong_resolutions"],
            "handoff_recall": m["handoff_recall"],
            "recall_at_1": r.get("recall_at_1"),
            "recall_at_5": r.get("recall_at_5"),
            "mrr": r.get("mrr"),
            "seconds_p50": round(percentile([t.seconds for t in sub], 0.5), 3),
        }
    return out


def rows(
    traces: list[Trace], policy: Policy, context: list[tuple[float | None, float | None]] | None = None
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i, t in enumerate(traces):
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
                "context_precision": context[i][0] if context else None,
                "context_recall": context[i][1] if context else None,
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
    context = id_context_cases(traces, k)
    ragas_version = ragas_offline()
    prompts: dict[str, str] = {}
    for t in traces:
        prompts.update(t.prompts)
    secs = [t.seconds for t in traces]
    rule_counts = Counter(r.split(":")[0] for t in traces for r in t.decide(policy).rules if r != "auto")
    return {
        "kind": "resolve",
        **{k_: v for k_, v in outcome.items() if k_ != "wrong_ids"},
        **retrieval_metrics(traces),
        **id_context_scores(context),
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
            "metrics_by": {
                "context_precision": f"ragas {ragas_version} IDBasedContextPrecision (top {k} doc ids)",
                "context_recall": f"ragas {ragas_version} IDBasedContextRecall (top {k} doc ids)",
                "recall_at_1, recall_at_5, mrr": "ours (ragas has no rank metric on ids)",
            },
        },
        "rows": rows(traces, policy, context),
    }
