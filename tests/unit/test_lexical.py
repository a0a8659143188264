"""The BM25 side's tokens (knowledge.lexical), shared by the store and the in-memory retriever."""

from __future__ import annotations

from knowledge.lexical import LexicalIndex, index_tokens, tokens


def test_tokens_stem_english_and_ukrainian_alike() -> None:
    assert tokens("Зарплати, зарплату й ЗАРПЛАТОЮ") == ["зарпла", "зарпла", "зарпла"]
    assert tokens("Payslips resent 2024 a") == ["paysli", "resent"]


def test_index_tokens_stem_cyrillic_inflections_the_cut_misses() -> None:
    # six-letter cut alone: "студия" / "студии" / "студию" are three tokens, "канал" / "канала" two
    assert len(set(tokens("студия студии студию"))) == 3
    assert len(set(index_tokens("студия студии студию"))) == 1
    assert len(set(index_tokens("версія версії версію"))) == 1
    assert len(set(index_tokens("канал канала каналу каналом"))) == 1
    assert index_tokens("нараховуватися зарплатою") == ["нарахо", "зарпла"]
    # short words keep their letters; Latin words and codes are cut as before
    assert index_tokens("дні дня") == ["дні", "дня"]
    assert index_tokens("Payslips resent PF-2041 2024") == tokens("Payslips resent PF-2041 2024")


def test_bm25_matches_another_case_of_a_short_cyrillic_word() -> None:
    index = LexicalIndex(
        ["a#0", "b#0"],
        ["Как переименовать канал", "Как загрузить видео"],
        [{"doc_id": "a"}, {"doc_id": "b"}],
    )
    hits = index.search("новое название для канала", 2)
    assert [chunk for chunk, _ in hits] == ["a#0"]
