"""The learned risk detector (agent/graph/risk/): the shipped model, its file, and its path through the graph."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from agent.domain import RISK_FLAGS, Customer, Ticket
from agent.graph.policy import load_policy
from agent.graph.risk import KIND_FLAGS, KINDS, careful_notes, shipped_model
from agent.graph.risk.data.history_labels import HISTORY_RISKY
from agent.graph.risk.data_io import DEFAULT_DATA, load_examples
from agent.graph.risk.model import SHIPPED_MODEL, RiskModelError, load_model
from agent.settings import Settings
from tests.unit.conftest import offline_agent
from tests.unit.minilm_policy import minilm_policy_file

POLICY_FILE = minilm_policy_file()  # the shipped policy, retrieval thresholds on MiniLM's scale
HISTORY = Path(__file__).resolve().parents[2] / "evals" / "datasets" / "history.jsonl"
POLICY = load_policy(POLICY_FILE)  # the shipped policy: the learned detector is on by default
# the same policy with the learned detector turned off
RULES_ONLY = POLICY.model_copy(update={"risk": POLICY.risk.model_copy(update={"model": None})})


@pytest.fixture
def model_on(settings: Settings) -> Settings:
    """The test settings, whose policy file is the shipped one (the learned detector on)."""
    assert load_policy(settings.policy_file).risk.model == "risk/risk_model.json"
    return settings


@pytest.fixture
def model_off(settings: Settings, tmp_path: Path) -> Settings:
    """Settings whose policy file is the shipped one with `risk.model: null`."""
    text = POLICY_FILE.read_text(encoding="utf-8")
    assert "\n  model: risk/risk_model.json\n" in text
    path = tmp_path / "policy.yaml"
    path.write_text(text.replace("\n  model: risk/risk_model.json\n", "\n  model: null\n", 1), encoding="utf-8")
    return settings.model_copy(update={"policy_file": path})


# Written for this test, not in the dataset; none of them contains a word the keyword rules know.
RISKY = [
    (
        "en",
        "security",
        "Question about login\n\nHi, over the weekend a person we don't know got into our finance manager's "
        "profile and redirected three people's pay to new accounts. Anyway, how do I change my password?",
    ),
    (
        "en",
        "security",
        "2FA\n\nA caller said he was from your team and my colleague read him the six-digit code from her "
        "phone. By the way, how do I reset 2FA?",
    ),
    # the TF-IDF part alone missed this one until the retrain on the blind-written situations (2026-12-02)
    (
        "uk",
        "security",
        "Пароль\n\nДобрий день. Хтось чужий зайшов у профіль нашої бухгалтерки і поміняв картки для виплат "
        "трьом працівникам. Загалом, як мені змінити пароль?",
    ),
    # the TF-IDF part alone (the fallback without e5) scored it 0.905 at its threshold 0.903 before the
    # 2026-12-03 retrain and 0.844 at 0.951 after it (the help-centre cores taught it that refunds are
    # ordinary); the semantic part flags it (tests/integration/test_risk_semantic.py)
    pytest.param(
        "uk",
        "legal",
        "Питання\n\nЯкщо до понеділка не повернете гроші, будемо стягувати їх через правові механізми і вимагати "
        "компенсацію. І ще: як додати користувача?",
        marks=pytest.mark.xfail(strict=True, reason="missed by the TF-IDF fallback alone; the full model flags it"),
    ),
]
# the double salary of the issue: the model scored these 0.64-0.83 (under the hand-off threshold, at times
# under the review zone too); a rule of the policy now catches pay that went out twice however it is said
DOUBLE_PAY = [
    "Payslips\n\nThe bank ran the salary file twice so everybody got November's pay two times. "
    "Also, where can I download the payslips?",
    "Розрахункові листи\n\nБанк провів відомість два рази, і кожен отримав листопадову зарплату подвійно. "
    "Де завантажити розрахункові листи?",
]
HARD_NEGATIVES = [
    # the ticket the first semantic part handed off as account takeover (issue 13)
    "Need help\n\nMaria never received her October payslip email, could you resend it?",
    "Password\n\nI forgot my password and the reset link doesn't arrive, where should I look?",
    "Bonus\n\nHow do we pay a one-off bonus to five people separately from the monthly payroll?",
    # real ordinary tickets the earlier recall-first model flagged (long defect reports)
    "Payslip not received\n\nHi, one of our employees says she never got her October payslip by email. "
    "Everyone else did. Can you send it again or tell me how I do it? Thanks, Olena",
    "Night shift hours doubled\n\nSince the clocks went back some of our night nurses' timesheets show 17 hours "
    "for the 20:00-08:00 shift, and the night premium appears twice. We need this fixed before we approve payroll.",
    "Audit\n\nOur auditors want copies of last year's invoices, where do I download them?",
    "Пароль\n\nЗабула пароль, як його відновити?",
    "Податковий розрахунок\n\nЯк вивантажити XML податкового розрахунку для M.E.Doc?",
    "2FA\n\nI got a new phone, how do I move my authenticator codes?",
]


def detected_flags(text: str) -> set[str]:
    """What the classify node flags, rules OR model, limited to the flags that hand off."""
    det = POLICY.detect_risk_model(text, embedder=None)  # no embedder in unit tests: the TF-IDF part alone
    assert det is not None and det.semantic_status.startswith("no embedder")
    return {f for f in POLICY.detect_risk(text) if f in POLICY.risk.handoff} | set(det.flags)


def test_shipped_model_loads_and_names_its_training() -> None:
    model = shipped_model()
    assert model.classes[0] == "none" and set(model.classes[1:]) == set(KINDS)
    assert 0.0 < model.threshold < 1.0
    assert model.manifest["data"]["split_used"] == "dev"
    cv = model.manifest["metrics"]["cv_combined"]
    # the threshold: recall first, flagging at most 2% of the real (history) ordinary dev tickets (CV)
    assert cv["real_false_flag_rate"] <= model.manifest["params"]["max_real_false_flags_combined"] <= 0.02
    assert cv["precision"] >= 0.8 and cv["threshold"] == model.threshold
    # the recall-first point is recorded (and shows why it is not shipped)
    assert cv["recall_first"]["recall"] >= 0.98 and cv["recall_first"]["real_false_flag_rate"] > 0.05
    # the TF-IDF part alone (the fallback): at most 2%
    lexical = model.manifest["metrics"]["cv_lexical_combined"]
    assert lexical["real_false_flag_rate"] <= model.manifest["params"]["max_real_false_flags"] <= 0.02


def test_the_review_zone_is_the_one_chosen_on_dev_and_sits_under_the_handoff_threshold() -> None:
    model = shipped_model()
    zone = model.manifest["metrics"]["cv_review_zone"]
    assert POLICY.risk.model_review_threshold == zone["threshold"] == zone["zone"][0]
    assert zone["zone"][1] == model.threshold and zone["threshold"] < model.threshold
    # cross-validated: at most 6% of real ordinary dev tickets reach it, and it finds more risky ones
    # (keeps at least 0.8 of them from being auto-sent, as the policy file says)
    assert zone["real_false_flag_rate"] <= model.manifest["params"]["max_real_reviewed"] <= 0.06
    assert zone["recall"] > model.manifest["metrics"]["cv_combined"]["recall"] and zone["recall"] >= 0.8
    # the other caps are recorded, and the shipped one is among them with the same threshold
    curve = {row["cap"]: row for row in model.manifest["metrics"]["cv_review_curve"]}
    assert curve[model.manifest["params"]["max_real_reviewed"]]["threshold"] == zone["threshold"]
    assert [curve[c]["recall"] for c in sorted(curve)] == sorted(curve[c]["recall"] for c in curve)
    assert "possible_risk" in POLICY.risk.at_most_suggest


def test_the_dataset_has_hundreds_of_hard_negatives_and_the_later_cores_keep_their_split() -> None:
    from agent.graph.risk.data.build import more_cores, more_split

    rows = load_examples(DEFAULT_DATA)
    later = [r for r in rows if r.group.startswith("M")]
    cores = more_cores()
    assert sum(kind is None for _, _, kind in cores) >= 300 and {lang for _, lang, _ in cores} == {"en", "uk"}
    assert {kind for _, _, kind in cores if kind} == set(KINDS)
    by_group = {f"M{i:03d}": more_split(text) for i, (text, _, _) in enumerate(cores)}
    assert later and all(r.split == by_group[r.group] for r in later)
    assert 0.2 < sum(s == "test" for s in by_group.values()) / len(by_group) < 0.4


def test_the_shipped_policy_turns_the_model_on() -> None:
    assert POLICY.risk.model == "risk/risk_model.json" and POLICY.risk.model_threshold is None
    det = POLICY.detect_risk_model("How do I add a new user?", embedder=None)
    # without an embedder (unit tests: an in-memory KB) the TF-IDF part decides at its own threshold;
    # tests/integration/test_risk_semantic.py runs the semantic part
    assert det is not None and not det.flagged and det.threshold == shipped_model().fallback_threshold


def test_every_history_ticket_is_in_the_dataset_with_its_hand_label() -> None:
    history = [json.loads(line) for line in HISTORY.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = {r.id: r for r in load_examples(DEFAULT_DATA) if r.source == "history"}
    assert set(rows) == {t["id"] for t in history} and len(rows) == 300
    for t in history:
        row = rows[t["id"]]
        assert row.text == f"{t['subject']}\n\n{t['body']}" and row.language == t["language"]
        assert row.kind == HISTORY_RISKY.get(t["id"])
    # the plainly risky ones
    assert rows["H0031"].risk and rows["H0106"].kind == "leaked_credentials" and rows["H0244"].kind == "data_breach"
    assert not rows["H0002"].risk  # an export format question
    test_share = sum(r.split == "test" for r in rows.values()) / len(rows)
    assert 0.2 < test_share < 0.4


def test_every_demo_dev_ticket_is_in_the_dataset_with_its_gold_risk() -> None:
    from agent.graph.risk.data.build import DEMO_KINDS, DEMO_SETS

    rows = {r.id: r for r in load_examples(DEFAULT_DATA) if r.source == "demo"}
    tickets = [json.loads(line) for path in DEMO_SETS for line in path.read_text(encoding="utf-8").splitlines() if line]
    assert len(DEMO_SETS) == 4 and set(rows) == {t["id"] for t in tickets} and len(rows) == len(tickets) >= 320
    # the later blind sets stay out: they check what the model learnt
    assert not any(r.startswith(("I", "J")) for r in rows)
    for t in tickets:
        row, gold = rows[t["id"]], set(t["gold"].get("risk") or [])
        assert row.text == f"{t['subject']}\n\n{t['body']}" and row.language == t["language"]
        # risky exactly when the gold names a flag the model raises; the rules own prompt_injection
        assert row.risk == bool(gold - {"prompt_injection"})
        assert row.kind is None or set(KIND_FLAGS[row.kind]) & gold
    assert rows["S009"].kind == DEMO_KINDS["S009"] == "data_breach" and rows["S032"].kind == "regulatory"
    assert rows["S001"].kind == "payment_fraud" and not rows["S003"].risk
    assert 0.2 < sum(r.split == "test" for r in rows.values()) / len(rows) < 0.4


@pytest.mark.parametrize(
    ("lang", "flag", "text"),
    RISKY,
    ids=[f"{r.values[0] if isinstance(r, type(pytest.param())) else r[0]}-{i}" for i, r in enumerate(RISKY)],
)
def test_risk_phrased_without_keywords_is_flagged(lang: str, flag: str, text: str) -> None:
    assert not [f for f in POLICY.detect_risk(text) if f in POLICY.risk.handoff], "the rules alone catch this one"
    assert flag in detected_flags(text)


@pytest.mark.parametrize("text", DOUBLE_PAY)
def test_a_double_salary_with_a_question_after_it_is_handed_off_as_financial(text: str) -> None:
    assert "financial" in detected_flags(text)


@pytest.mark.parametrize("text", HARD_NEGATIVES)
def test_ordinary_questions_about_passwords_payments_and_tax_are_not_flagged(text: str) -> None:
    assert detected_flags(text) == set()


def test_every_kind_maps_to_known_flags_that_hand_off() -> None:
    for kind in KINDS:
        assert KIND_FLAGS[kind] and set(KIND_FLAGS[kind]) <= set(RISK_FLAGS)
        assert set(KIND_FLAGS[kind]) <= set(POLICY.risk.handoff)
        assert all(f in POLICY.priority.risk_floor for f in KIND_FLAGS[kind])


def test_dataset_is_bilingual_covers_every_kind_and_splits_by_situation() -> None:
    rows = load_examples(DEFAULT_DATA)
    assert len(rows) >= 600
    assert {r.language for r in rows} == {"en", "uk"}
    for split in ("dev", "test"):
        kinds = Counter((r.kind, r.language) for r in rows if r.split == split and r.kind)
        assert {k for k, _ in kinds} == set(KINDS)
        assert sum(not r.risk for r in rows if r.split == split) > 50
    split_of: dict[str, set[str]] = {}
    for r in rows:
        split_of.setdefault(r.group, set()).add(r.split)
    assert all(len(s) == 1 for s in split_of.values())
    assert 0.2 < sum(r.split == "test" for r in rows) / len(rows) < 0.4


def test_a_changed_model_file_is_refused(tmp_path: Path) -> None:
    body = json.loads(SHIPPED_MODEL.read_text(encoding="utf-8"))
    body["threshold"] = 0.99  # someone "tunes" the file by hand
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(body), encoding="utf-8")
    with pytest.raises(RiskModelError, match="sha256"):
        load_model(edited)
    truncated = tmp_path / "truncated.json"
    truncated.write_text(SHIPPED_MODEL.read_text(encoding="utf-8")[:5000], encoding="utf-8")
    with pytest.raises(RiskModelError, match="not valid JSON"):
        load_model(truncated)
    with pytest.raises(RiskModelError, match="cannot read"):
        load_model(tmp_path / "missing.json")
    intact = tmp_path / "intact.json"
    intact.write_bytes(SHIPPED_MODEL.read_bytes())
    assert load_model(intact).threshold == shipped_model().threshold


def test_policy_without_a_model_falls_back_to_the_rules(model_off: Settings) -> None:
    assert RULES_ONLY.detect_risk_model(TAKEOVER.body) is None
    state = offline_agent(model_off).run(TAKEOVER)  # the keyword rules alone miss this phrasing
    assert state["triage"].sources["risk"] == "rules" and state["triage"].risk.value == []


def test_careful_notes_per_kind_then_per_flag() -> None:
    notes = careful_notes(["account_takeover"], ["security", "legal"])
    assert len(notes) == 2
    assert "do not send self-service reset" in notes[0] and "out of band" in notes[0]
    assert notes[1].startswith("legal matter")
    assert careful_notes([], []) == []


TAKEOVER = Ticket(
    id="t-risk",
    external_id="Z-risk",
    subject="Question about login",
    body="Hi, over the weekend a person we don't know got into our finance manager's profile and redirected "
    "three people's pay to new accounts. Anyway, how do I change my password?",
    customer=Customer(name="Acme", tier="premium"),
)


def test_classify_adds_the_models_flags_and_the_handoff_carries_a_careful_note(model_on: Settings) -> None:
    state = offline_agent(model_on).run(TAKEOVER)
    assert "security" in state["triage"].risk.value
    assert state["triage"].sources["risk"] == "rules+model"
    decision = state["decision"]
    assert decision.action == "handoff" and "risk:security" in decision.rules
    assert state.get("draft") is None
    note = state["handoff_note"]
    assert "Careful: possible account takeover" in note and "do not send self-service reset" in note
    [event] = [e for e in state["audit"] if e.node == "classify"]
    model = event.detail["risk_model"]
    assert model["flagged"] and model["kind"] == "account_takeover" and model["probability"] >= model["threshold"]
    assert "finance manager" not in json.dumps(event.detail)  # the audit names the kind, never the text


def test_an_ordinary_password_question_is_not_handed_off_for_risk(model_on: Settings) -> None:
    ticket = TAKEOVER.model_copy(
        update={"subject": "Reset password", "body": "Hi, I forgot my password. How do I reset it? Thanks"}
    )
    state = offline_agent(model_on).run(ticket)
    assert state["triage"].sources["risk"] == "rules+model"
    assert state["triage"].risk.value == []
    assert not any(r.startswith("risk:") for r in state["decision"].rules)
    assert "Careful:" not in state.get("handoff_note", "")
