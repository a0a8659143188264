"""knowledge.testing.InMemoryRetriever: the store's hybrid search over documents in memory, with a
lexical stand-in for the embedder. The checks of tests/integration/test_hybrid_retrieval.py run here
on the fake, plus what the graph tests rely on: the right demo document for a clear ticket, scores on
the policy's cosine scale, scripted hits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.graph.policy import load_policy
from agent.settings import REPO_ROOT
from knowledge.ingest import DocError, load_docs
from knowledge.testing import RRF_K, InMemoryRetriever
from knowledge.types import Hit, Retriever
from tests.conftest import SMOKE
from tests.unit.minilm_policy import minilm_policy_file

POLICY = load_policy(minilm_policy_file())

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


@pytest.fixture
def small(tmp_path: Path) -> InMemoryRetriever:
    return InMemoryRetriever.from_folder(write_kb(tmp_path / "kb", DOCS))


# -- the store's hybrid search, on the fake -------------------------------------------------------
def test_exact_code_found_by_bm25_is_fused_with_dense(small: InMemoryRetriever) -> None:
    hits = small.search("we get BX-7741 when uploading", k=3)
    assert hits[0].doc_id == "KB-103"
    top = hits[0]
    assert top.lexical_rank == 1 and top.dense_rank is not None
    assert top.fused == round(1 / (RRF_K + top.dense_rank) + 1 / (RRF_K + 1), 6)
    assert all(0.0 <= h.score <= 1.0 for h in hits)
    fused = [h.fused or 0.0 for h in hits]
    assert fused == sorted(fused, reverse=True)


def test_filters_apply_to_both_sides(small: InMemoryRetriever) -> None:
    hits = small.search("заявку на відпустку", k=5, filters={"language": "en"})
    assert hits and all(h.language == "en" for h in hits)
    uk = small.search("заявку на відпустку", k=1, filters={"language": ["uk"]})
    assert [h.doc_id for h in uk] == ["KB-104"] and uk[0].lexical_rank == 1
    assert small.search("password", k=5, filters={"doc_id": "KB-102", "product": None})[0].doc_id == "KB-102"
    assert small.search("password", k=5, filters={"category": ("payslips", "integrations")}) != []
    assert small.search("password", filters={"language": "de"}) == []


def test_dense_mode_has_no_lexical_side(small: InMemoryRetriever) -> None:
    hits = small.search("reset password", k=2, mode="dense")
    assert hits[0].doc_id == "KB-101" and hits[0].lexical_rank is None and hits[0].fused is None
    assert [h.dense_rank for h in hits] == [1, 2]


def test_dense_weight_shifts_the_fusion_towards_bm25(small: InMemoryRetriever) -> None:
    lexical_only = small.search("подати заявку resend", k=5, dense_weight=0.0)
    ranked = [h for h in lexical_only if h.lexical_rank is not None]
    assert ranked == lexical_only[: len(ranked)]  # BM25 hits first, in BM25 order
    assert [h.lexical_rank for h in ranked] == list(range(1, len(ranked) + 1))
    assert all(h.fused == round(1 / (RRF_K + (h.lexical_rank or 0)), 6) for h in ranked)


def test_k_empty_queries_and_an_empty_kb(small: InMemoryRetriever) -> None:
    assert len(small.search("password payslip bank", k=2)) == 2
    assert len(small.search("password payslip bank", k=50)) == len(DOCS)  # one hit per document
    assert small.search("   ") == []
    assert InMemoryRetriever([]).search("anything") == [] and InMemoryRetriever([]).count() == 0


def test_the_fusion_constant_is_the_stores() -> None:
    from knowledge.store import RRF_K as STORE_RRF_K

    assert RRF_K == STORE_RRF_K


# -- what the graph reads ---------------------------------------------------------------------------
def test_it_is_a_retriever_and_fills_every_field_the_store_fills(kb: InMemoryRetriever) -> None:
    retriever: Retriever = kb  # pyright checks the protocol
    docs, _ = load_docs(REPO_ROOT / "knowledge" / "demo")
    assert kb.count() == len(kb.chunks) > len(docs) == len(kb.docs) == 84  # 38 KB, 10 RCA, 36 Ukrainian translations
    hits = retriever.search("Payslip not received: an employee never got her March payslip email, resend it")
    top = hits[0]
    assert top.doc_id == "KB-009" and top.chunk_id.startswith("KB-009#")
    assert top.title == "How to resend a payslip to an employee" and top.title in top.text
    assert (top.doc_type, top.category, top.product, top.language) == ("kb", "payslips", "payroll", "en")
    assert top.auto_resolvable and top.action == "resend_payslip" and top.status is None
    assert top.dense_rank == 1 and top.lexical_rank == 1 and top.fused is not None
    assert len(hits) == 5 and len({h.doc_id for h in hits}) == 5
    rca = retriever.search("Clock-in on Android 15 fails with PF-5003 Location unavailable", k=3)
    assert (rca[0].doc_id, rca[0].doc_type, rca[0].status, rca[0].action) == ("RCA-005", "rca", "workaround", "none")


def test_scores_sit_on_the_policys_cosine_scale(kb: InMemoryRetriever) -> None:
    r = POLICY.retrieval
    clear = kb.search("I forgot my password and cannot sign in.")
    assert clear[0].doc_id == "KB-001" and clear[0].score >= r.auto_at_least
    off_topic = kb.search("Please write me a short poem about the sea and the stars for my mum.")
    assert off_topic and off_topic[0].score < r.out_of_scope_below
    assert all(0.0 <= h.score <= 1.0 for h in clear + off_topic)


def test_the_right_demo_document_for_most_smoke_tickets(kb: InMemoryRetriever) -> None:
    """English smoke tickets with gold documents (the embedder, hybrid: r@1 0.91, r@5 0.95)."""
    rows = [json.loads(line) for line in SMOKE.read_text(encoding="utf-8").splitlines() if line.strip()]
    cases = [(f"{r['subject']}\n\n{r['body']}", set(r["gold"]["doc_ids"])) for r in rows]
    cases = [(text, gold) for (text, gold), r in zip(cases, rows, strict=True) if gold and r["language"] == "en"]
    ranked = [[h.doc_id for h in kb.search(text)] for text, _ in cases]
    at1 = sum(ids[0] in gold for ids, (_, gold) in zip(ranked, cases, strict=True)) / len(cases)
    at5 = sum(bool(set(ids) & gold) for ids, (_, gold) in zip(ranked, cases, strict=True)) / len(cases)
    assert len(cases) == 44 and at1 >= 0.85 and at5 >= 0.95, (at1, at5)


def test_document_text_is_the_whole_document(kb: InMemoryRetriever) -> None:
    text = kb.document_text("KB-009")
    assert text.startswith("# How to resend a payslip") and "Resend payslip" in text and "Each payslip can be" in text
    assert kb.document_text("KB-404") == ""
    long = max(kb.docs, key=lambda d: len(kb.docs[d].body))
    assert sum(c.doc_id == long for c in kb.chunks) > 1  # rebuilt from several chunks, title not repeated
    assert kb.document_text(long).count(kb.docs[long].meta.title) == kb.docs[long].body.count(kb.docs[long].meta.title)
    assert kb.categories()["KB-009"] == "payslips"


def test_it_is_deterministic_and_records_the_searches(kb: InMemoryRetriever) -> None:
    a = kb.search("bank file rejected by PrivatBank", k=5, dense_weight=0.25)
    b = kb.search("bank file rejected by PrivatBank", k=5, dense_weight=0.25)
    assert a == b
    assert [(s.query, s.k, s.dense_weight, s.mode) for s in kb.searches] == [
        ("bank file rejected by PrivatBank", 5, 0.25, "hybrid")
    ] * 2


# -- scripted hits --------------------------------------------------------------------------------
def test_scripted_hits_answer_matching_queries_with_exact_scores(kb: InMemoryRetriever) -> None:
    scripted = [kb.hit("KB-009", 0.49), kb.hit("KB-010", 0.47, auto_resolvable=False)]
    kb.script("Never got her PAYSLIP", scripted)
    got = kb.search("Hi, one of our employees never got her payslip by email")
    assert got == scripted and [h.score for h in got] == [0.49, 0.47] and not got[1].auto_resolvable
    assert got[0].title == "How to resend a payslip to an employee" and got[0].category == "payslips"
    assert kb.search("... never got her payslip", k=1) == scripted[:1]
    assert kb.search("never got her payslip", filters={"doc_id": "KB-010"}) == scripted[1:]
    assert kb.search("I forgot my password")[0].doc_id == "KB-001"  # anything else is still searched
    got[0].score = 0.0
    assert kb.search("never got her payslip")[0].score == 0.49  # callers get copies


def test_scripted_documents_outside_the_kb_can_be_read(kb: InMemoryRetriever) -> None:
    made_up = Hit(doc_id="KB-900", chunk_id="KB-900#0", title="Made up", doc_type="kb", score=0.9, text="Only here.")
    kb.script("made up", [made_up])
    assert kb.search("a made up question") == [made_up]
    assert kb.document_text("KB-900") == "Only here."
    with pytest.raises(KeyError, match="no document 'KB-900'"):
        kb.hit("KB-900", 0.5)
    with pytest.raises(ValueError, match="non-empty"):
        kb.script(" ", [])


def test_a_broken_kb_is_an_error(tmp_path: Path) -> None:
    root = write_kb(tmp_path / "kb", DOCS)
    (root / "broken.md").write_text("no front matter", encoding="utf-8")
    with pytest.raises(DocError, match="no YAML front matter"):
        InMemoryRetriever.from_folder(root)
    docs, _ = load_docs(write_kb(tmp_path / "other", DOCS))
    with pytest.raises(ValueError, match="duplicate document id 'KB-101'"):
        InMemoryRetriever([*docs, docs[0]])
