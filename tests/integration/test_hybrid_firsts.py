"""Hybrid search keeps the dense side's best match in its top k when BM25 never matched it (real Chroma,
real e5 embedder, real bm25s): reciprocal rank alone puts a document first on one side and absent
from the other below every document both sides found (knowledge/store.py, "Fusion")."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.embeddings import Embedder, EngineUnsupportedError
from knowledge.store import KnowledgeStore
from tests.integration.test_hybrid_retrieval import write_kb

# every other document shares the query's word "видео"; the answer shares no word (nor 4-gram) with it
QUERY = "Как убрать видео?"
DOCS = {
    "FAQ-1": ("Удаление ролика с канала", "ru", "general", "Откройте Студию, выберите ролик и нажмите Удалить."),
    "FAQ-2": ("Качество видео", "ru", "general", "Видео показывается в качестве, которое позволяет сеть."),
    "FAQ-3": ("Обложка видео", "ru", "general", "Обложку видео загружают в формате JPG или PNG."),
    "FAQ-4": ("Длительность видео", "ru", "general", "Видео может длиться до десяти часов."),
    "FAQ-5": ("Формат видео", "ru", "general", "Видео принимается в формате MP4 или MOV."),
    "FAQ-6": ("Субтитры к видео", "ru", "general", "Субтитры к видео добавляют файлом SRT."),
}


@pytest.fixture
def store(tmp_path: Path, default_embedder: Embedder) -> KnowledgeStore:
    try:
        default_embedder.encode_queries(["warm up"])
    except EngineUnsupportedError as exc:  # a CPU without AVX2/FMA and the wheel's engine
        pytest.skip(str(exc))
    store = KnowledgeStore(tmp_path / "chroma", default_embedder)
    assert not store.ingest(write_kb(tmp_path / "kb", DOCS)).errors
    return store


def test_the_closest_document_keeps_a_place_bm25_alone_would_take(store: KnowledgeStore) -> None:
    dense = store.search(QUERY, k=6, mode="dense")
    closest = max(dense, key=lambda h: h.score).doc_id
    assert closest == "FAQ-1"
    hybrid = store.search(QUERY, k=3)
    assert "FAQ-1" in [h.doc_id for h in hybrid]
    kept = next(h for h in hybrid if h.doc_id == "FAQ-1")
    assert kept.lexical_rank is None  # BM25 never matched it: by fused score it would be last of 6
    assert all(h.lexical_rank is not None for h in hybrid if h.doc_id != "FAQ-1")
    # the first places stay the fused order's, and a search for two is the fused order as it is
    assert [h.doc_id for h in store.search(QUERY, k=2)] == [h.doc_id for h in hybrid[:2]]
    assert "FAQ-1" not in [h.doc_id for h in store.search(QUERY, k=2)]
