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
