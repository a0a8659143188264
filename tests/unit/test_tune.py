"""`triage tune` on hand-built traces: the budget holds, risk rules never move, the file round-trips."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.domain import Scored, Triage
from agent.graph.policy import Policy, load_policy
from evals.resolve.data import Case
from evals.resolve.metrics import outcome_metrics
from evals.resolve.replay import Trace, permissive
from evals.tune import render_policy, tune, write_policy
from knowledge.types import Hit
from tests.unit.minilm_policy import minilm_policy_file

POLICY_FILE = minilm_policy_file()


def _trace(
    i: int,
    *,
    score: float,
    conf: float,
    right: bool,
    category: str = "payslips",
    risk: list[str] | None = None,
    answerable: bool = True,
    language: str = "en",
) -> Trace:
    gold = f"KB-{i:03d}"
    cited = gold if right else "KB-999"
    hit = Hit(
        doc_id=cited,
        chunk_id=f"{cited}#0",
        title="t",
        doc_type="kb",
        score=score,
        text="x",
        category=category,
        auto_resolvable=True,
    )
    triage = Triage(
        category=Scored[str](value=category, confidence=conf),
        priority=Scored[str](value="normal", confidence=0.6),
        language=Scored[str](value=language, confidence=0.9),
        sentiment=Scored[str](value="neutral", confidence=0.6),
        risk=Scored[list[str]](value=risk or [], confidence=0.9),
    )
    from agent.domain import Draft

    case = Case(id=f"c{i}", subject="s", body="b", gold_doc_ids=[gold] if answerable else [], answerable=answerable)
    return Trace(
        case=case,
        triage=triage,
        hits=[hit],
        query_language=language,
        compound=False,
        draft=Draft(text=f"see [{cited}]", citations=[cited], language=language),
        findings=[],
        approval=None,
        prompts={},
        seconds=0.1,
        permissive_action="auto_resolve",
    )


@pytest.fixture
def base() -> Policy:
    return load_policy(POLICY_FILE)


def _dev() -> list[Trace]:
    traces: list[Trace] = []
    # payslips: right answers at high confidence and score, wrong ones at lower confidence
    for i in range(30):
        traces.append(_trace(i, score=0.55 + 0.01 * i, conf=0.60 + 0.01 * i, right=i >= 6))
    # billing: right only when the match is very close
    for i in range(30, 50):
        traces.append(_trace(i, score=0.45 + 0.02 * (i - 30), conf=0.9, right=i >= 40, category="billing"))
    # unanswerable tickets that look answerable
    for i in range(50, 56):
        traces.append(_trace(i, score=0.48, conf=0.5, right=False, answerable=False))
    return traces


def test_tuned_thresholds_respect_the_budget_and_beat_a_blunt_setting(base: Policy) -> None:
    dev = _dev()
    r = tune(dev, base, max_wrong=0.0, min_handoff_recall=None)
    m = outcome_metrics(dev, r.policy)
    assert m["wrong_resolutions"] == 0
    # exhaustive optimum with no wrong allowed: for every match threshold, each category takes its
    # longest run of right answers from the top confidence down
    best = 0
    for r_ in sorted({t.hits[0].score for t in dev}):
        total = 0
        for cat in ("payslips", "billing"):
            pool = sorted(
                (t for t in dev if t.triage.category.value == cat and t.hits[0].score >= r_ and t.case.answerable),
                key=lambda t: -t.triage.category.confidence,
            )
            run = 0
            for i, t in enumerate(pool):
                if t.is_wrong(t.decide(permissive(base))):
                    break
                if i + 1 == len(pool) or pool[i + 1].triage.category.confidence != t.triage.category.confidence:
                    run = i + 1
            total += run
        best = max(best, total)
    assert best == 31  # billing's wrong answers all sit at confidence 0.9: only the match score splits them
    assert m["outcomes"]["auto_resolve"] == best, (r.thresholds, r.auto_at_least)
    assert 0.63 < r.auto_at_least <= 0.64 and r.thresholds["billing"] <= 0.9
    # a budget allows more auto-resolutions, never more wrong ones than the budget
    loose = tune(dev, base, max_wrong=0.1, min_handoff_recall=None)
    lm = outcome_metrics(dev, loose.policy)
    assert lm["outcomes"]["auto_resolve"] > 31
    assert lm["wrong_resolutions"] <= 0.1 * lm["outcomes"]["auto_resolve"]


def test_risk_rules_are_never_overridden(base: Policy) -> None:
    dev = _dev()
    # "right" by its citation, with the best scores on the set, but flagged financial / security
    risky = [
        _trace(100 + i, score=0.95, conf=0.99, right=True, risk=[flag])
        for i, flag in enumerate(["financial", "security", "regulatory", "legal"])
    ]
    injected = _trace(200, score=0.95, conf=0.99, right=True, risk=["prompt_injection"])
    r = tune(dev + risky + [injected], base, max_wrong=0.5, min_handoff_recall=None)
    for t in risky:
        assert t.decide(r.policy).action == "handoff"
    assert injected.decide(r.policy).action == "suggest"
    # even the fully open policy the tuner searches from keeps them
    assert all(t.decide(permissive(base)).action == "handoff" for t in risky)


def test_no_feasible_setting_switches_auto_resolution_off(base: Policy) -> None:
    dev = [_trace(i, score=0.8, conf=0.9, right=False) for i in range(5)]
    r = tune(dev, base, max_wrong=0.0, min_handoff_recall=None)
    assert outcome_metrics(dev, r.policy)["outcomes"]["auto_resolve"] == 0
    assert r.notes and "switched off" in r.notes[0]


def test_handoff_recall_target_moves_suggest_threshold(base: Policy) -> None:
    dev = _dev()
    before = tune(dev, base, max_wrong=0.0, min_handoff_recall=None)
    after = tune(dev, base, max_wrong=0.0, min_handoff_recall=0.8)
    assert outcome_metrics(dev, before.policy)["handoff_recall"] == 0.0
    m = outcome_metrics(dev, after.policy)
    assert m["handoff_recall"] is not None and m["handoff_recall"] >= 0.8
    assert m["outcomes"]["auto_resolve"] == outcome_metrics(dev, before.policy)["outcomes"]["auto_resolve"]


def test_bad_budget_is_refused(base: Policy) -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        tune(_dev(), base, max_wrong=1.5)


def test_policy_file_is_edited_in_place_and_reads_back(base: Policy, tmp_path: Path) -> None:
    dev = _dev()
    r = tune(dev, base, max_wrong=0.0, min_handoff_recall=0.8)
    text = POLICY_FILE.read_text(encoding="utf-8")
    figures = {"dev": "dev.jsonl", "dev_sha256": "ab" * 32, "wrong_resolutions": 0}
    out = tmp_path / "policy.yaml"
    written = write_policy(out, render_policy(text, base, r, figures), r)
    new_text = out.read_text(encoding="utf-8")
    assert "# Risk flags are the union" in new_text  # comments kept
    assert written.tuned is not None and written.tuned["dev_sha256"] == "ab" * 32
    assert written.version.endswith(".tuned-abababab")
    assert written.retrieval.auto_at_least == pytest.approx(r.auto_at_least)
    for name, value in r.thresholds.items():
        assert written.categories[name].auto_threshold == pytest.approx(value, abs=5e-4)
    assert written.risk == base.risk  # never touched
    # the decisions on dev are the ones the tuner promised
    assert outcome_metrics(dev, written)["outcomes"] == r.dev["outcomes"]
    # tuning again replaces the tuned section instead of stacking a second one
    again = render_policy(new_text, written, r, figures)
    assert again.count("tuned by `triage tune`") == 1


def test_margin_separates_near_ties_that_scores_cannot(base: Policy) -> None:
    """Wrong answers that match as well as right ones, but with a runner-up just behind: only the
    margin rule can keep them, and the tuner finds it."""
    dev: list[Trace] = []
    for i in range(20):
        t = _trace(i, score=0.7 + 0.005 * i, conf=0.9, right=i % 4 != 0)
        gap = 0.01 if i % 4 == 0 else 0.12
        t.hits.append(t.hits[0].model_copy(update={"doc_id": "KB-ALT", "score": round(t.hits[0].score - gap, 4)}))
        dev.append(t)
    r = tune(dev, base, max_wrong=0.0, min_handoff_recall=None)
    m = outcome_metrics(dev, r.policy)
    assert m["wrong_resolutions"] == 0 and m["outcomes"]["auto_resolve"] == 15
    assert 0.01 < r.auto_min_margin <= 0.12
    near_tie = next(t for t in dev if t.case.id == "c0")
    assert "ambiguous_match" in near_tie.decide(r.policy).rules


def test_cross_validation_reports_what_the_dev_figures_hide(base: Policy) -> None:
    """One wrong answer in the middle of the score range: in-sample the tuner steps around it; a
    fold that never saw it cannot, and the cross-validated estimate says so."""
    dev = [_trace(i, score=0.6 + 0.01 * i, conf=0.9, right=i != 10) for i in range(20)]
    r = tune(dev, base, max_wrong=0.0, min_handoff_recall=None, cv_folds=5)
    assert r.dev["wrong_resolutions"] == 0 and r.dev["outcomes"]["auto_resolve"] == 9
    assert r.cv is not None and r.cv["folds"] == 5
    assert r.cv["wrong_resolutions"] == 1 and sum(r.cv["outcomes"].values()) == 20
    assert any("cross-validated" in n for n in r.notes)
