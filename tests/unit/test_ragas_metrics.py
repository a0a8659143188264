"""Context precision and recall are ragas's own ID-based metrics, per case and averaged as ragas
does: checked on hand-made cases whose answers follow from ragas's definitions
(IDBasedContextPrecision: |retrieved ∩ gold| / |retrieved|; IDBasedContextRecall:
|retrieved ∩ gold| / |gold|; over distinct ids; NaN when the denominator is empty; NaN left out of
the mean)."""

from __future__ import annotations

import pytest

from agent.domain import Draft, Scored, Triage
from agent.graph.policy import load_policy
from evals.resolve.data import Case
from evals.resolve.metrics import evaluate, id_context_cases, id_context_scores
from evals.resolve.replay import Trace
from knowledge.types import Hit
from tests.unit.minilm_policy import minilm_policy_file

POLICY = minilm_policy_file()


def hit(doc_id: str, chunk: int = 0) -> Hit:
    return Hit(doc_id=doc_id, chunk_id=f"{doc_id}#{chunk}", title=doc_id, doc_type="kb", score=0.7, text="x")


def trace(case_id: str, retrieved: list[str], gold: list[str]) -> Trace:
    triage = Triage(
        category=Scored[str](value="other", confidence=0.5),
        priority=Scored[str](value="normal", confidence=0.5),
        language=Scored[str](value="en", confidence=0.9),
        sentiment=Scored[str](value="neutral", confidence=0.5),
        risk=Scored[list[str]](value=[], confidence=0.9),
    )
    return Trace(
        case=Case(id=case_id, subject="s", body="b", gold_doc_ids=gold, answerable=bool(gold)),
        triage=triage,
        hits=[hit(d, i) for i, d in enumerate(retrieved)],
        query_language="en",
        compound=False,
        draft=Draft(text="x", citations=retrieved[:1], language="en") if retrieved else None,
        findings=[],
        approval=None,
        prompts={},
        seconds=0.01,
        permissive_action="suggest",
    )


def test_per_case_scores_follow_ragas_definitions() -> None:
    traces = [
        trace("one-of-three", ["A", "B", "C"], ["A", "D"]),  # P 1/3, R 1/2
        trace("two-chunks-one-doc", ["A", "A", "B"], ["A"]),  # distinct ids: P 1/2, R 1
        trace("all-gold", ["A", "D"], ["A", "D"]),  # P 1, R 1
        trace("nothing-retrieved", [], ["A"]),  # P NaN (nothing to be precise about), R 0
        trace("no-gold", ["A", "B"], []),  # P 0 (none of it is relevant), R NaN
    ]
    got = id_context_cases(traces, k=5)
    assert got == [
        (pytest.approx(1 / 3, abs=1e-4), 0.5),
        (0.5, 1.0),
        (1.0, 1.0),
        (None, 0.0),
        (0.0, None),
    ]
    # averaged as ragas averages (safe_nanmean): NaN cases left out
    scores = id_context_scores(got)
    assert scores["context_precision"] == pytest.approx((1 / 3 + 0.5 + 1 + 0) / 4, abs=1e-4)
    assert scores["context_recall"] == pytest.approx((0.5 + 1 + 1 + 0) / 4, abs=1e-4)
    assert (scores["context_precision_cases"], scores["context_recall_cases"]) == (4, 4)


def test_only_the_top_k_hits_count() -> None:
    t = trace("late-gold", ["X", "Y", "A"], ["A"])
    assert id_context_cases([t], k=2) == [(0.0, 0.0)]
    assert id_context_cases([t], k=3) == [(pytest.approx(1 / 3, abs=1e-4), 1.0)]


def test_no_case_scored_gives_none_not_nan() -> None:
    scores = id_context_scores(id_context_cases([trace("empty", [], [])], k=5))
    assert scores["context_precision"] is None and scores["context_recall"] is None
    assert scores["context_precision_cases"] == 0


def test_the_result_keeps_its_keys_and_says_ragas_computed_them() -> None:
    import ragas

    traces = [trace("a", ["A", "B"], ["A"]), trace("b", ["C"], ["D"]), trace("c", ["A"], [])]
    result = evaluate(traces, load_policy(POLICY), {"kb": "kb"}, k=5)
    assert result["context_precision"] == pytest.approx((0.5 + 0 + 0) / 3, abs=1e-4)
    assert result["context_recall"] == pytest.approx((1 + 0) / 2, abs=1e-4)
    assert [(r["context_precision"], r["context_recall"]) for r in result["rows"]] == [
        (0.5, 1.0),
        (0.0, 0.0),
        (0.0, None),
    ]
    by = result["run"]["metrics_by"]
    assert by["context_precision"].startswith(f"ragas {ragas.__version__} IDBasedContextPrecision")
    assert by["context_recall"].startswith(f"ragas {ragas.__version__} IDBasedContextRecall")
    assert ragas.__version__ == "0.4.3"  # the pinned version (requirements.lock) whose definitions these are
