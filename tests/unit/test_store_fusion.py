"""Hybrid search keeps each side's best match in its top k (knowledge.store `_keep_firsts`)."""

from __future__ import annotations

from knowledge.store import FUSED_PLACES, KnowledgeStore, _score_ranks
from knowledge.types import Hit


def hit(doc_id: str, fused: float = 0.0, chunk: int = 0, doc_type: str = "kb", status: str | None = None) -> Hit:
    return Hit(
        doc_id=doc_id,
        chunk_id=f"{doc_id}#{chunk}",
        title=doc_id,
        doc_type="rca" if doc_type == "rca" else "kb",
        score=0.9,
        text="",
        status=status,
        fused=fused,
    )


def test_a_missing_first_takes_the_last_place() -> None:
    top = [hit(d) for d in "abcde"]
    out = KnowledgeStore._keep_firsts(top, [hit("x")])
    assert [h.doc_id for h in out] == ["a", "b", "c", "d", "x"]


def test_two_missing_firsts_keep_their_order_after_the_fused_ones() -> None:
    top = [hit(d) for d in "abcde"]
    out = KnowledgeStore._keep_firsts(top, [hit("x"), hit("y")])
    assert [h.doc_id for h in out] == ["a", "b", "c", "x", "y"]


def test_a_first_already_in_the_top_is_not_moved_nor_displaced() -> None:
    top = [hit(d) for d in "abcde"]
    out = KnowledgeStore._keep_firsts(top, [hit("e"), hit("x")])
    # "e" is a first: the place "x" takes is the last one that is not a first
    assert [h.doc_id for h in out] == ["a", "b", "c", "e", "x"]
    assert KnowledgeStore._keep_firsts(top, [hit("b")]) == top


def test_the_first_fused_places_and_short_lists_are_the_fused_order() -> None:
    top = [hit(d) for d in "abc"]
    assert [h.doc_id for h in KnowledgeStore._keep_firsts(top, [hit("x"), hit("y")])] == ["a", "b", "x"]
    short = top[:FUSED_PLACES]
    assert KnowledgeStore._keep_firsts(short, [hit("x")]) == short  # what the coverage check reads


def test_a_fixed_root_causes_recovery_chunk_does_not_make_it_the_closest() -> None:
    assert _score_ranks(hit("KB-1", chunk=3))
    assert _score_ranks(hit("RCA-1", chunk=0, doc_type="rca", status="fixed"))
    assert not _score_ranks(hit("RCA-1", chunk=2, doc_type="rca", status="fixed"))
    assert _score_ranks(hit("RCA-2", chunk=2, doc_type="rca", status="open"))
