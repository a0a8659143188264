"""Ingest into the real Chroma store with the real embedder: idempotent re-ingest, updates, pruning,
persistence across clients."""

from __future__ import annotations

from pathlib import Path

from knowledge.embeddings import Embedder
from knowledge.store import KnowledgeStore
from tests.unit.test_ingest import write


def test_reingest_is_noop_and_changes_replace_chunks(tmp_path: Path, embedder: Embedder) -> None:
    kb = tmp_path / "kb"
    kb.mkdir()
    write(kb, "KB-1", "Resend a payslip")
    write(kb, "KB-2", "Reset your password", "Use the Forgot password link on the sign-in page.")
    store = KnowledgeStore(tmp_path / "chroma", embedder, "test_kb")
    first = store.ingest(kb)
    assert sorted(first.added) == ["KB-1", "KB-2"]
    n = store.count()
    again = store.ingest(kb)
    assert again.added == [] and again.updated == [] and sorted(again.unchanged) == ["KB-1", "KB-2"]
    assert store.count() == n
    write(kb, "KB-2", "Reset your password", "Passwords are reset from Settings > Security > Reset.")
    changed = store.ingest(kb)
    assert changed.updated == ["KB-2"]
    assert store.count() == n
    assert "Settings > Security > Reset" in store.document_text("KB-2")
    assert "Forgot password" not in store.document_text("KB-2")
    hits = store.search("I forgot my password", k=2)
    assert hits[0].doc_id == "KB-2" and hits[0].score > hits[1].score
    assert [h.doc_id for h in store.search("password", k=2, filters={"doc_id": "KB-1"})] == ["KB-1"]
    (kb / "KB-1.md").unlink()
    pruned = store.ingest(kb, prune=True)
    assert pruned.removed == ["KB-1"]


def test_reingest_survives_a_new_client(tmp_path: Path, embedder: Embedder) -> None:
    kb = tmp_path / "kb"
    kb.mkdir()
    write(kb, "KB-1", "Resend a payslip")
    KnowledgeStore(tmp_path / "chroma", embedder, "persist").ingest(kb)
    reopened = KnowledgeStore(tmp_path / "chroma", embedder, "persist")
    assert reopened.ingest(kb).unchanged == ["KB-1"]
