"""Markdown + front matter -> docs -> chunks (no store here: tests/integration/test_knowledge_store.py)."""

from pathlib import Path

import pytest

from knowledge.ingest import DocError, chunk_doc, load_docs, parse_doc

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
