"""Hybrid retrieval: BM25 + dense fused by reciprocal rank (real Chroma, real embedder, real bm25s).

The same checks run on `knowledge.testing.InMemoryRetriever` in tests/unit/test_in_memory_retriever.py."""

from __future__ import annotations

from pathlib import Path

from knowledge.embeddings import Embedder
from knowledge.store import RRF_K, KnowledgeStore

DOCS = {
    "KB-101": ("Reset your password", "en", "account_access", "Use the Forgot password link on the sign-in page."),
    "KB-102": ("Payslip resend", "en", "payslips", "Open the employee profile and click Resend payslip."),
    "KB-103": (
        "Bank file rejected",
        "en",
        "integrations",
        "If the bank portal shows error BX-7741 the salary file uses an outdated format; export it again.",
    ),
    "KB-104": (
        "Відпустка, як подати заявку",
        "uk",
        "leave_and_absence",
        "Відкрийте розділ Відпустки і натисніть Подати заявку.",
    ),
    "KB-105": ("Two-factor authentication", "en", "account_access", "Scan the QR code with an authenticator app."),
}


def write_kb(root: Path, docs: dict[str, tuple[str, str, str, str]]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for doc_id, (title, lang, cat, body) in docs.items():
        (root / f"{doc_id}.md").write_text(
            f"---\nid: {doc_id}\ntitle: {title}\ntype: kb\nproduct: payroll\ncategory: {cat}\nlanguage: {lang}\n"
            f"auto_resolvable: true\naction: info\n---\n# {title}\n\n{body}\n",
            encoding="utf-8",
        )
    return root


def test_exact_code_found_by_bm25_is_fused_with_dense(tmp_path: Path, embedder: Embedder) -> None:
    store = KnowledgeStore(tmp_path / "chroma", embedder)
    store.ingest(write_kb(tmp_path / "kb", DOCS))
    hits = store.search("we get BX-7741 when uploading", k=3)
    assert hits[0].doc_id == "KB-103"
    top = hits[0]
    assert top.lexical_rank == 1 and top.dense_rank is not None
    assert top.fused == round(1 / (RRF_K + top.dense_rank) + 1 / (RRF_K + 1), 6)
    # scores stay cosine similarities (the policy thresholds are calibrated on them)
    assert all(-1.0 <= h.score <= 1.0 for h in hits)
    fused = [h.fused or 0.0 for h in hits]
    assert fused == sorted(fused, reverse=True)


def test_filters_apply_to_both_sides(tmp_path: Path, embedder: Embedder) -> None:
    store = KnowledgeStore(tmp_path / "chroma", embedder)
    report = store.ingest(write_kb(tmp_path / "kb", DOCS))
    assert not report.errors and len(report.added) == len(DOCS)
    hits = store.search("заявку на відпустку", k=5, filters={"language": "en"})
    assert hits and all(h.language == "en" for h in hits)
    uk = store.search("заявку на відпустку", k=1, filters={"language": ["uk"]})
    assert [h.doc_id for h in uk] == ["KB-104"] and uk[0].lexical_rank == 1


def test_dense_mode_has_no_lexical_side(tmp_path: Path, embedder: Embedder) -> None:
    store = KnowledgeStore(tmp_path / "chroma", embedder)
    store.ingest(write_kb(tmp_path / "kb", DOCS))
    hits = store.search("reset password", k=2, mode="dense")
    assert hits[0].doc_id == "KB-101" and hits[0].lexical_rank is None and hits[0].fused is None


def test_reingest_refreshes_the_lexical_index(tmp_path: Path, embedder: Embedder) -> None:
    store = KnowledgeStore(tmp_path / "chroma", embedder)
    kb = write_kb(tmp_path / "kb", DOCS)
    store.ingest(kb)
    assert store.search("ZQ-9001", k=5)[0].lexical_rank is None  # no such code anywhere yet
    changed = dict(DOCS)
    changed["KB-105"] = (*DOCS["KB-105"][:3], "Scan the QR code. Error ZQ-9001 means the clock is off.")
    store.ingest(write_kb(kb, changed))  # same chunk count, new content
    hits = store.search("ZQ-9001", k=5)
    assert hits[0].doc_id == "KB-105" and hits[0].lexical_rank == 1


def test_dense_weight_shifts_the_fusion_towards_bm25(tmp_path: Path, embedder: Embedder) -> None:
    store = KnowledgeStore(tmp_path / "chroma", embedder)
    store.ingest(write_kb(tmp_path / "kb", DOCS))
    lexical_only = store.search("подати заявку resend", k=5, dense_weight=0.0)
    ranked = [h for h in lexical_only if h.lexical_rank is not None]
    assert ranked == lexical_only[: len(ranked)]  # BM25 hits first, in BM25 order
    assert [h.lexical_rank for h in ranked] == list(range(1, len(ranked) + 1))
    assert all(h.fused == round(1 / (RRF_K + (h.lexical_rank or 0)), 6) for h in ranked)


RCA_DOC = """---
id: RCA-901
title: Leave stopped accruing for part-time staff after a working pattern change
type: rca
product: hcm
category: leave_and_absence
language: en
status: {status}
auto_resolvable: true
action: none
---
# Leave stopped accruing for part-time staff after a working pattern change

## Symptoms
Monthly leave accrual lines show 0.00 for part-time employees whose working pattern changed in September.

## Root cause
The accrual job read the FTE as of the leave policy's effective date, found none and used 0.

## Workaround
Not needed any more. To restore the missing days, open the pay run, click Cancel calculation and then
click Calculate again to restart the calculation.

## Status
Fixed in release 2025.11.1.
"""
HOWTO_DOC = """---
id: KB-902
title: Payroll run stuck in Calculating
type: kb
product: payroll
category: payroll_run
language: en
auto_resolvable: true
action: none
---
# Payroll run stuck in Calculating

If a pay run has shown Calculating for much longer than usual, it is waiting for missing data. Open the
Calculation log, fill in what it lists, click Cancel calculation and click Calculate.
"""


def rca_kb(root: Path, status: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "RCA-901.md").write_text(RCA_DOC.format(status=status), encoding="utf-8")
    (root / "KB-902.md").write_text(HOWTO_DOC, encoding="utf-8")
    write_kb(root, {"KB-102": DOCS["KB-102"]})
    return root


def test_a_fixed_root_cause_ranks_by_its_symptoms_not_its_recovery_steps(tmp_path: Path, embedder: Embedder) -> None:
    recovery = "How do I restore missing days: cancel the calculation of the pay run and calculate again?"
    symptoms = "Part-time employees accrue 0.00 leave since their working pattern changed"
    for status in ("workaround", "fixed"):
        store = KnowledgeStore(tmp_path / status / "chroma", embedder, chunk_chars=200)
        store.ingest(rca_kb(tmp_path / status / "kb", status))
        for mode in ("dense", "hybrid"):
            hits = store.search(recovery, k=3, mode=mode)
            order = [h.doc_id for h in hits]
            rca = hits[order.index("RCA-901")]
            # its recovery steps are its best match either way; that is its score and text
            assert rca.chunk_id != "RCA-901#0" and rca.score > hits[order.index("KB-902")].score
            if status == "workaround":  # the steps to take now: they rank it
                assert order[0] == "RCA-901", (mode, order)
            else:  # fixed: only what it caused ranks it, and the how-to article comes first
                assert order.index("KB-902") < order.index("RCA-901"), (mode, order)
            assert store.search(symptoms, k=3, mode=mode)[0].doc_id == "RCA-901"
