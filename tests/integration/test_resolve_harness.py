"""`triage eval resolve` and `triage tune` on small data, with the real embedder and Chroma."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agent.graph.context import AgentContext
from agent.graph.policy import load_policy
from agent.runtime.assembly import Agent
from agent.settings import Settings, get_settings
from evals.resolve.data import ResolveDataError, load_cases, load_kb
from evals.resolve.metrics import evaluate
from evals.resolve.replay import decided_features
from evals.resolve.run import eval_ticket, half_of, prepare, workspace
from tests.conftest import DEMO_KB, SMOKE

KB = [
    (
        "pw-reset",
        "Reset your password",
        "To reset your password open the sign-in page, click 'Forgot password' and "
        "follow the link we e-mail you. The link is valid for 30 minutes.",
    ),
    (
        "export-csv",
        "Export contacts to CSV",
        "Go to Contacts, choose Export, pick CSV and press Download. Large exports arrive by e-mail.",
    ),
    (
        "custom-domain",
        "Connect a custom domain",
        "Open Settings > Domains, click Connect domain, enter your domain "
        "and update the DNS records at your registrar: an A record and a CNAME for www.",
    ),
    (
        "invoice-copy",
        "Download an invoice",
        "Billing > Invoices lists every invoice; click the PDF icon next to one to download it.",
    ),
    (
        "delete-site",
        "Delete a site",
        "Open the dashboard, choose Site actions > Move to trash. Sites stay in the "
        "trash for 30 days before they are deleted.",
    ),
]
QUESTIONS = [
    ("q1", "I forgot my password, how do I reset it?", ["pw-reset"], True),
    ("q2", "How can I export my contacts as a CSV file?", ["export-csv"], True),
    ("q3", "How do I connect my own domain name to the site? What DNS records do I need?", ["custom-domain"], True),
    ("q4", "Where can I download a PDF copy of my invoice?", ["invoice-copy"], True),
    ("q5", "How do I delete a site I no longer need?", ["delete-site"], True),
    ("q6", "Can you recommend a good pizza place near the office?", [], False),
    ("q7", "What is the airspeed velocity of an unladen swallow?", [], False),
]


def _write(tmp: Path) -> tuple[Path, Path]:
    kb = tmp / "kb.jsonl"
    kb.write_text(
        "".join(json.dumps({"id": i, "title": t, "text": f"{t}\n{x}"}) + "\n" for i, t, x in KB), encoding="utf-8"
    )
    qs = tmp / "questions.jsonl"
    qs.write_text(
        "".join(
            json.dumps({"id": i, "question": q, "gold_doc_ids": g, "answerable": a}) + "\n" for i, q, g, a in QUESTIONS
        ),
        encoding="utf-8",
    )
    return kb, qs


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TRIAGE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TRIAGE_LLM", "none")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_resolve_and_tune_cli_end_to_end(cli_env: Path) -> None:
    from api.cli import app

    tmp = cli_env
    kb, qs = _write(tmp)
    runner = CliRunner()
    r = runner.invoke(
        app, ["eval", "resolve", "--kb", str(kb), "--test", str(qs), "--json", "a.json", "--report", "rep"]
    )
    assert r.exit_code == 0, r.output
    a = json.loads((tmp / "a.json").read_text())
    for key in ("auto_resolution_rate", "wrong_resolution_rate", "handoff_recall", "recall_at_5", "mrr"):
        assert key in a, key
    assert a["tickets"] == 7 and a["answerable"] == 5 and a["should_handoff"] == 2
    assert a["recall_at_5"] == 1.0 and a["recall_at_1"] >= 0.8
    assert a["context_recall"] == 1.0 and 0 < a["context_precision"] <= 1.0
    assert a["run"]["policy_version"] and a["run"]["kb_docs"] == 5
    assert sum(a["outcomes"].values()) == 7
    assert len(a["curve"]) > 10
    for name in ("report.md", "report.html", "outcomes.png", "auto_vs_wrong.png", "metrics.json"):
        assert (tmp / "rep" / name).stat().st_size > 200, name
    assert (tmp / "rep" / "outcomes.png").read_bytes()[:4] == b"\x89PNG"

    # tune on the same small set into a copy of the service policy, then evaluate with it
    policy = tmp / "policy.yaml"
    t = runner.invoke(app, ["tune", "--kb", str(kb), "--dev", str(qs), "--max-wrong", "0", "--out", str(policy)])
    assert t.exit_code == 0, t.output
    tuned = load_policy(policy)
    assert tuned.tuned is not None and tuned.tuned["max_wrong"] == 0 and tuned.tuned["dev"] == str(qs)
    r2 = runner.invoke(
        app, ["eval", "resolve", "--kb", str(kb), "--test", str(qs), "--policy", str(policy), "--json", "b.json"]
    )
    assert r2.exit_code == 0, r2.output
    b = json.loads((tmp / "b.json").read_text())
    assert b["wrong_resolutions"] == 0
    assert b["auto_resolution_rate"] >= a["auto_resolution_rate"] or a["wrong_resolutions"] > 0
    assert b["auto_resolution_rate"] == tuned.tuned["auto_resolution_rate"]
    c = runner.invoke(app, ["eval", "compare", "a.json", "b.json"])
    assert c.exit_code == 0, c.output
    assert "| Auto-resolution rate |" in c.output and "run.policy_version" in c.output


def test_halves_and_tuning_the_answerability_thresholds(cli_env: Path) -> None:
    """`--half` runs one half of the file; `tune` moves and writes the answerability thresholds."""
    from api.cli import app

    tmp = cli_env
    kb, qs = _write(tmp)
    runner = CliRunner()
    test_ids = sorted(i for i, *_ in QUESTIONS if half_of(i) == "test")
    assert 0 < len(test_ids) < len(QUESTIONS)
    r = runner.invoke(
        app, ["eval", "resolve", "--kb", str(kb), "--test", str(qs), "--half", "test", "--json", "t.json"]
    )
    assert r.exit_code == 0, r.output
    got = json.loads((tmp / "t.json").read_text())
    assert got["tickets"] == len(test_ids) and got["run"]["half"] == "test"
    assert sorted(row["id"] for row in got["rows"]) == test_ids
    assert got["run"]["answerability_model"]["embedder"] == get_settings().embedder
    policy = tmp / "policy.yaml"
    t = runner.invoke(
        app, ["tune", "--kb", str(kb), "--dev", str(qs), "--max-wrong", "0", "--half", "train", "--out", str(policy)]
    )
    assert t.exit_code == 0, t.output
    tuned = load_policy(policy)
    assert tuned.tuned is not None and tuned.tuned["half"] == "train"
    assert tuned.tuned["auto_min_answerability"] == tuned.retrieval.auto_min_answerability
    assert tuned.tuned["answerability_model"]["sha256"] == tuned.answerability_model().sha256  # type: ignore[union-attr]
    assert "auto_min_answerability:" in policy.read_text() and "retrieval.auto_min_answerability" in t.output


def test_bad_inputs_fail_clearly(cli_env: Path) -> None:
    from api.cli import app

    tmp = cli_env
    kb, qs = _write(tmp)
    runner = CliRunner()
    bad_csv = tmp / "bad.csv"
    bad_csv.write_text("a,b\n1,2\n", encoding="utf-8")
    r = runner.invoke(app, ["eval", "resolve", "--kb", str(bad_csv), "--test", str(qs)])
    assert r.exit_code == 2 and "unknown CSV knowledge base" in r.output
    wrong_gold = tmp / "wrong.jsonl"
    wrong_gold.write_text(json.dumps({"id": "x", "question": "hi there", "gold_doc_ids": ["nope"]}) + "\n")
    r = runner.invoke(app, ["eval", "resolve", "--kb", str(kb), "--test", str(wrong_gold)])
    assert r.exit_code == 2 and "not in the knowledge base" in r.output
    broken = tmp / "broken.jsonl"
    broken.write_text('{"id": "x", "question": "ok"}\n{not json\n')
    r = runner.invoke(app, ["eval", "resolve", "--kb", str(kb), "--test", str(broken)])
    assert r.exit_code == 2 and "broken.jsonl:2" in r.output
    r = runner.invoke(app, ["tune", "--kb", str(kb), "--dev", str(qs), "--max-wrong", "2"])
    assert r.exit_code == 2 and "between 0 and 1" in r.output


def test_shared_dataset_shapes_are_read(tmp_path: Path) -> None:
    """The shapes of WixQA, TechQA, RuTube and Bitext files (tiny copies written here)."""
    wix_kb = tmp_path / "wix_kb.jsonl"
    wix_kb.write_text(json.dumps({"id": "a1", "title": "T", "text": "T\nbody", "article_type": "article"}) + "\n")
    wix_q = tmp_path / "wix_q.jsonl"
    wix_q.write_text(json.dumps({"id": "q", "question": "how?", "answer": "so", "article_ids": ["a1"]}) + "\n")
    kb = load_kb(wix_kb)
    (case,) = load_cases(wix_q, kb)
    assert case.gold_doc_ids == ["a1"] and case.answerable and case.reference_answer == "so"

    tq_kb = tmp_path / "tq_kb.jsonl"
    tq_kb.write_text(json.dumps({"filename": "swg1.txt", "text": "Title: IBM thing - United States\n\nText: x"}) + "\n")
    tq_q = tmp_path / "tq_q.jsonl"
    tq_q.write_text(
        json.dumps({"id": "1", "question": "Title\nbody", "answer": "-", "is_impossible": True, "contexts": []})
        + "\n"
        + json.dumps(
            {
                "id": "2",
                "question": "q",
                "answer": "a",
                "is_impossible": False,
                "contexts": [{"filename": "swg1.txt", "text": "..."}],
            }
        )
        + "\n"
    )
    kb = load_kb(tq_kb)
    assert kb.docs[0].meta.title == "IBM thing"
    c1, c2 = load_cases(tq_q, kb)
    assert c1.should_handoff and not c1.gold_doc_ids and c1.subject == "Title"
    assert c2.gold_doc_ids == ["swg1.txt"] and not c2.should_handoff

    ru_kb = tmp_path / "knowledge_base.csv"
    ru_kb.write_text(
        "kb_id,topic,kb_question,kb_answer,class_1,class_2\n"
        "0,t,Как удалить канал?,Откройте настройки и выберите пункт.,A,B\n"
    )
    ru_q = tmp_path / "cases.csv"
    ru_q.write_text(
        "case_id,user_question,agent_answer,kb_question,kb_answer,class_1,class_2\n"
        "7,удалить канал как\u200b,ответ,Как удалить канал?,Откройте настройки.,A,B\n"
    )
    kb = load_kb(ru_kb)
    (c,) = load_cases(ru_q, kb)
    assert c.gold_doc_ids == ["FAQ-0"] and "\u200b" not in c.body and kb.docs[0].meta.language == "ru"

    bt = tmp_path / "bitext.csv"
    bt.write_text(
        "instruction,intent,category,response\ncancel order 1,cancel_order,ORDER,I can help cancel.\n"
        "cancel my order,cancel_order,ORDER,Other reply\nwhere is my refund,track_refund,REFUND,Refund info\n"
    )
    kb = load_kb(bt)
    assert sorted(d.meta.id for d in kb.docs) == ["cancel_order", "track_refund"]
    assert [c.gold_doc_ids for c in load_cases(bt, kb)] == [["cancel_order"], ["cancel_order"], ["track_refund"]]
    with pytest.raises(ResolveDataError, match="does not exist"):
        load_kb(tmp_path / "missing")


def test_re_deciding_matches_running_the_graph(demo_settings: Settings) -> None:
    """The harness decides from one permissive run; the graph under the real policy must agree."""
    run = prepare(demo_settings, DEMO_KB, SMOKE, llm="none", classifier="none", limit=40)
    ws, store = workspace(demo_settings, load_kb(DEMO_KB))
    agent = Agent(AgentContext(settings=ws, policy=run.policy, knowledge=store, llm=None, classifier=None))
    kinds: set[str] = set()
    assessed = 0
    for t in run.traces:
        state = agent.run(eval_ticket(t.case))
        real = state["decision"]
        simulated = t.decide(run.policy)
        assert (simulated.action, simulated.rules) == (real.action, real.rules), t.case.id
        kinds.add(real.action)
        # the replay decides on the features the live decide node computed, and gets its P
        assert t.features == decided_features(state["audit"]) and t.embedder == demo_settings.embedder
        event = next(e for e in state["audit"] if e.node == "decide")
        assert t.answerability(run.policy) == event.detail["answerability"]["p"], t.case.id
        assessed += t.answerability(run.policy) is not None
    assert kinds == {"auto_resolve", "suggest", "handoff"}
    assert assessed == 40  # the shipped model fits the default embedder: every ticket has a P
    m = evaluate(run.traces, run.policy, run.facts)
    assert m["tickets"] == 40 and m["recall_at_5"] is not None


def test_eval_smoke_on_a_fresh_data_dir_ingests_the_kb_first(cli_env: Path) -> None:
    """It used to search an empty KB there and hand every ticket off (0% found, no error)."""
    from api.cli import app
    from tests.conftest import DEMO_KB, SMOKE

    rows = SMOKE.read_text(encoding="utf-8").splitlines()[:4]
    (cli_env / "four.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    r = CliRunner().invoke(
        app, ["eval", "smoke", "--file", "four.jsonl", "--json", "s.json"], env={"TRIAGE_KB_PATH": str(DEMO_KB)}
    )
    assert r.exit_code == 0, r.output
    got = json.loads((cli_env / "s.json").read_text(encoding="utf-8"))
    found = [row for row in got["rows"] if row.get("gold_doc_in_top_k")]
    assert found, got["rows"]
