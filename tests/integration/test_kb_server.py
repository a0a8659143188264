"""The KB in a Chroma server (TRIAGE_CHROMA_URL, issue 16): chromadb's own `chroma run` on a free
loopback port, one process ingests, others (this test process, a `triage worker`) read the same
collections, with our embedders only; changes are seen without a restart; the per-embedder stamped
collections work there as in a local directory; a worker with an empty KB refuses to start; a
server that is down is a transient error."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from agent.errors import is_transient
from agent.storage.tickets import TicketStore
from knowledge.embeddings import E5_SMALL, Embedder, get_embedder
from knowledge.store import IndexMismatchError, KnowledgeStore, KnowledgeUnavailableError, index_name
from tests.integration.test_kb_change import CHANGED, DOCS, MINILM, NEW, env_for, ingest_elsewhere, write_kb
from tests.integration.test_kb_change import minilm as minilm  # the fixture
from tests.netutil import free_port

pytestmark = pytest.mark.integration


class ChromaServer:
    """`chroma run` (the CLI chromadb installs beside this interpreter) in a child process."""

    def __init__(self, path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = path.parent / f"{path.name}.log"
        exe = Path(sys.executable).parent / "chroma"
        cmd = [str(exe), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(self.port)]
        env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
        with self.log.open("ab") as fh:
            self.proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()[-2000:]
            try:
                if httpx.get(f"{self.url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise AssertionError(f"chroma run did not come up: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = ChromaServer(tmp_path_factory.mktemp("chroma-server") / "db")
    try:
        yield server.url
    finally:
        server.stop()


def test_one_process_ingests_and_another_reads_the_server_with_changes_seen(
    tmp_path: Path, chroma_url: str, minilm: Embedder
) -> None:
    data, kb = tmp_path / "data", write_kb(tmp_path / "kb", DOCS)
    data.mkdir()
    env = env_for(data, MINILM, TRIAGE_CHROMA_URL=chroma_url, TRIAGE_COLLECTION="shared")
    assert "added 3" in ingest_elsewhere(kb, env)
    reader = KnowledgeStore(tmp_path / "unused", minilm, "shared", url=chroma_url)
    assert reader.count() > 0 and reader.search("I forgot my password", k=1)[0].doc_id == "KB-301"
    reader.search("quokka ledger export", k=2)  # its BM25 index is built now

    write_kb(kb, {"KB-304": NEW})
    ingest_elsewhere(kb, env)
    hits = reader.search("quokka ledger export error QZX-7781", k=3)
    assert hits[0].doc_id == "KB-304" and hits[0].lexical_rank == 1 and hits[0].dense_rank == 1
    write_kb(kb, {"KB-302": CHANGED})
    assert "updated 1" in ingest_elsewhere(kb, env)
    changed = reader.search("bounced payslip code ZPL-5521", k=3)
    assert changed[0].doc_id == "KB-302" and "ZPL-5521" in reader.document_text("KB-302")
    # nothing went to a local directory: neither the ingesting process's nor this one's
    assert not (data / "chroma").exists() and not (tmp_path / "unused").exists()


def test_each_embedder_keeps_its_own_stamped_collection_on_the_server(
    tmp_path: Path, chroma_url: str, minilm: Embedder
) -> None:
    kb = write_kb(tmp_path / "kb", DOCS)
    mini = KnowledgeStore(tmp_path / "unused", minilm, "stamped", url=chroma_url)
    mini.ingest(kb)
    e5 = get_embedder(E5_SMALL, 1)
    switched = KnowledgeStore(tmp_path / "unused", e5, "stamped", url=chroma_url)
    assert switched.index == index_name("stamped", e5.identity) != mini.index
    with pytest.raises(IndexMismatchError, match=r"not embedded by bundled:multilingual-e5-small.*triage kb ingest"):
        switched.search("I forgot my password")
    assert switched.ingest(kb).added == sorted(DOCS)
    assert switched.search("Я забув пароль", k=1)[0].doc_id == "KB-301"
    assert mini.search("I forgot my password", k=1)[0].doc_id == "KB-301"  # the old one is as it was
    assert [o.name for o in switched.other_indexes()] == [mini.index]
    got = switched.client.get_collection(switched.index).metadata or {}
    assert got["embedder"] == E5_SMALL and got["embedder_key"] == e5.identity.key and got["kb_version"]


def test_a_worker_on_the_server_answers_from_a_document_ingested_while_it_runs(tmp_path: Path, chroma_url: str) -> None:
    data, kb = tmp_path / "data", write_kb(tmp_path / "kb", DOCS)
    data.mkdir()
    db = f"sqlite:///{data / 'triage.db'}"
    env = env_for(data, MINILM, TRIAGE_CHROMA_URL=chroma_url, TRIAGE_COLLECTION="worker", TRIAGE_LLM="none",
                  TRIAGE_DATABASE_URL=db, TRIAGE_WORKER_POLL_S="0.05")  # fmt: skip
    ingest_elsewhere(kb, env)
    store = TicketStore(db)
    log = data / "worker.log"
    with log.open("ab") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "api", "worker"], env=env, stdout=fh, stderr=subprocess.STDOUT)
    try:
        first, _ = store.create_or_get(
            "generic", "d-1", {"external_id": "S-1", "subject": "Hi", "body": "Forgot password"}
        )
        wait_done(store, first, proc, log)
        write_kb(kb, {"KB-304": NEW})
        ingest_elsewhere(kb, env)
        second, _ = store.create_or_get(
            "generic",
            "d-2",
            {"external_id": "S-2", "subject": "Export", "body": "Quokka export fails: QZX-7781"},
        )
        got = wait_done(store, second, proc, log)
    finally:
        proc.terminate()
        proc.wait(30)
    assert got["status"] != "failed" and got["attempts"] == 1, got["error"]
    retrieved = [e for e in got["audit"] if e["event"] == "retrieved"]
    assert retrieved[-1]["detail"]["hits"][0]["doc_id"] == "KB-304"
    assert "knowledge base:" in log.read_text()  # the start check said what it found


def wait_done(store: TicketStore, ticket_id: str, proc: subprocess.Popen[bytes], log: Path) -> dict[str, Any]:
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()[-3000:]
        got = store.get(ticket_id)
        if got and got["status"] not in ("received", "processing"):
            return got
        time.sleep(0.1)
    raise AssertionError(f"ticket {ticket_id} not finished: {log.read_text()[-3000:]}")


def test_a_worker_refuses_to_start_on_an_empty_kb_or_an_unreachable_server(tmp_path: Path, chroma_url: str) -> None:
    env = env_for(tmp_path, MINILM, TRIAGE_CHROMA_URL=chroma_url, TRIAGE_COLLECTION="empty", TRIAGE_LLM="none")
    cmd = [sys.executable, "-m", "api", "worker"]
    empty = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180, cwd=tmp_path)
    assert empty.returncode == 2, empty.stdout + empty.stderr[-2000:]
    assert "is empty" in empty.stderr and "triage kb ingest" in empty.stderr and chroma_url in empty.stderr
    down = {**env, "TRIAGE_CHROMA_URL": f"http://127.0.0.1:{free_port()}"}
    gone = subprocess.run(cmd, env=down, capture_output=True, text=True, timeout=180, cwd=tmp_path)
    assert gone.returncode == 2 and "cannot reach the Chroma server" in gone.stderr, gone.stderr[-2000:]
    log = tmp_path / "allowed.log"
    with log.open("ab") as fh:  # TRIAGE_ALLOW_EMPTY_KB: starts, saying so
        proc = subprocess.Popen(cmd, env={**env, "TRIAGE_ALLOW_EMPTY_KB": "true"}, stdout=fh, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        while "polling" not in log.read_text() and time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()[-2000:]
            time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(30)
    text = log.read_text()
    assert "is empty" in text and "starting anyway" in text and "polling" in text, text[-2000:]


def test_a_server_that_goes_down_is_a_transient_error(tmp_path: Path, minilm: Embedder) -> None:
    server = ChromaServer(tmp_path / "db")
    try:
        store = KnowledgeStore(tmp_path / "unused", minilm, "down", url=server.url)
        store.ingest(write_kb(tmp_path / "kb", DOCS))
        assert store.search("I forgot my password", k=1)[0].doc_id == "KB-301"
    finally:
        server.stop()
    with pytest.raises(KnowledgeUnavailableError, match="Chroma server") as caught:
        store.search("I forgot my password")
    assert is_transient(caught.value)  # the retrieve node retries it, the worker requeues the ticket
