"""The BM25 side's tokens (knowledge.lexical), shared by the store and the in-memory retriever."""

from __future__ import annotations

from knowledge.lexical import LexicalIndex, bm25_terms, char_grams, index_tokens, tokens


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


def test_char_grams_frame_each_word_and_stay_apart_from_word_tokens() -> None:
    assert char_grams("На канал") == ["~#на#", "~#кан", "~кана", "~анал", "~нал#"]
    assert char_grams("2024 a") == []  # the words `tokens` drops
    assert bm25_terms("канал") == [*index_tokens("канал"), *char_grams("канал")]
    assert not set(char_grams("канал видео")) & set(index_tokens("канал видео"))


def test_bm25_matches_a_misspelt_word_by_its_grams() -> None:
    index = LexicalIndex(
        ["a#0", "b#0"],
        ["Как назначить администратора", "Где смотреть статистику"],
        [{"doc_id": "a"}, {"doc_id": "b"}],
    )
    # the typo shares no word token with either document ("назван" / "назнач"), only 4-grams
    assert not set(index_tokens("названчить")) & set(index_tokens("Как назначить администратора"))
    assert [chunk for chunk, _ in index.search("названчить", 2)] == ["a#0"]
