"""The opt-in embedding cache (knowledge/embedcache.py): real SQLite, a counting stand-in model."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from knowledge.embedcache import ENV, EmbeddingCache
from knowledge.embeddings import Embedder, EmbedderIdentity, Kind


class Counting(Embedder):
    """Deterministic vectors from the text's bytes; counts what it was asked to embed."""

    cacheable = True

    def __init__(self, version: str = "v1") -> None:
        super().__init__("test:counting")
        self.version = version
        self.seen: list[str] = []

    def _encode(self, texts: list[str], kind: Kind) -> NDArray[np.float32]:
        self.seen += texts
        out = np.zeros((len(texts), 8), dtype=np.float32)
        for i, t in enumerate(texts):
            raw = f"{self.version}{kind}{t}".encode("utf-8", "surrogatepass")
            out[i] = [sum(raw[j::8]) % 97 + 1 for j in range(8)]
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    @property
    def identity(self) -> EmbedderIdentity:
        return EmbedderIdentity(self.spec, "counting", 8, self.version)


@pytest.fixture
def cache_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "sub" / "embeddings.sqlite"
    monkeypatch.setenv(ENV, str(path))
    return path


def test_a_text_is_embedded_once_per_kind_and_model(cache_file: Path) -> None:
    model = Counting()
    texts = ["reset my password", "скинути пароль", "reset my password", "lone \ud83d surrogate"]
    first = model.encode(texts, "query")
    assert model.seen == ["reset my password", "скинути пароль", "lone \ud83d surrogate"]  # duplicates once
    again = model.encode(list(reversed(texts)), "query")
    assert np.array_equal(again, first[::-1]) and len(model.seen) == 3  # all from the file
    uncached = Counting()._encode(texts, "query")
    assert np.array_equal(first, uncached)  # what the model gives, row for row
    model.encode(["reset my password"], "passage")  # another kind is another vector
    assert model.seen[-1] == "reset my password" and len(model.seen) == 4
    other = Counting(version="v2")  # other weights never hit
    other.encode(["reset my password"], "query")
    assert other.seen == ["reset my password"]
    assert cache_file.exists()


def test_another_process_reads_what_one_stored(cache_file: Path) -> None:
    Counting().encode(["payslip not received"], "query")
    fresh = EmbeddingCache(cache_file)  # as a second process would open it
    model = Counting()
    vec = fresh.encode(model.identity.key, 8, ["payslip not received"], "query", lambda t: model._encode(t, "query"))
    assert model.seen == [] and fresh.hits == 1 and vec.shape == (1, 8)


def test_cached_false_and_an_unset_variable_always_compute(cache_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = Counting()
    model.encode(["a"], "query")
    model.encode(["a"], "query", cached=False)
    assert model.seen == ["a", "a"]
    monkeypatch.delenv(ENV)
    model.encode(["a"], "query")
    assert model.seen == ["a", "a", "a"]


def test_a_broken_file_turns_the_cache_off_and_embedding_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    bad = tmp_path / "not-a-db.sqlite"
    bad.write_bytes(b"this is not a SQLite file at all" * 100)
    monkeypatch.setenv(ENV, str(bad))
    model = Counting()
    vec = model.encode(["x", "y"], "passage")
    assert vec.shape == (2, 8) and model.seen == ["x", "y"]
    assert "embedding cache" in caplog.text and "turned off" in caplog.text
    model.encode(["x"], "passage")
    assert model.seen == ["x", "y", "x"]


def test_a_stored_row_of_the_wrong_size_is_embedded_again(cache_file: Path) -> None:
    model = Counting()
    model.encode(["q"], "query")
    with sqlite3.connect(cache_file) as conn:
        conn.execute("UPDATE vectors SET vec = ?", (np.zeros(3, dtype=np.float32).tobytes(),))
    fresh = EmbeddingCache(cache_file)
    out = fresh.encode(model.identity.key, 8, ["q"], "query", lambda t: model._encode(t, "query"))
    assert model.seen == ["q", "q"] and np.isclose(float(np.linalg.norm(out[0])), 1.0)
