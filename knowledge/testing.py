"""An in-memory `Retriever` for unit tests: the demo KB (or any docs) searched with no embedder and no Chroma.

`InMemoryRetriever` is the Chroma + BM25 `KnowledgeStore` with its dense half swapped for a
deterministic lexical stand-in, and everything else kept: the same chunks (`knowledge.ingest`), the same
hybrid search (best chunk per document, a candidate pool of max(8k, 20) chunks per side, the same
metadata `filters`, reciprocal rank fusion with `dense_weight`, `mode="dense"`), the same BM25 side (the
real `knowledge.lexical.LexicalIndex`) and `Hit`s with every field the store fills.

The dense stand-in is a TF-IDF cosine (sublinear term frequency, smoothed idf, the BM25 side's
6-character stems) mapped onto the scale of the embedder's cosine, because the policy's thresholds
(`retrieval` in policy.yaml: out of scope below 0.46, auto-resolve from 0.50) are calibrated on it:
``score = clip(0.20 + 1.45 * tfidf_cosine, 0, 1)``, the two constants fitted on English tickets (the
smoke set's and the graph tests') against all-MiniLM-L6-v2 on the demo KB. Like a cosine, unrelated
text scores low (~0.2-0.4) and a clear match high (0.6-0.9).

Against the real store on the demo KB and the 82 tickets of evals/datasets/smoke.jsonl (searched as
the retrieve node does, llm none): the same top document for 69 (English 43/49, Ukrainian 26/33);
the top score in the same policy band (below 0.46 / 0.46-0.50 / from 0.50) for 45 of the 49 English
ones; recall of a gold document at 1 0.70 (real 0.73), at 5 0.84 (real 0.78). It knows words, not
meanings: "pay stub" does not find "payslip", and a Ukrainian ticket finds Ukrainian documents only.
Tests that need exact scores script them:

    kb = InMemoryRetriever.demo()
    kb.script("never got her payslip", [kb.hit("KB-009", 0.49), kb.hit("KB-010", 0.47)])
    # any query containing that text (case-insensitive) now returns those two hits

`searches` records every call (query, k, filters, mode, dense_weight), so a test can check what the
graph searched for.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray

from knowledge.ingest import Chunk, Doc, DocError, chunk_doc, load_docs
from knowledge.lexical import LexicalIndex, tokens
from knowledge.types import Hit

DEMO_KB = Path(__file__).resolve().parent / "demo"
RRF_K = 60  # as knowledge.store.RRF_K (a unit test keeps them equal)
# tf-idf cosine -> the embedder's cosine scale (see the module docstring)
SCORE_FLOOR = 0.20
SCORE_SLOPE = 1.45


@dataclass(frozen=True)
class Search:
    """One call to `InMemoryRetriever.search`, as the caller made it."""

    query: str
    k: int
    filters: dict[str, Any] | None
    mode: str
    dense_weight: float


def _meta(doc: Doc, chunk_index: int) -> dict[str, Any]:
    """The metadata the store keeps with each chunk (the keys `filters` can name)."""
    m = doc.meta
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
        "content_hash": doc.content_hash,
        "source": doc.path,
        "chunk_index": chunk_index,
    }


def matches(filters: dict[str, Any] | None, meta: dict[str, Any]) -> bool:
    """The store's filter semantics: every non-None key must equal the value (or be one of a list,
    tuple or set of values)."""
    for key, value in (filters or {}).items():
        if value is None:
            continue
        allowed = list(cast(Any, value)) if isinstance(value, list | tuple | set) else [value]
        if meta.get(key) not in allowed:
            return False
    return True


class _Tfidf:
    """L2-normalised TF-IDF vectors of the chunks; `cosines(query)` against all of them."""

    def __init__(self, texts: Sequence[str]) -> None:
        docs = [Counter(tokens(t)) for t in texts]
        df: Counter[str] = Counter(term for d in docs for term in d)
        self.vocab = {term: i for i, term in enumerate(sorted(df))}
        n = len(docs)
        self.idf = np.array([math.log((1 + n) / (1 + df[t])) + 1.0 for t in sorted(df)], dtype=np.float64)
        self.matrix = np.stack([self._vector(d) for d in docs]) if docs else np.zeros((0, len(self.vocab)))

    def _vector(self, counts: Counter[str]) -> NDArray[np.float64]:
        v = np.zeros(len(self.vocab), dtype=np.float64)
        for term, tf in counts.items():
            i = self.vocab.get(term)
            if i is not None:
                v[i] = (1.0 + math.log(tf)) * self.idf[i]
        norm = float(np.linalg.norm(v))
        return v / norm if norm else v

    def cosines(self, query: str) -> NDArray[np.float64]:
        return self.matrix @ self._vector(Counter(tokens(query)))


def cosine_like(tfidf_cosine: float) -> float:
    """A TF-IDF cosine on the embedder's cosine scale, in [0, 1]."""
    return round(min(1.0, max(0.0, SCORE_FLOOR + SCORE_SLOPE * tfidf_cosine)), 4)


class InMemoryRetriever:
    """`knowledge.types.Retriever` over documents held in memory (see the module docstring)."""

    def __init__(self, docs: Iterable[Doc], chunk_chars: int = 900) -> None:
        self.docs: dict[str, Doc] = {}
        for doc in docs:
            if doc.meta.id in self.docs:
                raise ValueError(f"duplicate document id {doc.meta.id!r}")
            self.docs[doc.meta.id] = doc
        self.chunks: list[Chunk] = [c for d in self.docs.values() for c in chunk_doc(d, chunk_chars)]
        self.metas = [_meta(self.docs[c.doc_id], c.index) for c in self.chunks]
        texts = [c.text for c in self.chunks]
        self._tfidf = _Tfidf(texts)
        self._lexical = LexicalIndex([c.id for c in self.chunks], texts, self.metas) if texts else None
        self._scripted: list[tuple[str, list[Hit]]] = []
        self.searches: list[Search] = []

    @classmethod
    def from_folder(cls, root: Path, chunk_chars: int = 900) -> InMemoryRetriever:
        """The markdown KB under `root`, parsed as `triage ingest` would; a file it would reject is
        an error here (a test's KB should be clean)."""
        docs, errors = load_docs(root)
        if errors:
            raise DocError(errors[0].path, f"{errors[0].reason} ({len(errors)} file(s) rejected under {root})")
        return cls(docs, chunk_chars)

    @classmethod
    def demo(cls) -> InMemoryRetriever:
        """The shipped demo KB (knowledge/demo: 38 KB articles, 10 RCA docs, 36 Ukrainian translations)."""
        return cls.from_folder(DEMO_KB)

    # -- scripting ------------------------------------------------------------------------------
    def script(self, query_contains: str, hits: Sequence[Hit]) -> None:
        """From now on, a query containing `query_contains` (case-insensitive; the first scripted
        text that matches wins) returns `hits` in this order, filtered and cut to `k`, instead of
        being searched."""
        if not query_contains.strip():
            raise ValueError("script() needs a non-empty text to recognise the query by")
        self._scripted.append((query_contains.casefold(), [h.model_copy() for h in hits]))

    def hit(self, doc_id: str, score: float, **fields: Any) -> Hit:
        """A `Hit` for a document of this KB (its first chunk and metadata) with the given `score`;
        `fields` override any other field."""
        doc = self.docs.get(doc_id)
        if doc is None:
            raise KeyError(f"no document {doc_id!r} in this retriever (have {', '.join(sorted(self.docs)) or 'none'})")
        first = next(i for i, c in enumerate(self.chunks) if c.doc_id == doc_id)
        return self._hit(first, score).model_copy(update=fields)

    # -- the Retriever interface ------------------------------------------------------------------
    def count(self) -> int:
        """Chunks held (what the store's collection counts)."""
        return len(self.chunks)

    def document_text(self, doc_id: str) -> str:
        """The whole document body, rebuilt from its chunks as the store does ("" for an unknown
        id); a document only scripted hits name reads as their texts."""
        if doc_id in self.docs:  # rebuilt from the chunks, exactly as the store does
            title = self.docs[doc_id].meta.title
            parts = [c for c in self.chunks if c.doc_id == doc_id]
            return "\n\n".join(c.text.removeprefix(f"{title}\n\n") if c.index > 0 else c.text for c in parts)
        texts = [h.text for _, hits in self._scripted for h in hits if h.doc_id == doc_id]
        return "\n\n".join(dict.fromkeys(texts))

    def categories(self) -> dict[str, str]:
        """doc_id -> category for every document."""
        return {doc_id: d.meta.category for doc_id, d in self.docs.items()}

    def search(
        self,
        query: str,
        k: int = 5,
        filters: dict[str, Any] | None = None,
        mode: str = "hybrid",
        dense_weight: float = 1.0,
    ) -> list[Hit]:
        """Top-k documents (best chunk per document), as `KnowledgeStore.search` ranks them."""
        self.searches.append(Search(query, k, dict(filters) if filters else None, mode, dense_weight))
        folded = query.casefold()
        for needle, hits in self._scripted:
            if needle in folded:
                return [h.model_copy() for h in hits if matches(filters, _hit_meta(h))][:k]
        n = len(self.chunks)
        if self._lexical is None or not query.strip():
            return []
        pool = min(n, max(k * 8, 20))
        cosines = self._tfidf.cosines(query)
        allowed = [i for i in range(n) if matches(filters, self.metas[i])]
        # the dense side: the `pool` closest chunks (stable order on ties, like an exact index)
        nearest = sorted(allowed, key=lambda i: (-cosines[i], i))[:pool]
        best: dict[str, Hit] = {}
        for i in nearest:
            doc_id = self.chunks[i].doc_id
            if doc_id not in best:
                best[doc_id] = self._hit(i, cosine_like(float(cosines[i])))
        dense = sorted(best.values(), key=lambda h: h.score, reverse=True)
        for rank, h in enumerate(dense, 1):
            h.dense_rank = rank
        if mode == "dense":
            return self._one_per_article(dense, k)

        index = {c.id: i for i, c in enumerate(self.chunks)}
        lex_rank: dict[str, int] = {}
        for chunk_id, _score in self._lexical.search(query, pool, lambda meta: matches(filters, meta)):
            i = index[chunk_id]
            doc_id = self.chunks[i].doc_id
            if doc_id not in lex_rank:
                lex_rank[doc_id] = len(lex_rank) + 1
                if doc_id not in best:  # found by BM25 only: that chunk, with its cosine to the query
                    best[doc_id] = self._hit(i, cosine_like(float(cosines[i])))
        for doc_id, h in best.items():
            h.lexical_rank = lex_rank.get(doc_id)
            fused = (dense_weight / (RRF_K + h.dense_rank) if h.dense_rank else 0.0) + (
                1.0 / (RRF_K + h.lexical_rank) if h.lexical_rank else 0.0
            )
            h.fused = round(fused, 6)
        return self._one_per_article(sorted(best.values(), key=lambda h: (h.fused or 0.0, h.score), reverse=True), k)

    def _one_per_article(self, ranked: list[Hit], k: int) -> list[Hit]:
        """As the store: an article and its translations take one place, under the original's id."""
        out: list[Hit] = []
        for h in ranked:
            doc_id = self.docs[h.doc_id].meta.translation_of or h.doc_id
            if any(o.doc_id == doc_id for o in out):
                continue
            out.append(h if doc_id == h.doc_id else h.model_copy(update={"doc_id": doc_id}))
            if len(out) == k:
                break
        return out

    def _hit(self, i: int, score: float) -> Hit:
        chunk, meta = self.chunks[i], self.metas[i]
        return Hit(
            doc_id=chunk.doc_id,
            chunk_id=chunk.id,
            title=str(meta["title"]),
            doc_type="rca" if meta["type"] == "rca" else "kb",
            score=score,
            text=chunk.text,
            category=str(meta["category"]),
            product=str(meta["product"]),
            language=str(meta["language"]),
            auto_resolvable=bool(meta["auto_resolvable"]),
            action=str(meta["action"]) or None,
            status=str(meta["status"]) or None,
        )


def _hit_meta(hit: Hit) -> dict[str, Any]:
    """A scripted hit's fields under the metadata keys `filters` use."""
    return {
        "doc_id": hit.doc_id,
        "title": hit.title,
        "type": hit.doc_type,
        "product": hit.product,
        "category": hit.category,
        "language": hit.language,
        "auto_resolvable": hit.auto_resolvable,
        "action": hit.action or "",
        "status": hit.status or "",
    }
