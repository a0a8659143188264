"""Training side of the risk model's semantic part: ticket vectors, out-of-fold scores, the final fit.

The vectors are the recorded embedder's "query: " embeddings of the whole ticket (the same call
`RiskModel.semantic_probability` makes). Embedding the set takes minutes on a small CPU, so
`VectorCache` keeps them in a JSONL file (sha256 of the text -> vector, per embedder) that a rerun
reads instead of embedding again; it is a cache, never shipped, and a vector is only ever looked up by
the embedder key it was made with.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from sklearn.linear_model import LogisticRegression

from agent.graph.risk.model import pack

if TYPE_CHECKING:
    from knowledge.embeddings import Embedder

SEMANTIC_C_GRID = (3.0, 10.0, 30.0)
# how a ticket's pieces are scored (model.SemanticPart.raw); dev CV AP at C=10: whole 0.911, max 0.926, mix 0.945
SCORING = "mix"
Matrix = npt.NDArray[np.float32]


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class VectorCache:
    """Ticket vectors of one embedder, kept in a JSONL file (or in memory when `path` is None)."""

    def __init__(self, embedder: Embedder, path: Path | None = None, batch: int = 16):
        self.embedder = embedder
        self.key = embedder.identity.key
        self.path = path
        self.batch = batch
        self.vectors: dict[str, Matrix] = {}
        if path is not None and path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                row = json.loads(line)
                if row.get("embedder") == self.key:
                    self.vectors[row["h"]] = np.asarray(row["v"], dtype=np.float32)

    def matrix(self, texts: Sequence[str], progress: bool = False) -> Matrix:
        """(len(texts), dim): cached vectors, the others embedded now (and cached)."""
        todo = list(dict.fromkeys(t for t in texts if text_key(t) not in self.vectors))
        for start in range(0, len(todo), self.batch):
            part = todo[start : start + self.batch]
            vecs = self.embedder.encode_queries(part)
            rows = [(text_key(t), v) for t, v in zip(part, vecs, strict=True)]
            self.vectors.update(rows)
            if self.path is not None:
                with self.path.open("a", encoding="utf-8") as f:
                    for h, v in rows:
                        f.write(json.dumps({"embedder": self.key, "h": h, "v": [float(x) for x in v]}) + "\n")
            if progress:
                print(f"  embedded {start + len(part)}/{len(todo)}", flush=True)
        dim = self.embedder.dim
        if not texts:
            return np.zeros((0, dim), dtype=np.float32)
        return np.stack([self.vectors[text_key(t)] for t in texts]).astype(np.float32)


def fit(x: Matrix, y: Sequence[bool], c: float, weights: Sequence[float] | None = None) -> LogisticRegression:
    lr = LogisticRegression(C=c, max_iter=5000, class_weight="balanced")
    lr.fit(x, np.asarray(y, dtype=int), sample_weight=None if weights is None else np.asarray(weights))  # pyright: ignore[reportUnknownMemberType]
    return lr


def decision(lr: LogisticRegression, x: Matrix) -> npt.NDArray[np.float64]:
    return np.asarray(lr.decision_function(x), dtype=np.float64)  # pyright: ignore[reportUnknownMemberType]


def body(lr: LogisticRegression, embedder: Embedder, a: float, b: float) -> dict[str, Any]:
    """The file's `semantic` section."""
    ident = embedder.identity
    return {
        "embedder": {"spec": ident.spec, "model": ident.model, "dim": ident.dim, "version": ident.version},
        "input": 'the whole ticket and its sentences (model.pieces), "query: " prefix, L2-normalised',
        "coef": pack(np.asarray(lr.coef_, dtype=np.float32).ravel()),  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType]
        "intercept": float(np.asarray(lr.intercept_, dtype=np.float64)[0]),  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType]
        "calibration": {"a": a, "b": b},
        "scoring": SCORING,
    }
