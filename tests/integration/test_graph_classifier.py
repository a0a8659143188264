"""The graph with a trained classifier (trained here on the shipped history, real embedder and
Chroma) and a scripted LLM: who decides which field, and when the LLM is asked."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest

from agent.domain import Customer, Ticket
from agent.graph.classifier.data import read_labelled
from agent.graph.classifier.model import TrainParams, TriageClassifier, train
from agent.graph.context import AgentContext
from agent.graph.policy import load_policy
from agent.graph.testing import ScriptedChatModel
from agent.runtime.assembly import Agent, open_knowledge
from agent.settings import REPO_ROOT, Settings

HISTORY = REPO_ROOT / "evals" / "datasets" / "history.jsonl"
FIELDS = ["category", "priority", "sentiment"]


@pytest.fixture(scope="module")
def classifier(tmp_path_factory: pytest.TempPathFactory) -> TriageClassifier:
    data = read_labelled(HISTORY, ["subject+body"], FIELDS)
    clf = train(data, "bundled:all-MiniLM-L6-v2", tmp_path_factory.mktemp("clf") / "m", TrainParams(fine_tune_epochs=0))
    clf.save()
    return clf


def with_thresholds(clf: TriageClassifier, value: float) -> TriageClassifier:
    """A copy whose every field is (value 0.0) always confident or (value 1.01) never confident."""
    fields = {n: copy.copy(fm) for n, fm in clf.fields.items()}
    for fm in fields.values():
        fm.threshold = value
    return TriageClassifier(fields, clf.encoder, clf.manifest)


def agent(settings: Settings, clf: TriageClassifier, replies: list | None) -> tuple[Agent, ScriptedChatModel | None]:
    llm = ScriptedChatModel(replies=replies) if replies is not None else None
    ctx = AgentContext(
        settings=settings,
        policy=load_policy(settings.policy_file),
        knowledge=open_knowledge(settings),
        llm=llm,
        classifier=clf,
    )
    return Agent(ctx), llm


PAYSLIP = Ticket(
    id="c-1",
    external_id="Z-c1",
    subject="Payslip not received",
    body="Hi, one of our employees never got her March payslip by email, can you resend it? Thanks!",
    customer=Customer(name="Acme", tier="premium"),
)
POEM = Ticket(
    id="c-2",
    external_id="Z-c2",
    subject="poem",
    body="Please write me a short poem about the sea and the stars for my mum.",
)


def test_confident_classifier_decides_and_the_llm_only_drafts(
    demo_settings: Settings, classifier: TriageClassifier
) -> None:
    ag, llm = agent(demo_settings, with_thresholds(classifier, 0.0), ["Open the profile, click Resend [KB-009]."])
    state = ag.run(PAYSLIP)
    triage = state["triage"]
    assert triage.decided_by == "classifier"
    assert triage.category.value == "payslips"
    assert triage.sources["category"] == triage.sources["priority"] == triage.sources["sentiment"] == "classifier"
    assert triage.model_version == classifier.version
    assert llm is not None and len(llm.calls) == 1  # the draft; classification cost no LLM call
    assert "classify" not in state.get("prompts", {})


def test_unsure_classifier_asks_the_llm_with_its_candidates(
    demo_settings: Settings, classifier: TriageClassifier
) -> None:
    reply = {
        "category": "payslips",
        "category_confidence": 0.9,
        "priority": "low",
        "priority_confidence": 0.8,
        "sentiment": "neutral",
        "sentiment_confidence": 0.8,
        "risk_flags": [],
        "risk_confidence": 0.9,
    }
    ag, llm = agent(demo_settings, with_thresholds(classifier, 1.01), [reply, "Click Resend payslip [KB-009]."])
    state = ag.run(PAYSLIP)
    triage = state["triage"]
    assert triage.decided_by == "llm" and triage.sources["category"] == "llm"
    assert llm is not None
    prompt = " ".join(m["content"] for m in llm.calls[0])
    assert "A classifier trained on this team's past tickets" in prompt
    found = re.search(r"- category: payslips ([01]\.\d\d)", prompt)
    assert found, prompt
    # confidence blends the LLM's 0.9 with the classifier's calibrated probability of that label
    p = float(found.group(1))
    assert triage.category.confidence == pytest.approx(0.5 * 0.9 + 0.5 * p, abs=0.006)


def test_without_an_llm_the_classifier_still_decides(demo_settings: Settings, classifier: TriageClassifier) -> None:
    ag, _ = agent(demo_settings, classifier, None)
    state = ag.run(PAYSLIP)
    assert state["triage"].decided_by == "classifier"
    assert state["triage"].category.value == "payslips"
    event = next(e for e in state["audit"] if e.node == "classify")
    assert set(event.detail["classifier"]) == set(FIELDS)


def test_without_an_llm_an_unsure_classifier_category_gives_way_to_the_nearest_documents(
    demo_settings: Settings, classifier: TriageClassifier
) -> None:
    ag, _ = agent(demo_settings, with_thresholds(classifier, 1.01), None)  # never confident
    state = ag.run(PAYSLIP)
    triage = state["triage"]
    assert triage.decided_by == "nearest_doc" and triage.sources["category"] == "nearest_doc"
    assert triage.category.value == "payslips"  # the vote of the payslip articles
    assert triage.sources["priority"] == "classifier"  # only the category defers to the vote
    event = next(e for e in state["audit"] if e.node == "classify")
    assert event.detail["classifier"]["category"]["confident"] is False  # what it said is still audited


def test_out_of_scope_ticket_is_handed_off(demo_settings: Settings, classifier: TriageClassifier) -> None:
    ag, _ = agent(demo_settings, classifier, None)
    state = ag.run(POEM)
    assert state["triage"].category.value == "other"
    assert state["decision"].action == "handoff" and "out_of_scope" in state["decision"].rules


def test_service_loads_the_saved_artefact(tmp_path: Path, classifier: TriageClassifier) -> None:
    from agent.runtime.assembly import load_classifier

    s = Settings(data_dir=tmp_path, classifier_dir=classifier.encoder.directory.parent)
    loaded = load_classifier(s)
    assert loaded is not None and loaded.version == classifier.version


def test_labels_the_policy_does_not_know_are_not_used_for_routing(demo_settings: Settings, tmp_path: Path) -> None:
    from agent.graph.classifier.data import LabelledSet
    from agent.runtime.assembly import check_labels

    rows = [
        ("payslip did not arrive", "payslip_missing"),
        ("resend my payslip please", "payslip_missing"),
        ("where is my pay slip", "payslip_missing"),
        ("I forgot my password", "password_reset"),
        ("reset password link", "password_reset"),
        ("cannot log in, password wrong", "password_reset"),
    ]
    data = LabelledSet("t", [t for t, _ in rows], {"category": [lab for _, lab in rows]}, "0" * 64)
    clf = train(data, "bundled:all-MiniLM-L6-v2", tmp_path / "m", TrainParams(fine_tune_epochs=0, folds=3))
    ag, _ = agent(demo_settings, clf, None)
    assert check_labels(ag.context) == ["password_reset", "payslip_missing"]
    state = ag.run(PAYSLIP)
    assert state["triage"].sources["category"] == "nearest_doc"
    assert state["triage"].category.value == "payslips"
