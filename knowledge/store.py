"""Chroma-backed knowledge store: idempotent ingest and top-k retrieval with metadata filters.

One collection per embedder. `KnowledgeStore(path, embedder, "knowledge")` keeps its vectors in the
Chroma collection ``knowledge__<embedder key>`` (`index_name`: the model's name and a hash of its
spec, dimension and weights, e.g. ``knowledge__multilingual-e5-small-1a2b3c4d``), stamped at
creation with the embedder's identity (metadata ``embedder``, ``embedder_dim``,
``embedder_version``, ``embedder_key``). So switching TRIAGE_EMBEDDER never mixes vectors of two
models and never compares a query of one with the passages of another:
- the new embedder gets a collection of its own, empty until `triage kb ingest` (or `triage serve`,
  which ingests at start) embeds the KB with it; the old collection stays as it was, so a process
  still running the old embedder keeps searching its own vectors (a rolling switch is safe), and
  switching back needs no re-embedding. `drop_other_indexes()` removes the others when done;
- searching an empty collection while another embedder's collection of the same KB holds vectors
  raises `IndexMismatchError` ("run `triage kb ingest` to embed it with ...") rather than returning
  nothing, which would hand every ticket off as out of scope without saying why;
- a collection under this embedder's name whose stamp is missing or different (only possible when
  something else wrote it) is never searched (`IndexMismatchError`); the next ingest deletes it and
  re-embeds every document (`IngestReport.rebuilt` says why).

Cross-lingual (embedders with ``crosslingual = True``: multilingual-e5-small). A multilingual model
still scores a passage in the query's own language ~0.02-0.03 cosine higher than an equally relevant
one in another language, more than the gap between the right document and the next: a Ukrainian
ticket whose answer is an English document got the Ukrainian documents first (smoke set, 30
Ukrainian tickets, recall@5 0.57 against 0.98 for English). For such an embedder the store:
- indexes each document's title as a vector of its own (chunk ``<id>#title``, metadata
  ``part: title``; kept out of BM25 and of `document_text`), since tickets are short; a document
  scores the mean of its best body chunk's cosine and its title's;
- ranks the dense side by reciprocal-rank fusion of two rankings of those scores: as they are, and
  centred per document language (minus the mean over the documents of that language, for this
  query). Parameter-free; with a single-language KB it is plain score order;
- in hybrid search lets BM25 (which can only match documents in the query's script) reorder only
  the documents in the query's script among their own places of the dense order.
``Hit.score`` stays the raw cosine of the best body chunk (what the policy's thresholds read).
MiniLM (``crosslingual = False``) is unaffected. Measured: see README (issue 14).

Fusion. Reciprocal rank with k=60 scores a document first on one side and outside the other's pool
(1/61) below one tenth on both (2/70), so either side's best match could fall out of the top 5:
RuTube (Russian FAQ, train half), documents with the highest cosine at fused places 7-35 because BM25
never matched their wording ("Сколько студий мне могут дать в управление?" -> "К какому количеству
студий может быть ... предоставлен доступ"), and BM25 firsts at 6-20 that the dense side ranked
30-70. So a hybrid search keeps two documents in its top k whatever the fusion says: the one with
the highest cosine (`Hit.score`, what the policy's thresholds read; its chunk must rank the document)
and BM25's first. One missing takes the last place the fused order would give a document that is
neither; the first `FUSED_PLACES` (2) places stay the fused order's, and a search for 2 or fewer is
the fused order as it is (the coverage check asks which documents a search puts first). Dense search
(``mode="dense"``) is unchanged. Measured: see README (issue 14).

A fixed root cause is searched by what it caused (any embedder, dense and BM25 alike): only its
first chunk (the title and the Symptoms section) ranks it, not its recovery steps or status. Those
read like a how-to for anything in their area ("open the policy and click Recalculate balances",
"nothing needs to be done"), and outranked the how-to article a ticket needed: "a payroll stuck in
Calculating, what do I do?" got RCA-008 (part-time leave accrual, fixed) first, on its recovery
steps. A ticket that reports the symptoms still finds it; its ``Hit.score`` and text stay its best
body chunk's, as for any document (`_ranks_document`).

Where the vectors live, and how a change reaches every process (issue 16). ``url=None``: a Chroma
PersistentClient in `path` (the embedded default). ``url="http://host:port"``: a Chroma server
(chromadb's own `chroma run --path DIR --port N`, `chromadb.HttpClient`), so one process ingests and
every worker reads the same collections; the per-embedder stamped collections are the same there.
Either way our embedder is the collection's embedding function (Chroma's default downloads a model).
Every ingest that changes anything stamps the collection's metadata with a new ``kb_version``;
every search first reads (collection id, ``kb_version``, chunk count), two cheap reads, and when
they moved since the last search it drops the BM25 index and the cross-lingual matrix (rebuilt on
use) and, for a PersistentClient, opens a fresh Chroma client: a local client's vector segments are
loaded once per process and never see another process's writes (`InternalError: Error finding id`
for a chunk added by `triage kb ingest` elsewhere). A chunk that is gone or not readable by the time
it is fetched (a document changed between the BM25 rebuild and the fetch) is a miss, not an error.
A Chroma server that cannot be reached or fails is `KnowledgeUnavailableError` (transient: the
retrieve node retries and the worker requeues the ticket). Several processes on one PersistentClient
directory are outside Chroma's rules (readers are safe in practice; one writer at a time): scaled
deployments use the server (TRIAGE_CHROMA_URL).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import chromadb
import chromadb.errors
import httpx
import numpy as np
from chromadb.api import ClientAPI, ServerAPI
from chromadb.api.client import Client
from chromadb.api.models.Collection import Collection
from chromadb.config import Settings as ChromaSettings
from chromadb.config import System

from knowledge.embeddings import Embedder, EmbedderIdentity
from knowledge.ingest import Doc, DocError, chunk_doc, load_docs
from knowledge.lexical import LexicalIndex, script_of
from knowledge.types import Hit

RRF_K = 60  # reciprocal rank fusion constant (Cormack et al., 2009)
FUSED_PLACES = 2  # hybrid search: the first places always go by the fused order (`_keep_firsts`)
INGEST_HINT = "run `triage kb ingest <kb folder>` to embed the knowledge base with it"
VERSION_KEY = "kb_version"  # collection metadata: changes with every ingest that changes the collection
# a Chroma server answering like this is failing or unreachable; the same call may succeed later
_SERVER_ERRORS: tuple[type[BaseException], ...] = (httpx.TransportError, chromadb.errors.InternalError)

log = logging.getLogger(__name__)


class IndexMismatchError(RuntimeError):
    """The collection was not embedded by this store's embedder: searching it would compare vectors
    of two models. `triage kb ingest` (re-)embeds it."""


class KnowledgeUnavailableError(RuntimeError):
    """The knowledge base cannot be read right now: the Chroma server is unreachable or failing.
    Transient (agent/errors.py): the same search may succeed later."""


class EmptyKnowledgeError(RuntimeError):
    """This embedder's collection holds no documents: every ticket would be handed off with nothing
    retrieved. `triage kb ingest` fills it."""


def parse_chroma_url(url: str) -> tuple[str, int, bool]:
    """(host, port, ssl) of a Chroma server URL such as ``http://127.0.0.1:8001``; ValueError saying
    what is wrong otherwise."""
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"TRIAGE_CHROMA_URL must look like http://host:port, not {url!r}")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 8000)
    except ValueError as exc:
        raise ValueError(f"TRIAGE_CHROMA_URL {url!r}: {exc}") from None
    if parts.path.strip("/"):
        raise ValueError(f"TRIAGE_CHROMA_URL must be the server's root (http://host:port), not {url!r}")
    return parts.hostname, port, parts.scheme == "https"


def index_name(collection: str, identity: EmbedderIdentity) -> str:
    """The Chroma collection holding `collection`'s vectors by the embedder with `identity`."""
    return f"{collection}__{identity.key}"


@dataclass(frozen=True)
class OtherIndex:
    """A collection of the same knowledge base embedded by another (or an unrecorded) embedder."""

    name: str
    built_by: EmbedderIdentity | None
    chunks: int

    def describe(self) -> str:
        by = self.built_by.describe() if self.built_by else "an unrecorded embedder"
        return f"{self.name!r} ({self.chunks} chunks by {by})"


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    errors: list[DocError] = field(default_factory=list)
    chunks_written: int = 0
    rebuilt: str | None = None  # why the collection was emptied and every document re-embedded

    def summary(self) -> str:
        text = (
            f"added {len(self.added)}, updated {len(self.updated)}, unchanged {len(self.unchanged)}, "
            f"removed {len(self.removed)}, rejected {len(self.errors)}; {self.chunks_written} chunks written"
        )
        return f"re-embedded everything ({self.rebuilt}); {text}" if self.rebuilt else text


TITLE = "title"  # metadata `part` of a title vector (cross-lingual embedders)
TITLE_LAYOUT = "+title"  # metadata `layout` of documents indexed with a title vector


def _meta(doc: Doc, chunk_index: int, part: str = "body", layout: str = "") -> dict[str, str | int | bool]:
    m = doc.meta
    extra: dict[str, str | int | bool] = {"part": part, "layout": layout} if layout else {}
    return {
        "doc_id": m.id,
        "title": m.title,
        "type": m.type,
        "product": m.product,
        "category": m.category,
        "language": m.language,
        "auto_resolvable": m.auto_resolvable,
        "action": m.action,
        "status": m.status or "",
        "translation_of": m.translation_of or "",
        "content_hash": doc.content_hash,
        "source": doc.path,
        "chunk_index": chunk_index,
        **extra,
    }


def _is_title(meta: Any) -> bool:
    return bool(meta) and meta.get("part") == TITLE


def _ranks_document(meta: Any) -> bool:
    """Whether a body chunk's match to the query ranks its document: every chunk does, except a
    fixed root cause's after its first (its recovery steps and status; module docstring)."""
    fixed_rca = meta.get("type") == "rca" and meta.get("status") == "fixed"
    return not fixed_rca or _int(meta.get("chunk_index") or 0) == 0


def _score_ranks(hit: Hit) -> bool:
    """Whether the chunk that gives a hit its cosine (`Hit.score`) may rank its document
    (`_ranks_document`: not a fixed root cause's recovery steps)."""
    return not (hit.doc_type == "rca" and hit.status == "fixed") or hit.chunk_id.endswith("#0")


def _ranks(order: list[str]) -> dict[str, int]:
    return {d: r for r, d in enumerate(order, 1)}


def _where(filters: dict[str, Any] | None) -> dict[str, Any] | None:
    if not filters:
        return None
    clauses: list[dict[str, Any]] = []
    for key, value in filters.items():
        if value is None:
            continue
        if isinstance(value, list | tuple | set):
            clauses.append({key: {"$in": list(cast(Any, value))}})
        else:
            clauses.append({key: value})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _matcher(filters: dict[str, Any] | None) -> Any:
    """The dense search's metadata filters as a Python predicate, for the BM25 side."""
    if not filters:
        return None
    wanted = {k: v for k, v in filters.items() if v is not None}

    def ok(meta: dict[str, Any]) -> bool:
        for key, value in wanted.items():
            allowed = list(cast(Any, value)) if isinstance(value, list | tuple | set) else [value]
            if meta.get(key) not in allowed:
                return False
        return True

    return ok


def _int(value: object) -> int:
    return value if isinstance(value, int) else int(str(value))


class KnowledgeStore:
    """The knowledge base `collection` in the Chroma at `path` (or in the Chroma server at `url`),
    embedded by `embedder` (in its own collection, see the module docstring)."""

    def __init__(
        self,
        path: Path,
        embedder: Embedder,
        collection: str = "knowledge",
        chunk_chars: int = 900,
        url: str | None = None,
    ):
        self.path = path
        self.url = url.rstrip("/") if url else None
        self.location = f"the Chroma server at {self.url}" if self.url else str(path)
        self.client = self._connect()
        self.embedder = embedder
        self.name = collection
        self.identity = embedder.identity
        self.index = index_name(collection, self.identity)
        self.chunk_chars = chunk_chars
        self._lock = threading.Lock()
        self._lex: LexicalIndex | None = None
        self._lex_count = -1
        self._lex_stale = True
        self.crosslingual = bool(getattr(embedder, "crosslingual", False))
        self._layout = TITLE_LAYOUT if self.crosslingual else ""
        self._language_scripts: dict[str, str] = {}  # document language -> its dominant script
        self._dense: tuple[list[str], list[str], list[dict[str, Any]], np.ndarray] | None = None
        self._sync_lock = threading.RLock()
        self._seen: tuple[str, str, int] | None = None  # (collection id, kb_version, chunks) last searched
        self._warned_empty = False
        self.collection, self._mismatch = self._server_call(self._open)

    def _connect(self) -> ClientAPI:
        settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        if self.url is None:
            self.path.mkdir(parents=True, exist_ok=True)
            settings.persist_directory, settings.is_persistent = str(self.path), True
            return self._fresh_local(settings)
        host, port, ssl = parse_chroma_url(self.url)
        try:
            return chromadb.HttpClient(host=host, port=port, ssl=ssl, settings=settings)
        except (ValueError, *_SERVER_ERRORS) as exc:  # chromadb: "Could not connect to a Chroma server"
            raise KnowledgeUnavailableError(
                f"cannot reach {self.location} ({exc}): start it (`chroma run --path <dir> --host {host} "
                f"--port {port}`) or unset TRIAGE_CHROMA_URL to use the local store"
            ) from exc

    def _server_call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """`fn(...)`, with a Chroma server's transport errors and 5xx as `KnowledgeUnavailableError`."""
        if self.url is None:
            return fn(*args, **kwargs)
        try:
            return fn(*args, **kwargs)
        except _SERVER_ERRORS as exc:
            raise KnowledgeUnavailableError(f"{self.location} failed: {type(exc).__name__}: {exc}") from exc

    @staticmethod
    def _fresh_local(settings: ChromaSettings) -> ClientAPI:
        """A PersistentClient whose vector segments are read from disk now (see the module docstring):
        a Chroma System of its own (`chromadb.PersistentClient` would hand back the one this process
        opened first, however stale), registered for the path; an old one is dropped with its last user."""
        system = System(settings)
        system.instance(ServerAPI)
        system.start()
        return Client.from_system(system)

    def _reconnect(self) -> None:
        if self.url is None:  # a server client holds no segments: every call reads the server's state
            self.client = self._fresh_local(self.client.get_settings())

    def _version(self) -> tuple[str, str, int]:
        col = self.client.get_collection(self.index, embedding_function=self.embedder)  # type: ignore[arg-type]
        return str(col.id), str((col.metadata or {}).get(VERSION_KEY, "")), col.count()

    def sync(self, reload: bool = False) -> int:
        """See a change made by any process since the last call (module docstring); the chunk count.
        `reload`: open a fresh client even if nothing seems to have changed."""
        with self._sync_lock:
            try:
                seen = self._server_call(self._version)
            except (chromadb.errors.NotFoundError, ValueError):  # deleted, or re-made with another function
                seen = None
            if not reload and seen is not None and seen == self._seen:
                return seen[2]
            if reload or self._seen is not None:
                log.info("knowledge base %r in %s changed: reloading", self.index, self.location)
                self._reconnect()
            self.collection, self._mismatch = self._server_call(self._open)
            self._lex_stale = True  # the BM25 index (and the cross-lingual matrix) rebuild on next use
            self._seen = seen if seen is not None and seen[0] == str(self.collection.id) else None
            return self._server_call(self.collection.count)

    def _stamp(self) -> None:
        """Record that this collection changed (every other process reloads on its next search)."""
        version = f"{time.time_ns()}-{uuid.uuid4().hex[:8]}"
        meta: dict[str, Any] = {**self.identity.metadata(), VERSION_KEY: version}  # never hnsw:*: fixed at creation
        self.collection.modify(metadata=meta)
        with self._sync_lock:  # this process wrote it, so its own client is current
            self._seen = (str(self.collection.id), version, self.collection.count())

    def _open(self) -> tuple[Collection, str | None]:
        """This embedder's collection (created, stamped, when missing) and why it must not be searched
        (None: it is this embedder's)."""
        # Always our embedding function: Chroma's default would try to download a model.
        try:
            col = self.client.get_or_create_collection(
                name=self.index,
                embedding_function=self.embedder,  # type: ignore[arg-type]
                metadata={"hnsw:space": "cosine", **self.identity.metadata()},
            )
        except ValueError as exc:  # Chroma: the collection persists another embedding function
            col = self.client.get_collection(self.index, embedding_function=None)
            return col, f"it was created with another embedding function ({exc})"
        stamp = EmbedderIdentity.from_metadata(col.metadata)
        if stamp == self.identity:
            return col, None
        by = stamp.describe() if stamp else "an embedder it does not record"
        return col, f"collection {self.index!r} was embedded by {by}, not {self.identity.describe()}"

    def count(self) -> int:
        return self.sync()

    def require_documents(self) -> int:
        """The chunk count; `EmptyKnowledgeError` (saying how to fill it) when there are none. A worker
        calls this at start: with an empty KB every ticket would be handed off with nothing retrieved."""
        self.check_index()
        n = self.count()
        if n == 0:
            raise EmptyKnowledgeError(
                f"the knowledge base {self.name!r} in {self.location} is empty (collection {self.index!r}, "
                f"{self.identity.describe()}): every ticket would be handed off with no documents; {INGEST_HINT}"
            )
        return n

    def other_indexes(self) -> list[OtherIndex]:
        """Collections of this knowledge base by other embedders (or from before collections were
        stamped: the bare name), with their chunk counts."""
        out: list[OtherIndex] = []
        for col in self.client.list_collections():
            if col.name == self.index or not (col.name == self.name or col.name.startswith(f"{self.name}__")):
                continue
            out.append(OtherIndex(col.name, EmbedderIdentity.from_metadata(col.metadata), col.count()))
        return sorted(out, key=lambda o: o.name)

    def drop_other_indexes(self) -> list[str]:
        """Delete the other embedders' collections of this knowledge base (once no process uses them)."""
        dropped = [o.name for o in self.other_indexes()]
        for name in dropped:
            self.client.delete_collection(name)
        return dropped

    def check_index(self) -> None:
        """Raise `IndexMismatchError` unless this embedder's vectors can be searched: its collection
        is its own, and is not empty while another embedder's collection of the KB holds vectors.
        Cheap; `search` calls it, and a process can call it at start."""
        if self._mismatch:
            raise IndexMismatchError(
                f"{self._mismatch}: searching it would compare vectors of two models; {INGEST_HINT} "
                f"(TRIAGE_EMBEDDER={self.identity.spec}), which re-embeds every document"
            )
        if self.collection.count() == 0:
            built = [o for o in self.other_indexes() if o.chunks]
            if built:
                raise IndexMismatchError(
                    f"the knowledge base {self.name!r} in {self.location} is not embedded by "
                    f"{self.identity.describe()} yet (collection {self.index!r} is empty); it is by "
                    f"{', '.join(o.describe() for o in built)}. "
                    f"Vectors of two models are never compared: {INGEST_HINT}"
                )

    def _existing_hashes(self) -> dict[str, str]:
        got = self.collection.get(include=["metadatas"])
        hashes: dict[str, str] = {}
        for meta in got["metadatas"] or []:  # with the layout: a layout change re-embeds the document
            hashes[str(meta["doc_id"])] = f"{meta['content_hash']}{meta.get('layout') or ''}"
        return hashes

    def ingest(self, root: Path, prune: bool = False) -> IngestReport:
        docs, errors = load_docs(root)
        return self._server_call(self.ingest_docs, docs, errors, prune)

    def ingest_docs(self, docs: list[Doc], errors: list[DocError] | None = None, prune: bool = False) -> IngestReport:
        """Add or replace already-parsed documents (content hash: unchanged ones are skipped).
        `errors`: files that failed to parse; with any, pruning is skipped so nothing is lost."""
        errors = list(errors or [])
        report = IngestReport(errors=errors)
        self.sync()  # another process may have changed (or re-made) the collection since this one opened it
        if self._mismatch:  # never add vectors beside another model's: start the collection afresh
            report.rebuilt = self._mismatch
            self.client.delete_collection(self.index)
            self.collection, self._mismatch = self._open()
            self._lex_stale = True
        existing = self._existing_hashes()
        for doc in docs:
            old = existing.get(doc.meta.id)
            if old == f"{doc.content_hash}{self._layout}":
                report.unchanged.append(doc.meta.id)
                continue
            chunks = chunk_doc(doc, self.chunk_chars)
            texts = [c.text for c in chunks]
            ids = [c.id for c in chunks]
            metas = [_meta(doc, c.index, layout=self._layout) for c in chunks]
            if self.crosslingual:  # the title as a vector of its own (module docstring)
                texts.append(doc.meta.title)
                ids.append(f"{doc.meta.id}#{TITLE}")
                metas.append(_meta(doc, -1, TITLE, self._layout))
            vectors = self.embedder.encode_passages(texts)
            if vectors.shape[1] != self.identity.dim:
                raise IndexMismatchError(
                    f"{self.identity.spec} returned {vectors.shape[1]}-d vectors, its collection holds "
                    f"{self.identity.dim}-d ones"
                )
            if old is not None:
                self.collection.delete(where={"doc_id": doc.meta.id})
            self.collection.add(
                ids=ids,
                embeddings=list(vectors),
                documents=texts,
                metadatas=metas,  # type: ignore[arg-type]
            )
            report.chunks_written += len(ids)
            self._lex_stale = True
            (report.updated if old is not None else report.added).append(doc.meta.id)
        if prune and not errors:  # with rejected files, pruning could drop a doc that is only broken
            for doc_id in sorted(set(existing) - {d.meta.id for d in docs}):
                self.collection.delete(where={"doc_id": doc_id})
                report.removed.append(doc_id)
                self._lex_stale = True
        if report.added or report.updated or report.removed or report.rebuilt:
            self._stamp()
        return report

    def _lexical(self) -> LexicalIndex:
        n = self.collection.count()
        with self._lock:
            if self._lex is None or self._lex_count != n or self._lex_stale:
                fields: Any = ["documents", "metadatas", *(["embeddings"] if self.crosslingual else [])]
                got = self.collection.get(include=fields)
                metas = [dict(m) for m in got["metadatas"] or []]
                ids, texts = list(got["ids"]), list(got["documents"] or [])
                body = [i for i, m in enumerate(metas) if not _is_title(m)]  # titles: dense side only
                self._lex = LexicalIndex([ids[i] for i in body], [texts[i] for i in body], [metas[i] for i in body])
                if self.crosslingual:
                    by_lang: dict[str, list[str]] = {}
                    for m, t in zip(metas, texts, strict=True):
                        by_lang.setdefault(str(m.get("language")), []).append(t)
                    self._language_scripts = {lang: script_of(" ".join(ts)) for lang, ts in by_lang.items()}
                    embs = np.asarray(got["embeddings"], dtype=np.float32).reshape(len(ids), -1)
                    embs /= np.maximum(np.linalg.norm(embs, axis=1, keepdims=True), 1e-9)
                    self._dense = (ids, texts, metas, embs)
                self._lex_count, self._lex_stale = n, False
            return self._lex

    def _crosslingual_dense(
        self, qvec: np.ndarray, filters: dict[str, Any] | None, skip: frozenset[str] = frozenset()
    ) -> list[Hit]:
        """Every document matching `filters`, ordered by RRF of its score's rank and its rank after
        centring the scores per document language (module docstring); ``Hit.score`` is the raw
        cosine of the best body chunk, whose text the hit carries."""
        self._lexical()
        assert self._dense is not None
        ids, texts, metas, embs = self._dense
        sims = embs @ (qvec / max(float(np.linalg.norm(qvec)), 1e-9))
        ok = _matcher(filters)
        title: dict[str, float] = {}
        body: dict[str, int] = {}  # the best body chunk: the hit's score and text
        ranking: dict[str, int] = {}  # the best body chunk that ranks the document (`_ranks_document`)
        lang: dict[str, str] = {}
        for i, meta in enumerate(metas):
            if ok is not None and not ok(meta):
                continue
            doc_id, cos = str(meta["doc_id"]), float(sims[i])
            if doc_id in skip:
                continue
            if _is_title(meta):
                title[doc_id] = cos
            else:
                if doc_id not in body or cos > float(sims[body[doc_id]]):
                    body[doc_id] = i
                if _ranks_document(meta) and (doc_id not in ranking or cos > float(sims[ranking[doc_id]])):
                    ranking[doc_id] = i
            lang[doc_id] = str(meta["language"])
        # a document's score: the mean of its best ranking body chunk's cosine and its title's (a short
        # title alone is weak evidence: "Resend a payslip" scores 0.87 for "Я забув пароль")
        best: dict[str, float] = {}
        for d, i in body.items():
            cos = float(sims[ranking.get(d, i)])
            best[d] = (cos + title.get(d, cos)) / 2
        means: dict[str, float] = {}
        for language in set(lang.values()):
            vals = [best[d] for d in best if lang[d] == language]
            means[language] = sum(vals) / len(vals)
        raw = _ranks(sorted(best, key=lambda d: -best[d]))
        centred = _ranks(sorted(best, key=lambda d: -(best[d] - means[lang[d]])))
        fused = {d: 1.0 / (RRF_K + raw[d]) + 1.0 / (RRF_K + centred[d]) for d in best}
        hits: list[Hit] = []
        for rank, doc_id in enumerate(sorted(best, key=lambda d: (-fused[d], -best[d])), 1):
            i = body[doc_id]
            h = self._hit(ids[i], texts[i], metas[i], float(sims[i]))
            h.dense_rank = rank
            hits.append(h)
        return hits

    def _hit(self, chunk_id: str, text: str, meta: Any, cosine: float) -> Hit:
        return Hit(
            doc_id=str(meta["doc_id"]),
            chunk_id=chunk_id,
            title=str(meta["title"]),
            doc_type="rca" if meta["type"] == "rca" else "kb",
            score=round(cosine, 4),
            text=text,
            category=str(meta["category"]),
            product=str(meta["product"]),
            language=str(meta["language"]),
            auto_resolvable=bool(meta["auto_resolvable"]),
            action=str(meta["action"]) or None,
            status=str(meta["status"]) or None,
        )

    def search(
        self,
        query: str,
        k: int = 5,
        filters: dict[str, Any] | None = None,
        mode: str = "hybrid",
        dense_weight: float = 1.0,
    ) -> list[Hit]:
        """Top-k documents (best chunk per document) for the query.

        ``mode="hybrid"`` (default): the dense (Chroma, cosine) and BM25 document rankings are fused
        by reciprocal rank, RRF(d) = w / (60 + dense rank) + 1 / (60 + BM25 rank), with w =
        ``dense_weight`` (below 1 for a language the embedder does not rank reliably), and the
        document with the highest cosine and BM25's first kept in the top k (module docstring,
        "Fusion"); ``"dense"``: cosine only. Either way ``Hit.score`` is the document's cosine similarity, because the
        policy's retrieval thresholds are calibrated on it; the order is the fused one.
        """
        n = self.sync()
        self.check_index()
        if n == 0 and not self._warned_empty:
            self._warned_empty = True
            log.warning("the knowledge base %r in %s is empty: nothing can be retrieved; %s",
                        self.index, self.location, INGEST_HINT)  # fmt: skip
        if n == 0 or not query.strip():
            return []
        try:
            return self._search(query, k, filters, mode, dense_weight, n)
        except chromadb.errors.InternalError as exc:
            if self.url is not None:
                raise KnowledgeUnavailableError(f"{self.location} failed: {exc}") from exc
            # a local client that missed another process's write between sync() and now: reload, once
            log.info("knowledge base %r: %s; reloading and searching again", self.index, exc)
            return self._search(query, k, filters, mode, dense_weight, self.sync(reload=True))

    def _search(
        self, query: str, k: int, filters: dict[str, Any] | None, mode: str, dense_weight: float, n: int
    ) -> list[Hit]:
        qvec = self.embedder.encode_queries([query])[0]
        pool = min(n, max(k * 8, 20))
        if self.crosslingual:
            dense = self._crosslingual_dense(qvec, filters, self._other_versions(query))
            if mode == "dense":
                return self._one_per_article(dense, k)
            best = {h.doc_id: h for h in dense}
            return self._fuse(query, best, qvec, pool, filters, dense_weight, k)
        res = self._server_call(
            self.collection.query,
            query_embeddings=[qvec.tolist()],
            n_results=pool,
            where=_where(filters),
            include=["documents", "metadatas", "distances"],
        )
        ids = res["ids"][0]
        docs = (res["documents"] or [[]])[0]
        metas = (res["metadatas"] or [[]])[0]
        dists = (res["distances"] or [[]])[0]
        best: dict[str, Hit] = {}
        ranking: dict[str, float] = {}  # the cosine of the best chunk that ranks the document
        for chunk_id, text, meta, dist in zip(ids, docs, metas, dists, strict=True):
            doc_id = str(meta["doc_id"])
            if doc_id not in best:
                best[doc_id] = self._hit(chunk_id, text, meta, 1.0 - float(dist))
            if doc_id not in ranking and _ranks_document(meta):
                ranking[doc_id] = 1.0 - float(dist)
        # a document none of whose ranking chunks is in the pool is not on the dense side
        best = {d: h for d, h in best.items() if d in ranking}
        dense = sorted(best.values(), key=lambda h: ranking[h.doc_id], reverse=True)
        for rank, h in enumerate(dense, 1):
            h.dense_rank = rank
        if mode == "dense":
            return self._one_per_article(dense, k)
        return self._fuse(query, best, qvec, pool, filters, dense_weight, k)

    def _fuse(
        self,
        query: str,
        best: dict[str, Hit],
        qvec: np.ndarray,
        pool: int,
        filters: dict[str, Any] | None,
        dense_weight: float,
        k: int,
    ) -> list[Hit]:
        """`best` (the dense side's hits, with their ranks) fused with BM25 by reciprocal rank."""
        index = self._lexical()
        ok = _matcher(filters)
        lexical = index.search(query, pool, lambda m: _ranks_document(m) and (ok is None or ok(m)))
        lex_rank: dict[str, int] = {}
        lex_best_chunk: dict[str, str] = {}
        for chunk_id, _score in lexical:
            doc_id = str(index.meta_by_id[chunk_id]["doc_id"])
            if doc_id not in lex_rank:
                lex_rank[doc_id] = len(lex_rank) + 1
                lex_best_chunk[doc_id] = chunk_id
        missing = [lex_best_chunk[d] for d in lex_rank if d not in best]
        if missing:  # found by BM25 only: fetch the chunk and its cosine to the query
            for chunk_id, text, meta, emb in self._fetch(missing):
                cos = float(np.dot(emb, qvec) / max(float(np.linalg.norm(emb) * np.linalg.norm(qvec)), 1e-9))
                best[str(meta["doc_id"])] = self._hit(chunk_id, text, meta, cos)
            for doc_id in [d for d in lex_rank if d not in best]:  # gone since the BM25 index was built
                del lex_rank[doc_id]
        for doc_id, h in best.items():
            h.lexical_rank = lex_rank.get(doc_id)
            fused = (dense_weight / (RRF_K + h.dense_rank) if h.dense_rank else 0.0) + (
                1.0 / (RRF_K + h.lexical_rank) if h.lexical_rank else 0.0
            )
            h.fused = round(fused, 6)
        ranked = sorted(best.values(), key=lambda h: (h.fused or 0.0, h.score), reverse=True)
        if self.crosslingual:
            ranked = self._lexical_within_script(query, list(best.values()), ranked)
        # each side's best match: the highest cosine (`Hit.score`, when its chunk ranks the document)
        # and BM25's first
        scored = [h for h in ranked if _score_ranks(h)]
        closest = max(scored, key=lambda h: h.score) if scored else None
        firsts = [h for h in ranked if h is closest or h.lexical_rank == 1]
        return self._keep_firsts(self._one_per_article(ranked, k), self._one_per_article(firsts, 2))

    @staticmethod
    def _keep_firsts(top: list[Hit], firsts: list[Hit]) -> list[Hit]:
        """`top` (the fused first k) with each of `firsts` in it: one missing takes the place of the
        last fused one after the first `FUSED_PLACES` that is not itself in `firsts`, and goes after
        the others (whose order stays). A list of `FUSED_PLACES` or fewer is the fused order as it is
        (the coverage check reads a search's first two). Module docstring: "Fusion"."""
        if len(top) <= FUSED_PLACES:
            return top
        ids = {h.doc_id for h in top}
        missing = [h for h in firsts if h.doc_id not in ids]
        if not missing:
            return top
        keep = {h.doc_id for h in firsts} | {h.doc_id for h in top[:FUSED_PLACES]}
        out = list(top)
        for h in missing:
            spare = [i for i in range(len(out) - 1, FUSED_PLACES - 1, -1) if out[i].doc_id not in keep]
            if not spare:
                break
            del out[spare[0]]
            out.append(h)
        return out

    def _other_versions(self, query: str) -> frozenset[str]:
        """Versions of an article (itself and its translations) written in another script than the
        query, when one is in the query's: the dense side ranks each article in the query's language
        if it has it, so the per-language centring compares like with like (an English query ranks
        exactly as without translations) and two versions never compete."""
        self._lexical()
        mine = script_of(query)
        groups: dict[str, list[tuple[str, str]]] = {}
        for m in self._lexical().meta_by_id.values():
            doc_id = str(m["doc_id"])
            groups.setdefault(str(m.get("translation_of") or doc_id), []).append((doc_id, str(m["language"])))
        skip: set[str] = set()
        for versions in groups.values():
            same = {d for d, lang in versions if self._language_scripts.get(lang) == mine}
            if same and len({d for d, _ in versions}) > 1:
                skip |= {d for d, _ in versions} - same
        return frozenset(skip)

    def _one_per_article(self, ranked: list[Hit], k: int) -> list[Hit]:
        """The first k articles: an article and its translations (front matter `translation_of`)
        take one place, the best-ranked version's, under the original's id (so recall by doc id is
        honest and the reply cites the article; the draft reads the ticket's-language version)."""
        original = {
            str(m["doc_id"]): str(m["translation_of"])
            for m in self._lexical().meta_by_id.values()
            if m.get("translation_of")
        }
        out: list[Hit] = []
        for h in ranked:
            doc_id = original.get(h.doc_id, h.doc_id)
            if any(o.doc_id == doc_id for o in out):
                continue
            out.append(h if doc_id == h.doc_id else h.model_copy(update={"doc_id": doc_id}))
            if len(out) == k:
                break
        return out

    def _fetch(self, ids: list[str]) -> list[tuple[str, str, Any, np.ndarray]]:
        """(id, text, metadata, embedding) of the chunks among `ids` that exist now: a chunk deleted
        (its document changed or removed) since the BM25 index was built is a miss, not an error."""
        try:
            got = self._server_call(self.collection.get, ids=ids, include=["documents", "metadatas", "embeddings"])
        except chromadb.errors.InternalError:
            if self.url is not None:
                raise
            # a local client whose vector segment predates the chunk (another process wrote it): look
            # again through a fresh client; still unreadable means it is gone, a miss
            self.sync(reload=True)
            try:
                got = self.collection.get(ids=ids, include=["documents", "metadatas", "embeddings"])
            except chromadb.errors.InternalError as exc:
                log.warning("knowledge base %r: chunks %s not readable (%s); treated as misses", self.index, ids, exc)
                return []
        if not got["ids"]:
            return []
        embs = list(np.asarray(got["embeddings"], dtype=np.float32).reshape(len(got["ids"]), -1))
        return list(zip(got["ids"], got["documents"] or [], got["metadatas"] or [], embs, strict=True))

    def _lexical_within_script(self, query: str, dense: list[Hit], fused: list[Hit]) -> list[Hit]:
        """Cross-lingual embedders: BM25 can only match documents written in the query's script, so
        fusing it across languages would undo the dense side's language correction. The dense order
        decides which places go to which language; BM25 only reorders (by the fused score) the
        documents whose language is written in the query's script, among their own places."""
        scripts = self._language_scripts
        mine = script_of(query)
        dense = sorted(dense, key=lambda h: h.dense_rank or 1 << 30)
        slots = [i for i, h in enumerate(dense) if scripts.get(h.language or "") == mine]
        if not slots:
            return dense
        members = {dense[i].doc_id for i in slots}
        refill = [h for h in fused if h.doc_id in members]
        out = list(dense)
        for i, h in zip(slots, refill, strict=True):
            out[i] = h
        return out

    def document_text(self, doc_id: str) -> str:
        """The whole document body, rebuilt from its chunks in order."""
        self.sync()
        got = self._server_call(self.collection.get, where={"doc_id": doc_id}, include=["documents", "metadatas"])
        pairs = sorted(
            ((m, t) for m, t in zip(got["metadatas"] or [], got["documents"] or [], strict=True) if not _is_title(m)),
            key=lambda p: _int(p[0]["chunk_index"]),
        )
        # chunks after the first carry the title in front (for embedding); drop it when rebuilding
        return "\n\n".join(
            text.removeprefix(f"{meta['title']}\n\n") if _int(meta["chunk_index"]) > 0 else text for meta, text in pairs
        )

    def categories(self) -> dict[str, str]:
        """doc_id -> category for every stored document."""
        self.sync()
        got = self._server_call(self.collection.get, include=["metadatas"])
        return {str(m["doc_id"]): str(m["category"]) for m in got["metadatas"] or []}
