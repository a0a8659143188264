"""A KB change made by another process is seen without a restart (issue 16), on the local
PersistentClient: `triage kb ingest` runs in a child process while this process (or a running
`triage serve`) keeps its store open. Before the fix the reader's client never saw the new chunks'
vectors (`chromadb.errors.InternalError: Error finding id` once BM25 found them) and every matching
ticket failed. Real Chroma, real embedders, real processes; the Chroma server variant is
tests/integration/test_kb_server.py."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from knowledge.embeddings import E5_SMALL, Embedder, get_embedder
from knowledge.store import KnowledgeStore
from tests.conftest import clean_env
from tests.integration.conftest import ServerProcess, post_ticket, wait_finished
from tests.netutil import free_port

MINILM = "bundled:all-MiniLM-L6-v2"
KEY = "test-api-key"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

DOCS = {
    "KB-301": ("Reset your password", "en", "account_access", "Use the Forgot password link on the sign-in page."),
    "KB-302": ("Resend a payslip", "en", "payslips", "Open the employee profile and click Resend payslip."),
    "KB-303": ("Approve a timesheet", "en", "timesheets", "Managers approve timesheets under Team > Timesheets."),
}
NEW = (
    "Export the quokka ledger",
    "en",
    "reports",
    "The quokka ledger export fails with error QZX-7781 when the period is still open; close the period first.",
)
CHANGED = (
    "Resend a payslip",
    "en",
    "payslips",
    "Open the employee profile and click Resend payslip. A bounced payslip shows code ZPL-5521: fix the e-mail.",
)


def write_kb(root: Path, docs: dict[str, tuple[str, str, str, str]]) -> Path:
    """Markdown KB articles (no action, not auto-resolvable: the service suggests or hands off)."""
    root.mkdir(parents=True, exist_ok=True)
    for doc_id, (title, lang, cat, body) in docs.items():
        (root / f"{doc_id}.md").write_text(
            f"---\nid: {doc_id}\ntitle: {title}\ntype: kb\nproduct: payroll\ncategory: {cat}\nlanguage: {lang}\n"
            f"---\n# {title}\n\n{body}\n",
            encoding="utf-8",
        )
    return root


def env_for(data_dir: Path, embedder: str, **extra: str) -> dict[str, str]:
    """A child process's environment: this data dir and embedder, nothing from the developer's config."""
    return {
        **clean_env(),
        "TRIAGE_DATA_DIR": str(data_dir),
        "TRIAGE_EMBEDDER": embedder,
        "TRIAGE_EMBEDDER_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "TRIAGE_CONFIG": str(data_dir / "none.toml"),
        **extra,
    }


def ingest_elsewhere(kb: Path, env: dict[str, str], *args: str) -> str:
    """`triage kb ingest` in a child process (another process than the reader's)."""
    out = subprocess.run(
        [sys.executable, "-m", "api", "kb", "ingest", str(kb), *args],
        env=env, capture_output=True, text=True, timeout=300, cwd=env["TRIAGE_DATA_DIR"],
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr[-3000:]
    return out.stdout


@pytest.fixture(scope="module", params=[MINILM, E5_SMALL], ids=["minilm", "e5"])
def model(request: pytest.FixtureRequest) -> tuple[str, Embedder]:
    """Both search paths: MiniLM's dense side is Chroma's own query, e5's a matrix read from Chroma."""
    spec = str(request.param)
    return spec, get_embedder(spec, 1)


def doc_ids(store: KnowledgeStore, query: str, mode: str = "hybrid", k: int = 5) -> list[str]:
    return [h.doc_id for h in store.search(query, k=k, mode=mode)]


def test_documents_added_changed_and_removed_elsewhere_are_seen_without_a_restart(
    tmp_path: Path, model: tuple[str, Embedder]
) -> None:
    spec, embedder = model
    data, kb = tmp_path / "data", write_kb(tmp_path / "kb", DOCS)
    data.mkdir()
    env = env_for(data, spec)
    ingest_elsewhere(kb, env)
    reader = KnowledgeStore(data / "chroma", embedder)  # stays open, as a worker's store does
    assert doc_ids(reader, "I forgot my password")[0] == "KB-301"
    assert "KB-304" not in doc_ids(reader, "quokka ledger export error QZX-7781")  # BM25 index built

    write_kb(kb, {"KB-304": NEW})
    assert "added 1" in ingest_elsewhere(kb, env)
    hybrid = reader.search("quokka ledger export error QZX-7781", k=3)
    assert hybrid[0].doc_id == "KB-304" and hybrid[0].lexical_rank == 1 and hybrid[0].dense_rank == 1
    assert doc_ids(reader, "How do I export the quokka ledger?", mode="dense", k=1) == ["KB-304"]
    assert "QZX-7781" in reader.document_text("KB-304")

    write_kb(kb, {"KB-302": CHANGED})
    assert "updated 1" in ingest_elsewhere(kb, env)
    changed = reader.search("bounced payslip code ZPL-5521", k=3)
    assert changed[0].doc_id == "KB-302" and changed[0].lexical_rank == 1
    assert "ZPL-5521" in changed[0].text and "ZPL-5521" in reader.document_text("KB-302")

    (kb / "KB-303.md").unlink()
    assert "removed 1" in ingest_elsewhere(kb, env, "--prune")
    assert "KB-303" not in doc_ids(reader, "approve a timesheet under Team Timesheets", k=5)
    assert reader.categories() == {"KB-301": "account_access", "KB-302": "payslips", "KB-304": "reports"}


@pytest.fixture(scope="module")
def minilm() -> Embedder:
    """MiniLM, the embedder the child processes here are given (whatever the default is)."""
    return get_embedder(MINILM, 1)


def test_a_chunk_gone_since_the_bm25_index_was_built_is_a_miss(tmp_path: Path, minilm: Embedder) -> None:
    data, kb = tmp_path / "data", write_kb(tmp_path / "kb", {**DOCS, "KB-304": NEW})
    data.mkdir()
    env = env_for(data, MINILM)
    ingest_elsewhere(kb, env)
    reader = KnowledgeStore(data / "chroma", minilm)
    reader.search("quokka ledger", k=2)  # BM25 built, with KB-304's chunk in it
    chunk = next(i for i, m in reader._lexical().meta_by_id.items() if m["doc_id"] == "KB-304")
    (kb / "KB-304.md").unlink()
    ingest_elsewhere(kb, env, "--prune")
    assert reader._fetch([chunk]) == []  # what the BM25-only fetch meets mid-change: nothing, no error
    assert "KB-304" not in doc_ids(reader, "quokka ledger export error QZX-7781")


def test_a_running_service_answers_from_a_document_ingested_while_it_runs(tmp_path: Path) -> None:
    """The issue's reproduction: `triage serve` (in-process worker) runs, `triage kb ingest` adds a
    document in another process, and the ticket it answers is retrieved with it, not failed."""
    data, kb = tmp_path / "data", write_kb(tmp_path / "kb", DOCS)
    data.mkdir()
    env = env_for(data, MINILM, TRIAGE_LLM="none", TRIAGE_API_KEY=KEY, TRIAGE_WEBHOOK_SECRET=SECRET,
                  TRIAGE_WORKER_POLL_S="0.05")  # fmt: skip
    ingest_elsewhere(kb, env)
    server = ServerProcess(env, free_port(), data / "server.log")
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as c:
            first = post_ticket(
                c, SECRET, {"external_id": "C-1", "subject": "Password", "body": "I forgot my password"}
            )
            done = wait_finished(c, first.json()["ticket_id"], KEY)
            assert done["status"] != "failed", done["error"]
            write_kb(kb, {"KB-304": NEW})
            ingest_elsewhere(kb, env)
            write_kb(kb, {"KB-302": CHANGED})
            ingest_elsewhere(kb, env)
            results = {}
            for ext, body in (("C-2", "Quokka ledger export fails with QZX-7781"), ("C-3", "Payslip code ZPL-5521")):
                r = post_ticket(c, SECRET, {"external_id": ext, "subject": "Help", "body": body})
                results[ext] = wait_finished(c, r.json()["ticket_id"], KEY)
    finally:
        server.stop()
    for ext, want in (("C-2", "KB-304"), ("C-3", "KB-302")):
        got = results[ext]
        assert got["status"] != "failed", got["error"]
        retrieved = [e for e in got["audit"] if e["event"] == "retrieved"]
        assert retrieved and retrieved[-1]["detail"]["hits"][0]["doc_id"] == want, retrieved
        assert got["attempts"] == 1  # found on the first try: no error, no retry


def test_tickets_failed_by_a_transient_error_are_requeued_by_triage_requeue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tickets that ran out of attempts on a transient error (or, by `--error-contains`, failed by the
    stale-KB InternalError before it counted as transient) go back to the queue; others stay failed."""
    from typer.testing import CliRunner

    from agent.domain import AuditEvent
    from agent.settings import get_settings
    from agent.storage.tickets import TicketStore
    from api.cli import app

    db = f"sqlite:///{tmp_path / 'triage.db'}"
    store = TicketStore(db)
    failures = {
        "T-1": ("LLMUnavailable: the model server is down", True),
        "T-2": ("InternalError: Error executing plan: Internal error: Error finding id", False),
        "T-3": ("ValueError: a bug", False),
    }
    ids: dict[str, str] = {}
    for ext, (error, transient) in failures.items():
        ids[ext], _ = store.create_or_get("generic", ext, {"external_id": ext, "subject": "s", "body": "b"})
        claimed = store.claim("w1", 30)
        assert claimed is not None and claimed.id == ids[ext]
        event = AuditEvent(node="worker", event="failed", detail={"error": error, "transient": transient})
        assert store.complete(ids[ext], "w1", "failed", None, [event], error=error)
    monkeypatch.setenv("TRIAGE_DATABASE_URL", db)
    monkeypatch.setenv("TRIAGE_CONFIG", str(tmp_path / "none.toml"))
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        dry = runner.invoke(app, ["requeue", "--dry-run"])
        assert dry.exit_code == 0 and ids["T-1"] in dry.output and ids["T-2"] not in dry.output, dry.output
        assert {store.get(i)["status"] for i in ids.values()} == {"failed"}  # type: ignore[index]
        first = runner.invoke(app, ["requeue"])
        assert first.exit_code == 0 and "requeued 1 of 1" in first.output, first.output
        by_text = runner.invoke(app, ["requeue", "--error-contains", "error finding id"])
        assert by_text.exit_code == 0 and "requeued 1 of 1" in by_text.output, by_text.output
    finally:
        get_settings.cache_clear()
    got = {ext: store.get(i) for ext, i in ids.items()}
    assert [got[e]["status"] for e in ("T-1", "T-2", "T-3")] == ["received", "received", "failed"]  # type: ignore[index]
    assert got["T-1"]["attempts"] == 0 and got["T-1"]["audit"][-1]["event"] == "requeued"  # type: ignore[index]
    again = store.claim("w2", 30)  # a worker takes it again, with its attempts counted afresh
    assert again is not None and again.id == ids["T-1"]
