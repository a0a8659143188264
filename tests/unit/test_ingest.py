from pathlib import Path

import pytest

from knowledge.embeddings import Embedder
from knowledge.ingest import DocError, chunk_doc, load_docs, parse_doc
from knowledge.store import KnowledgeStore

DOC = """---
id: {id}
title: {title}
type: kb
product: payroll
category: payslips
language: en
auto_resolvable: true
---
# {title}

{intro}

## Steps
1. Open People > Employees.
2. Click Resend payslip.
"""


def write(dir_: Path, doc_id: str, title: str, intro: str = "Resend a payslip by email.") -> Path:
    p = dir_ / f"{doc_id}.md"
    p.write_text(DOC.format(id=doc_id, title=title, intro=intro), encoding="utf-8")
    return p


def test_front_matter_errors_name_file_and_field(tmp_path: Path) -> None:
    p = tmp_path / "x.md"
    p.write_text("no front matter here")
    with pytest.raises(DocError, match="no YAML front matter"):
        parse_doc(p)
    p.write_text("---\nid: A-1\ntype: kb\n---\nbody")
    with pytest.raises(DocError, match="title"):
        parse_doc(p)
    p.write_text("---\nid: A-1\ntitle: t\ntype: rca\n---\nbody")
    with pytest.raises(DocError, match="status"):
        parse_doc(p)


def test_duplicate_ids_are_rejected(tmp_path: Path) -> None:
    write(tmp_path, "KB-1", "One")
    (tmp_path / "copy.md").write_text(DOC.format(id="KB-1", title="Two", intro="x"))
    docs, errors = load_docs(tmp_path)
    assert len(docs) == 1 and len(errors) == 1 and "duplicate id" in str(errors[0])


def test_chunks_carry_title_and_respect_size(tmp_path: Path) -> None:
    long_intro = "\n\n".join(f"Paragraph {i} " + "word " * 60 for i in range(10))
    doc = parse_doc(write(tmp_path, "KB-2", "Long article", long_intro))
    chunks = chunk_doc(doc, chunk_chars=500)
    assert len(chunks) > 3
    assert all(c.text.startswith("Long article") or c.text.startswith("# Long article") for c in chunks)
    assert all(len(c.text) <= 500 + len("Long article") + 2 for c in chunks)


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
