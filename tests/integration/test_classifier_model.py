"""The trained classifier with the real embedder: learning, calibration, OOS, artefact, harness CLI."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from agent.graph.classifier.data import LabelledSet, read_labelled
from agent.graph.classifier.model import ArtefactError, TrainParams, TriageClassifier, train
from knowledge.embeddings import Embedder

INTENTS: dict[str, list[str]] = {
    "password_reset": [
        "I forgot my password and can't log in",
        "how do I reset my password",
        "password reset link never arrived",
        "my password expired, what now",
        "need to change my login password",
        "reset password please, locked out",
        "the reset password email is not coming",
        "can't remember my password for the portal",
        "how can I set a new password",
        "password recovery does not work",
        "I typed the wrong password too many times",
        "where do I change my password",
    ],
    "payslip_missing": [
        "my payslip for march is missing",
        "employee did not receive the payslip email",
        "where can I download my payslip",
        "payslip not showing in the app",
        "please resend last month's payslip",
        "I can't find my pay stub",
        "payslips were not sent to staff this month",
        "how do employees get their payslips",
        "the payslip pdf is blank",
        "my salary slip has not arrived",
        "can you email me my payslip again",
        "payslip download button does nothing",
    ],
    "invoice_question": [
        "why is my invoice higher this month",
        "I need a copy of our last invoice",
        "invoice has the wrong company address",
        "how do I change the billing email for invoices",
        "we were charged for more seats than we have",
        "can I pay the invoice by bank transfer",
        "where can I download invoices",
        "the VAT number on the invoice is missing",
        "please explain the charges on our bill",
        "invoice currency should be EUR not USD",
        "we need invoices sent to accounts payable",
        "our subscription invoice looks wrong",
    ],
    "leave_request": [
        "how do I request annual leave",
        "my holiday request is stuck waiting for approval",
        "how many vacation days do I have left",
        "manager can't approve the leave request",
        "cancel my leave request for next week",
        "sick leave is not showing in my balance",
        "book time off for christmas",
        "leave balance looks wrong after carry over",
        "where do I submit a day off",
        "parental leave request form",
        "approve vacation for my team",
        "my time off request disappeared",
    ],
}
OOS = [
    "what's the weather in Kyiv tomorrow",
    "write me a poem about cats",
    "who won the football match yesterday",
    "recommend a good pizza place",
    "how tall is mount everest",
    "translate hello into spanish",
    "what is the capital of australia",
    "tell me a joke",
    "play some music",
    "how do I bake bread",
]


def labelled(rows: list[tuple[str, str]]) -> LabelledSet:
    return LabelledSet(
        source="test", texts=[t for t, _ in rows], labels={"intent": [lab for _, lab in rows]}, sha256="0" * 64
    )


def split() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    train_rows, test_rows = [], []
    for lab, texts in INTENTS.items():
        train_rows += [(t, lab) for t in texts[:9]]
        test_rows += [(t, lab) for t in texts[9:]]
    return train_rows, test_rows


SPEC = "bundled:all-MiniLM-L6-v2"
FROZEN = TrainParams(folds=3, fine_tune_epochs=0)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> TriageClassifier:
    train_rows, _ = split()
    return train(labelled(train_rows), SPEC, tmp_path_factory.mktemp("clf") / "m", FROZEN)


def test_learns_unseen_phrasings_with_probabilities(trained: TriageClassifier) -> None:
    _, test_rows = split()
    preds = trained.predict([t for t, _ in test_rows])
    acc = np.mean([p["intent"].label == g for p, (_, g) in zip(preds, test_rows, strict=True)])
    assert acc >= 0.9  # 12 unseen phrasings of 4 intents; chance is 0.25
    for p in preds:
        top = p["intent"].top
        assert top[0][0] == p["intent"].label and 0.25 <= top[0][1] <= 1.0
        assert [prob for _, prob in top] == sorted((prob for _, prob in top), reverse=True)
    fm = trained.fields["intent"]
    assert fm.temperature > 0 and 0.0 <= fm.threshold <= 1.0
    assert fm.cv_metrics["folds"] == 3 and fm.cv_metrics["accuracy"] > 0.8


def test_off_topic_text_gets_lower_confidence(trained: TriageClassifier) -> None:
    _, test_rows = split()
    ins = [p["intent"].confidence for p in trained.predict([t for t, _ in test_rows])]
    off = [p["intent"].confidence for p in trained.predict(OOS)]
    assert np.mean(off) < np.mean(ins) - 0.1


def test_oos_label_threshold_is_learned_from_training_data(tmp_path: Path) -> None:
    train_rows, test_rows = split()
    rows = train_rows + [(t, "oos") for t in OOS[:6]]
    clf = train(labelled(rows), SPEC, tmp_path / "m", TrainParams(folds=3, oos_label="oos", fine_tune_epochs=0))
    fm = clf.fields["intent"]
    assert fm.oos_label == "oos" and fm.oos_threshold is not None
    assert "oos_recall" in fm.cv_metrics
    preds = clf.predict(OOS[6:] + [t for t, _ in test_rows])
    oos_hits = sum(p["intent"].out_of_scope for p in preds[:4])
    in_kept = sum(not p["intent"].out_of_scope for p in preds[4:])
    assert oos_hits >= 3 and in_kept >= 10


def test_artefact_round_trip_and_tampering(trained: TriageClassifier, tmp_path: Path) -> None:
    out = trained.save()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["embedder"] == SPEC and manifest["fields"]["intent"]["labels"] == sorted(INTENTS)
    assert manifest["data"]["sha256"] == "0" * 64 and "model_sha256" in manifest
    assert manifest["encoder"]["epochs"] == 0 and (out / "encoder" / "model.onnx").exists()
    loaded = TriageClassifier.load(out)
    texts = ["reset my password", "invoice copy please"]
    a = trained.predict(texts)
    b = loaded.predict(texts)
    assert [x["intent"] for x in a] == [y["intent"] for y in b]

    blob = (out / "model.joblib").read_bytes()
    (out / "model.joblib").write_bytes(blob[:-10] + b"0123456789")
    with pytest.raises(ArtefactError, match="sha256 does not match"):
        TriageClassifier.load(out)
    with pytest.raises(ArtefactError, match="no trained classifier"):
        TriageClassifier.load(tmp_path / "empty")


def test_onnx_encoder_matches_the_sentence_transformer(trained: TriageClassifier, embedder: Embedder) -> None:
    texts = ["reset my password", "why is the invoice higher", "a much longer sentence " * 5]
    a = trained.encoder.encode(texts)
    b = embedder.encode_passages(texts)
    assert a.shape == b.shape and float((a * b).sum(1).min()) > 0.999


def test_fine_tuning_holds_out_calibration_rows(tmp_path: Path) -> None:
    train_rows, test_rows = split()
    clf = train(labelled(train_rows), SPEC, tmp_path / "m", TrainParams(folds=3, fine_tune_epochs=2))
    enc = clf.manifest["encoder"]
    # 9 rows per intent: 1 held out of fine-tuning per intent (15%, at least one)
    assert enc["epochs"] == 2 and enc["fine_tuned_on"] == "intent"
    assert enc["rows"] == 32 and enc["calibration_rows"] == 4
    preds = clf.predict([t for t, _ in test_rows])
    acc = np.mean([p["intent"].label == g for p, (_, g) in zip(preds, test_rows, strict=True)])
    assert acc >= 0.9


def test_single_label_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least two labels"):
        train(labelled([("a b", "x"), ("c d", "x")]), SPEC, tmp_path / "m", FROZEN)


def _write_csv(path: Path, rows: list[tuple[str, str]]) -> Path:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["text", "category"])
        w.writerows(rows)
    return path


def test_eval_triage_cli_writes_json_report_and_compare(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from api.cli import app
    from evals.compare import load_run

    monkeypatch.chdir(tmp_path)  # no .env / triage.toml of the developer's
    train_rows, test_rows = split()
    tr = _write_csv(tmp_path / "train.csv", train_rows + [(t, "oos") for t in OOS[:6]])
    te = _write_csv(tmp_path / "test.csv", test_rows + [(t, "oos") for t in OOS[6:]])
    runner = CliRunner()
    args = ["eval", "triage", "--train", str(tr), "--test", str(te), "--oos-label", "oos", "--epochs", "0"]
    r1 = runner.invoke(app, [*args, "--json", "a.json", "--report", "rep"])
    assert r1.exit_code == 0, r1.output
    a = json.loads((tmp_path / "a.json").read_text())
    for key in ("accuracy", "macro_f1", "ece", "in_scope_accuracy", "oos_recall", "tickets_per_s"):
        assert key in a and a[key] >= 0
    assert a["run"]["test_rows"] == len(test_rows) + 4 and a["run"]["oos_threshold"] is not None
    assert len(a["metrics"]["coverage_accuracy"]) == 20
    for name in ("report.md", "report.html", "confusion.png", "reliability.png", "coverage.png"):
        assert (tmp_path / "rep" / name).stat().st_size > 200, name
    assert (tmp_path / "rep" / "confusion.png").read_bytes()[:4] == b"\x89PNG"
    assert "data:image/png;base64," in (tmp_path / "rep" / "report.html").read_text()
    assert load_run(tmp_path / "rep")["accuracy"] == a["accuracy"]

    r2 = runner.invoke(app, [*args, "--shots", "3", "--json", "b.json"])
    assert r2.exit_code == 0, r2.output
    b = json.loads((tmp_path / "b.json").read_text())
    assert b["run"]["train_rows"] == 3 * 5  # 4 intents + oos, 3 each
    r3 = runner.invoke(app, ["eval", "compare", "a.json", "b.json"])
    assert r3.exit_code == 0, r3.output
    assert "| Accuracy |" in r3.output and "run.shots" in r3.output

    bad = runner.invoke(app, ["eval", "triage", "--train", str(tr), "--test", str(tmp_path / "nope.csv")])
    assert bad.exit_code == 2 and "no such file" in bad.output


def test_train_cli_saves_an_artefact_the_service_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from agent.runtime.assembly import load_classifier
    from agent.settings import Settings
    from api.cli import app

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TRIAGE_DATA_DIR", str(tmp_path / "data"))
    from agent.settings import get_settings

    get_settings.cache_clear()
    try:
        train_rows, _ = split()
        f = _write_csv(tmp_path / "hist.csv", train_rows)
        r = CliRunner().invoke(app, ["train", "--data", str(f), "--epochs", "0"])
        assert r.exit_code == 0, r.output
        assert "cross-validated accuracy" in r.output
        clf = load_classifier(Settings(data_dir=tmp_path / "data"))
        assert clf is not None and set(clf.fields) == {"category"}
        assert load_classifier(Settings(data_dir=tmp_path / "other")) is None
        assert read_labelled(f).sha256 == clf.manifest["data"]["sha256"]
    finally:
        get_settings.cache_clear()
