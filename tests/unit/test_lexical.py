"""The BM25 side's tokens (knowledge.lexical), shared by the store and the in-memory retriever."""

from __future__ import annotations

from knowledge.lexical import tokens


def test_tokens_stem_english_and_ukrainian_alike() -> None:
    assert tokens("Зарплати, зарплату й ЗАРПЛАТОЮ") == ["зарпла", "зарпла", "зарпла"]
    assert tokens("Payslips resent 2024 a") == ["paysli", "resent"]
