"""`RecentVectors` (knowledge/embedcache.py): the in-memory vectors an embedder keeps, with a counting
stand-in for the model (the real engine's rows are checked in tests/integration/test_embedder_e5.py)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from knowledge.embedcache import RecentVectors


class Model:
    """Vectors from the text's bytes; records every batch it computes."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    def __call__(self, texts: list[str]) -> NDArray[np.float32]:
        self.batches.append(list(texts))
        out = np.zeros((len(texts), 4), dtype=np.float32)
        for i, t in enumerate(texts):
            out[i] = [len(t), sum(t.encode()) % 97, ord(t[0]) if t else 0, 1.0]
        return out


def test_rows_follow_the_callers_order_and_each_text_is_computed_once() -> None:
    model, recent = Model(), RecentVectors(size=8)
    a = recent.encode(["b", "a"], "query", model)
    got = recent.encode(["a", "c", "a", "b", "d"], "query", model)
    assert model.batches == [["b", "a"], ["c", "d"]]
    assert np.array_equal(got, model(["a", "c", "a", "b", "d"]))
    assert np.array_equal(a, got[[3, 0]])
    assert (recent.hits, recent.misses) == (3, 4)


def test_the_kind_is_part_of_the_key_and_a_callers_copy_is_its_own() -> None:
    model, recent = Model(), RecentVectors(size=8)
    first = recent.encode(["x"], "query", model)
    first[:] = -1.0
    assert recent.encode(["x"], "query", model)[0, 0] == 1.0
    recent.encode(["x"], "passage", model)
    assert model.batches == [["x"], ["x"]]


def test_least_recently_used_goes_first_and_a_big_call_remembers_nothing() -> None:
    model, recent = Model(), RecentVectors(size=2)
    recent.encode(["a"], "query", model)
    recent.encode(["b"], "query", model)
    recent.encode(["a"], "query", model)  # a is now the most recent
    recent.encode(["c"], "query", model)  # b goes
    recent.encode(["a", "c"], "query", model)
    assert model.batches == [["a"], ["b"], ["c"]]
    recent.encode(["b"], "query", model)
    assert model.batches[-1] == ["b"]
    recent.encode(["p", "q", "r"], "passage", model)  # more than it keeps: computed whole, kept not
    recent.encode(["p"], "passage", model)
    assert model.batches[-2:] == [["p", "q", "r"], ["p"]]
    off = RecentVectors(size=0)
    off.encode(["a"], "query", model)
    off.encode(["a"], "query", model)
    assert model.batches[-2:] == [["a"], ["a"]]
