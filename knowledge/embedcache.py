"""A persistent cache of embeddings: the same text, kind and model never embedded twice.

Opt-in with ``TRIAGE_EMBEDDING_CACHE=<file>`` (a SQLite file; its folder is created). Worth it where
the same texts are embedded again and again: `triage eval` / `triage tune` runs over one dev set,
re-ingesting a KB into a fresh data dir or a new Chroma server, a test session. A vector is stored
under sha256(model identity key, kind, text): the identity names the weights (package version and
sha256, see `EmbedderIdentity`), so another model, a rebuilt engine or other weights never hit.
Several processes may share one file (WAL, busy timeout); any SQLite error turns the cache off for
the process with one warning and embedding goes on uncached, so the cache can never fail a ticket.
Benchmarks bypass it (`Embedder.encode(..., cached=False)`).

`RecentVectors` is the in-memory part, always on for the real models (`Embedder.recent_size`): the last texts each
embedder instance embedded, so one ticket's text is embedded once per process however many parts
of the service ask for it (the retrieve node searches with the whole ticket, then the risk model's
semantic part embeds the whole ticket again with its sentences: 3 e5 passes' worth of tokens per
ticket, 2 with this). A text's vector does not depend on what it is batched with (the engine runs
each text on its own tokens; checked in tests/integration/test_embedder_e5.py), so a remembered
vector is the one a new call would compute, bit for bit.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

log = logging.getLogger(__name__)

ENV = "TRIAGE_EMBEDDING_CACHE"
_BATCH = 500  # keys per SELECT (SQLite's default limit on bound variables is 32766)


def cache_key(identity_key: str, kind: str, text: str) -> bytes:
    return hashlib.sha256(f"{identity_key}\x00{kind}\x00{text}".encode("utf-8", "surrogatepass")).digest()


class EmbeddingCache:
    """Vectors by key in one SQLite file, one connection per thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self.broken: str | None = None
        self.hits = 0
        self.misses = 0

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vec BLOB NOT NULL) WITHOUT ROWID")
            self._local.conn = conn
        return conn

    def _off(self, exc: BaseException) -> None:
        if self.broken is None:
            log.warning("embedding cache %s turned off for this process: %s", self.path, exc)
        self.broken = str(exc)

    def get(self, keys: Sequence[bytes], dim: int) -> dict[bytes, NDArray[np.float32]]:
        found: dict[bytes, NDArray[np.float32]] = {}
        if self.broken is not None:
            return found
        try:
            conn = self._conn()
            for start in range(0, len(keys), _BATCH):
                part = list(keys[start : start + _BATCH])
                marks = ",".join("?" * len(part))
                for key, blob in conn.execute(f"SELECT key, vec FROM vectors WHERE key IN ({marks})", part):
                    vec = np.frombuffer(blob, dtype=np.float32)
                    if vec.shape == (dim,):  # anything else is not ours: embed again
                        found[bytes(key)] = vec
        except (sqlite3.Error, OSError) as exc:
            self._off(exc)
        return found

    def put(self, items: Sequence[tuple[bytes, NDArray[np.float32]]]) -> None:
        if self.broken is not None or not items:
            return
        try:
            rows = [(key, np.ascontiguousarray(vec, dtype=np.float32).tobytes()) for key, vec in items]
            self._conn().executemany("INSERT OR IGNORE INTO vectors (key, vec) VALUES (?, ?)", rows)
        except (sqlite3.Error, OSError) as exc:
            self._off(exc)

    def encode(
        self,
        identity_key: str,
        dim: int,
        texts: Sequence[str],
        kind: str,
        compute: Callable[[list[str]], NDArray[np.float32]],
    ) -> NDArray[np.float32]:
        """``compute(texts)`` for the texts not stored yet (each distinct text once), the rest from
        the file; rows in the order of ``texts``."""
        keys = [cache_key(identity_key, kind, t) for t in texts]
        found = self.get(keys, dim)
        todo: dict[bytes, str] = {}
        for key, text in zip(keys, texts, strict=True):
            if key not in found and key not in todo:
                todo[key] = text
        self.hits += len(texts) - len(todo)
        self.misses += len(todo)
        if todo:
            fresh = compute(list(todo.values()))
            new = list(zip(todo, (fresh[i] for i in range(len(todo))), strict=True))
            self.put(new)
            found.update(new)
        out = np.empty((len(texts), dim), dtype=np.float32)
        for i, key in enumerate(keys):
            out[i] = found[key]
        return out


class RecentVectors:
    """The last `size` (kind, text) -> vector of one embedder, least recently used out first."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, str], NDArray[np.float32]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def encode(
        self, texts: Sequence[str], kind: str, compute: Callable[[list[str]], NDArray[np.float32]]
    ) -> NDArray[np.float32]:
        """``compute(texts)`` for the texts not remembered (each distinct text once), in the order of
        ``texts``; rows in the order of ``texts``. A call of more than `size` texts (ingesting a
        knowledge base) is computed whole and remembers nothing: nothing in it is asked again soon."""
        if len(texts) > self.size:
            return compute(list(texts))
        found: dict[str, NDArray[np.float32]] = {}
        with self._lock:
            for text in texts:
                vec = self._items.get((kind, text))
                if vec is not None:
                    self._items.move_to_end((kind, text))
                    found[text] = vec
        todo = list(dict.fromkeys(t for t in texts if t not in found))
        self.hits += len(texts) - len(todo)
        self.misses += len(todo)
        if todo:
            fresh = compute(todo)
            with self._lock:
                for i, text in enumerate(todo):
                    vec = np.array(fresh[i], dtype=np.float32)  # a copy the caller cannot change
                    vec.flags.writeable = False
                    found[text] = vec
                    self._items[(kind, text)] = vec
                    self._items.move_to_end((kind, text))
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
        return np.stack([found[t] for t in texts]).astype(np.float32, copy=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_caches: dict[str, EmbeddingCache] = {}
_lock = threading.Lock()


def cache_from_env() -> EmbeddingCache | None:
    """The process's cache for ``TRIAGE_EMBEDDING_CACHE``, or None when it is unset or empty."""
    value = os.environ.get(ENV, "").strip()
    if not value:
        return None
    with _lock:
        if value not in _caches:
            _caches[value] = EmbeddingCache(Path(value).expanduser())
        return _caches[value]
