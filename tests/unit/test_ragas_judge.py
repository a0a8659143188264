"""`--judge`: ragas's Faithfulness and AnswerRelevancy run with our chat model (the scripted double,
answering ragas's own prompts in ragas's response models) and an embedder double with known
geometry; a model that cannot answer ragas's prompt falls back to ours per case, and a case neither
scores is counted, never raised."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import ClassVar

import numpy as np
import pytest
from numpy.typing import NDArray

from agent.domain import Draft, Scored, Triage
from agent.graph.testing import ScriptedChatModel
from agent.settings import REPO_ROOT
from evals.judge import RagasJudge, add_verdict, judge, judge_settings, model_recovery
from evals.resolve.data import Case
from evals.resolve.replay import Trace
from knowledge.types import Hit
from tests.conftest import make_settings

PROMPTS = REPO_ROOT / "prompts"
TICKET = "How do I reset 2FA?"
REPLY = "Open Settings > Security and click Reset 2FA. The new code arrives by SMS. You get a free month."
DOC = "KB-003: Settings > Security > Reset 2FA. The new code is sent by SMS."


class AxisEncoder:
    """Each known text is a fixed vector; cosines are exact. Only queries: the judge compares the
    ticket with generated questions, never with passages (a passage call fails the test)."""

    VECTORS: ClassVar[dict[str, list[float]]] = {
        TICKET: [1.0, 0.0],
        "How can I reset two-factor authentication?": [1.0, 0.0],  # cos 1
        "What does the premium plan cost?": [0.6, 0.8],  # cos 0.6
    }

    def __init__(self) -> None:
        self.queries: list[str] = []

    def encode_queries(self, texts: Sequence[str]) -> NDArray[np.float32]:
        self.queries += texts
        return np.asarray([self.VECTORS.get(t, [0.0, 1.0]) for t in texts], dtype=np.float32)

    def encode_passages(self, texts: Sequence[str]) -> NDArray[np.float32]:
        raise AssertionError(f"the judge embedded {list(texts)} as passages")


def statements(*sts: str) -> dict[str, list[str]]:
    return {"statements": list(sts)}


def verdicts(*pairs: tuple[str, int]) -> dict[str, list[dict[str, object]]]:
    return {"statements": [{"statement": s, "reason": "because", "verdict": v} for s, v in pairs]}


def question(q: str, noncommittal: int = 0) -> dict[str, object]:
    return {"question": q, "noncommittal": noncommittal}


THREE = ("Reset 2FA is under Settings > Security.", "The code arrives by SMS.", "The customer gets a free month.")


def trace(case_id: str, reply: str = REPLY, citations: tuple[str, ...] = ("KB-003",)) -> Trace:
    triage = Triage(
        category=Scored[str](value="account", confidence=0.8),
        priority=Scored[str](value="normal", confidence=0.5),
        language=Scored[str](value="en", confidence=0.9),
        sentiment=Scored[str](value="neutral", confidence=0.5),
        risk=Scored[list[str]](value=[], confidence=0.9),
    )
    hit = Hit(doc_id="KB-003", chunk_id="KB-003#0", title="2FA", doc_type="kb", score=0.8, text="chunk text")
    return Trace(
        case=Case(id=case_id, subject="", body=TICKET, gold_doc_ids=["KB-003"]),
        triage=triage,
        hits=[hit],
        query_language="en",
        compound=False,
        draft=Draft(text=reply, citations=list(citations), language="en") if reply else None,
        findings=[],
        approval=None,
        prompts={},
        seconds=0.01,
        permissive_action="auto_resolve",
    )


def test_ragas_faithfulness_is_the_supported_share_of_its_statements() -> None:
    model = ScriptedChatModel(replies=[statements(*THREE), verdicts((THREE[0], 1), (THREE[1], 1), (THREE[2], 0))])
    rj = RagasJudge(model, AxisEncoder())
    assert rj.faithfulness(TICKET, REPLY, [DOC]) == pytest.approx(2 / 3)
    split, nli = (call[-1]["content"] for call in model.calls)
    # ragas's prompts, with the ticket, the reply and the documents in them
    assert "Break down each sentence into one or more fully understandable statements" in split
    assert TICKET in split and "free month" in split
    assert "judge the faithfulness of a series of statements" in nli
    assert "Reset 2FA. The new code is sent by SMS." in nli and THREE[2] in nli


def test_ragas_answer_relevancy_is_the_cosine_of_the_generated_question() -> None:
    on = ScriptedChatModel(replies=[question("How can I reset two-factor authentication?")])
    off = ScriptedChatModel(replies=[question("What does the premium plan cost?")])
    evasive = ScriptedChatModel(replies=[question("How can I reset two-factor authentication?", noncommittal=1)])
    enc = AxisEncoder()
    assert RagasJudge(on, enc).answer_relevancy(TICKET, REPLY) == pytest.approx(1.0)
    assert sorted(enc.queries) == sorted([TICKET, "How can I reset two-factor authentication?"])
    assert RagasJudge(off, AxisEncoder()).answer_relevancy(TICKET, REPLY) == pytest.approx(0.6)
    assert RagasJudge(evasive, AxisEncoder()).answer_relevancy(TICKET, "A colleague will follow up.") == 0.0
    assert "Generate a question for the given answer" in on.calls[0][-1]["content"]
    assert len(on.calls) == 1  # strictness 1: a temperature-0 judge would repeat its question


def test_judge_scores_by_ragas_falls_back_per_case_and_counts_failures() -> None:
    model = ScriptedChatModel(
        replies=[
            # ok: ragas faithfulness (2 calls), ragas relevancy (1 call)
            statements(*THREE),
            verdicts((THREE[0], 1), (THREE[1], 1), (THREE[2], 0)),
            question("How can I reset two-factor authentication?"),
            # fallback: ragas's statements come back unparseable -> our prompt's verdicts
            "Sure! Here are the statements: 1. ...",
            {"verdicts": [True, False, False]},
            question("What does the premium plan cost?"),
            # failed: neither ragas's prompt nor ours gets an answer; relevancy still by ragas
            TimeoutError("judge timed out"),
            "not json",
            question("How can I reset two-factor authentication?", noncommittal=1),
            # no statements: ragas's NaN, left out of the mean
            statements(),
            question("How can I reset two-factor authentication?"),
        ]
    )
    traces = [trace("ok"), trace("fallback"), trace("failed"), trace("no-statements"), trace("no-draft", reply="")]
    v = judge(traces, model, PROMPTS, AxisEncoder(), lambda d: DOC, "scripted/judge")

    rows = {r["id"]: r for r in v["cases"]}
    assert set(rows) == {"ok", "fallback", "failed", "no-statements"}  # only drafts are judged
    assert (rows["ok"]["faithfulness"], rows["ok"]["faithfulness_by"]) == (pytest.approx(0.6667, abs=1e-4), "ragas")
    assert (rows["fallback"]["faithfulness"], rows["fallback"]["faithfulness_by"]) == (
        pytest.approx(1 / 3, abs=1e-4),
        "fallback",
    )
    assert "StatementGeneratorOutput" in rows["fallback"]["errors"][0]
    assert rows["failed"]["faithfulness_by"] is None and rows["failed"]["faithfulness"] is None
    assert [e.split(":")[0] for e in rows["failed"]["errors"]] == ["ragas", "fallback"]
    assert rows["no-statements"]["faithfulness"] is None and rows["no-statements"]["faithfulness_by"] == "ragas"

    assert v["faithfulness"] == pytest.approx((2 / 3 + 1 / 3) / 2, abs=1e-4)
    assert v["faithfulness_cases"] == {
        "scored": 2,
        "by_ragas": 2,  # ok, and no-statements (scored NaN)
        "by_fallback": 1,
        "no_score": 1,
        "failed": 1,
        "ragas_mean": pytest.approx(0.6667, abs=1e-4),
        "fallback_mean": pytest.approx(0.3333, abs=1e-4),
    }
    assert v["answer_relevancy"] == pytest.approx((1.0 + 0.6 + 0.0 + 1.0) / 4, abs=1e-4)
    assert v["answer_relevancy_cases"]["by_ragas"] == 4 and v["answer_relevancy_cases"]["failed"] == 0
    assert v["judged_drafts"] == 4
    assert v["metrics_by"]["faithfulness"] == (
        "ragas 0.4.3 Faithfulness (2 cases); our prompt judge_faithfulness as fallback (1 cases); 1 failed"
    )
    assert v["metrics_by"]["answer_relevancy"].startswith("ragas 0.4.3 AnswerRelevancy")
    assert len(model.calls) == 11  # every scripted reply used, in order

    result: dict[str, object] = {"run": {"prompts": {"draft": "3"}, "metrics_by": {"context_recall": "ragas"}}}
    add_verdict(result, v)
    run = result["run"]
    assert isinstance(run, dict)
    assert run["prompts"] == {"draft": "3", "judge_faithfulness": "1"}  # our relevancy prompt was not used
    assert set(run["metrics_by"]) == {"context_recall", "faithfulness", "answer_relevancy"}
    assert result["faithfulness"] == v["faithfulness"] and not math.isnan(float(str(result["answer_relevancy"])))


def test_after_a_connection_error_the_judge_waits_for_the_model_before_its_next_call() -> None:
    model = ScriptedChatModel(
        replies=[
            ConnectionError("model process restarting"),  # ragas's statements
            {"verdicts": [True, True, False]},  # our prompt, after the model is back
            question("How can I reset two-factor authentication?"),
        ]
    )
    waits: list[int] = []
    v = judge(
        [trace("t")],
        model,
        PROMPTS,
        AxisEncoder(),
        lambda d: DOC,
        "scripted/judge",
        recover=lambda: waits.append(len(model.calls)),
    )
    assert waits == [1]  # once, between the failed call and the next
    row = v["cases"][0]
    assert (row["faithfulness"], row["faithfulness_by"]) == (pytest.approx(2 / 3, abs=1e-4), "fallback")
    assert row["answer_relevancy_by"] == "ragas"
    # an answer the model got wrong is not a reason to wait
    unparseable = ScriptedChatModel(replies=["not json", {"verdicts": [True]}, question("x")])
    judge([trace("t")], unparseable, PROMPTS, AxisEncoder(), lambda d: DOC, "s/j", recover=lambda: waits.append(-1))
    assert waits == [1]


def test_the_judge_may_run_as_long_as_the_supervisor_allows_and_waits_only_for_a_local_model() -> None:
    s = make_settings(REPO_ROOT / "data", llm="llamacpp/smollm2-135m", llm_timeout_s=30.0, model_hang_after_s=200.0)
    assert judge_settings(s).llm_timeout_s == 200.0
    assert judge_settings(s.model_copy(update={"llm_timeout_s": 500.0})).llm_timeout_s == 500.0
    assert model_recovery(s.model_copy(update={"llm": "openai/gpt-4o-mini"})) is None
    wait = model_recovery(s.model_copy(update={"model_url": "http://127.0.0.1:9", "model_start_timeout_s": 0.05}), 0.01)
    assert wait is not None
    wait()  # nothing answers on the discard port: gives up after model_start_timeout_s
