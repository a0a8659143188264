"""The nearest-document category vote (agent/graph/nodes/classify.py): its temperature is the
policy's, on the embedder's cosine scale, and `triage tune` fits it by log-loss (evals/tune.py)."""

from __future__ import annotations

import math

import pytest

from agent.domain import Scored, Triage
from agent.graph.nodes.classify import nearest_doc_category
from agent.graph.policy import Policy, load_policy
from agent.settings import REPO_ROOT
from evals.resolve.data import Case
from evals.resolve.replay import Trace
from evals.tune import fit_vote_temperature, format_vote_fit
from knowledge.types import Hit
from tests.unit.minilm_policy import minilm_policy_file


def hit(doc: str, score: float, category: str) -> Hit:
    return Hit(doc_id=doc, chunk_id=f"{doc}#0", title=doc, doc_type="kb", score=score, text="", category=category)


# e5-like: five hits within 0.03 cosine, the best one's category in the minority
COMPRESSED = [
    hit("A", 0.900, "payslips"),
    hit("B", 0.885, "payroll_run"),
    hit("C", 0.880, "payroll_run"),
    hit("D", 0.875, "payroll_run"),
    hit("E", 0.872, "payslips"),
]


def policy_with_temperature(t: float) -> Policy:
    base = load_policy(minilm_policy_file())
    return base.model_copy(
        update={"retrieval": base.retrieval.model_copy(update={"vote_temperature": t, "out_of_scope_below": 0.5})}
    )


def test_a_wide_temperature_counts_heads_a_narrow_one_follows_the_best_match() -> None:
    wide, wide_conf, wide_share = nearest_doc_category(COMPRESSED, policy_with_temperature(0.05))
    narrow, narrow_conf, _ = nearest_doc_category(COMPRESSED, policy_with_temperature(0.007))
    # at MiniLM's 0.05 the five nearly equal cosines weigh nearly alike: three payroll_run hits win
    assert wide == "payroll_run" and 0.5 < wide_conf < 0.65 and math.isclose(sum(wide_share.values()), 1.0)
    # at e5's scale the best match stands out by 0.015 = two temperatures: its category wins
    assert narrow == "payslips" and narrow_conf > 0.5
    # an explicit temperature overrides the policy's
    assert nearest_doc_category(COMPRESSED, policy_with_temperature(0.05), 0.007)[0] == "payslips"


def test_the_shipped_policy_votes_on_e5s_scale_and_the_minilm_one_on_minilms() -> None:
    shipped = load_policy(REPO_ROOT / "agent" / "graph" / "policy.yaml")
    assert shipped.retrieval.vote_temperature < 0.02  # e5: unrelated pairs ~0.8, matches ~0.85-0.95
    assert load_policy(minilm_policy_file()).retrieval.vote_temperature == 0.05


def test_out_of_scope_hits_vote_other_whatever_the_temperature() -> None:
    low = [hit("A", 0.3, "payslips")]
    assert nearest_doc_category(low, policy_with_temperature(0.007))[0] == "other"
    assert nearest_doc_category([], policy_with_temperature(0.007))[0] == "other"


def _trace(i: int, gold: str, hits: list[Hit]) -> Trace:
    triage = Triage(
        category=Scored[str](value="payslips", confidence=0.5),
        priority=Scored[str](value="normal", confidence=0.6),
        language=Scored[str](value="en", confidence=0.9),
        sentiment=Scored[str](value="neutral", confidence=0.6),
        risk=Scored[list[str]](value=[], confidence=0.6),
        sources={"category": "nearest_doc"},
    )
    case = Case(id=f"c{i}", subject="s", body="b", gold_doc_ids=[hits[0].doc_id], intent=gold)
    return Trace(case, triage, hits, "en", False, None, [], None, {}, 0.0, "suggest")


def test_the_log_loss_fit_prefers_the_temperature_that_puts_the_gold_category_first() -> None:
    policy = policy_with_temperature(0.05)
    # the best match's category is the gold one in 8 of 10 tickets, the majority's in 2
    traces = [_trace(i, "payslips", COMPRESSED) for i in range(8)]
    traces += [_trace(10 + i, "payroll_run", COMPRESSED) for i in range(2)]
    traces.append(_trace(20, "other", COMPRESSED))  # not a category the vote can be right about: left out
    fit = fit_vote_temperature(traces, policy)
    assert fit.tickets == 10 and fit.best is not None
    assert fit.best < 0.05 and fit.log_loss[fit.best] < fit.log_loss[0.05]
    assert fit.accuracy[fit.best] == pytest.approx(0.8)
    assert f"lowest at {fit.best}" in format_vote_fit(fit, policy)
    # when the majority is right, a wide temperature fits better
    flipped = fit_vote_temperature([_trace(i, "payroll_run", COMPRESSED) for i in range(10)], policy)
    assert flipped.best is not None and flipped.best >= 0.05
    assert fit_vote_temperature([], policy).best is None
