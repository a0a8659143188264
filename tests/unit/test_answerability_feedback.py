"""`triage answerability train --feedback`: the agents' verdicts exported by `triage export-feedback`
are extra training examples of every model (both halves), never measured on."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from agent.graph.answerability import FEATURES
from agent.graph.policy import load_policy
from agent.settings import Settings
from evals.answerability import SetRun, TrainingSet, examples, feedback_set, train
from evals.resolve.data import Case
from evals.resolve.replay import Trace
from evals.resolve.run import half_of
from tests.unit.test_answerability import hit, triage

EMBEDDER = "bundled:multilingual-e5-small"


def traces(name: str, n: int, seed: int) -> list[Trace]:
    rnd = random.Random(seed)
    out: list[Trace] = []
    for i in range(n):
        resolves = i % 2 == 0
        gold = ["KB-009"] if resolves else ["KB-010"]
        feats = {f: rnd.random() * 0.3 + (0.6 if resolves else 0.1) for f in FEATURES}
        out.append(
            Trace(
                case=Case(f"{name}-{i}", "s", "b", gold, True, "auto_resolve"),
                triage=triage(),
                hits=[hit("KB-009", 0.95, 1, 1, 0.033), hit("KB-010", 0.9, 2, 2, 0.032)],
                query_language="en",
                compound=False,
                draft=None,
                findings=[],
                approval=None,
                prompts={},
                seconds=0.0,
                permissive_action="suggest",
                features=feats,
                embedder=EMBEDDER,
            )
        )
    return out


def run(name: str, n: int, seed: int, extra: bool = False) -> SetRun:
    spec = TrainingSet(name, Path("kb"), Path("cases.jsonl"), extra=extra)
    return SetRun(spec, traces(name, n, seed), load_policy(Settings().policy_file), EMBEDDER)


@pytest.fixture
def cases_file(tmp_path: Path) -> Path:
    path = tmp_path / "cases.jsonl"
    path.write_text("{}\n", encoding="utf-8")  # train() hashes the cases file of every set
    return path


def test_feedback_examples_are_all_trained_on_and_never_measured(
    cases_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(cases_file.parent)
    runs = [run("a", 40, 1), run("b", 40, 2), run("feedback", 30, 3, extra=True)]
    result = train(runs, max_wrong=0.5)
    sets = result.model.training["sets"]
    assert sets["feedback"]["half"] == "all" and sets["a"]["half"] == "train"
    assert sets["feedback"]["examples"] == len(examples(runs[2])) == 30  # both halves of the feedback
    assert sets["a"]["examples"] == sum(half_of(t.case.id) == "train" for t in runs[0].traces)
    assert result.model.training["examples"] == sum(s["examples"] for s in sets.values())
    measured = {f.set for f in [*result.final, *result.lodo, *result.lodo_tune]}
    assert measured == {"a", "b"}
    assert "feedback" not in result.final_at_default and "feedback" not in result.lodo_at_default


def test_feedback_alone_is_refused(cases_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(cases_file.parent)
    with pytest.raises(ValueError, match="besides the feedback file"):
        train([run("feedback", 30, 3, extra=True)])


def test_one_labelled_set_alone_is_refused_with_a_reason(cases_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Leave one dataset out has nothing to fit on without it (it was a ZeroDivisionError)."""
    monkeypatch.chdir(cases_file.parent)
    with pytest.raises(ValueError, match="leave one dataset out needs examples besides a's"):
        train([run("a", 40, 1)])
    assert train([run("a", 40, 1), run("feedback", 30, 3, extra=True)], max_wrong=0.5).model.training["sets"]


def test_feedback_set_reads_the_exported_file_against_the_service_kb(tmp_path: Path) -> None:
    spec = feedback_set(tmp_path / "feedback.jsonl", tmp_path / "kb")
    assert spec.extra and spec.name == "feedback" and spec.cases == tmp_path / "feedback.jsonl"
