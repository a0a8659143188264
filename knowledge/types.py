"""What the knowledge layer returns, and the one interface the agent searches it through.

`Retriever` is what the graph is typed against: the Chroma + BM25 `KnowledgeStore` implements it, and
so does `knowledge.testing.InMemoryRetriever` for unit tests (no embedder, no Chroma).
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

from pydantic import BaseModel

DocType = Literal["kb", "rca"]


class Hit(BaseModel):
    """One retrieved chunk, with the metadata of the document it belongs to."""

    doc_id: str
    chunk_id: str
    title: str
    doc_type: DocType
    score: float  # cosine similarity in [-1, 1], higher is closer
    text: str
    category: str | None = None
    product: str | None = None
    language: str | None = None
    auto_resolvable: bool = False
    action: str | None = None
    status: str | None = None  # rca docs: open | workaround | fixed
    # hybrid retrieval: 1-based ranks in the dense and BM25 lists (None: not in that list) and the
    # reciprocal-rank-fusion score the hits are ordered by
    dense_rank: int | None = None
    lexical_rank: int | None = None
    fused: float | None = None


class Retriever(Protocol):
    """Search the knowledge base and read whole documents."""

    def search(
        self,
        query: str,
        k: int = 5,
        filters: dict[str, Any] | None = None,
        mode: str = "hybrid",
        dense_weight: float = 1.0,
    ) -> list[Hit]: ...

    def document_text(self, doc_id: str) -> str: ...

    def count(self) -> int: ...
