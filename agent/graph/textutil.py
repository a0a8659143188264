"""Deterministic text helpers: masking (see agent.graph.redaction) and script-based language detection."""

from __future__ import annotations

import re

from agent.graph.redaction import redact

__all__ = ["detect_language", "lexicon_sentiment", "redact"]


_UK_ONLY = set("іїєґІЇЄҐ")
_RU_ONLY = set("ыэъёЫЭЪЁ")
# Common words that only one of the two languages has, for Cyrillic text whose letters do not decide
# (short Russian questions often have no ы/э/ъ/ё: "как удалить видео с канала?"); each counts as two
# letters. Chosen from the grammar (pronouns, conjunctions, question words, courtesy), not fitted.
_UK_WORDS = frozenset(
    "що це ви мені чому коли де немає є будь ласка дякую який яка яке які щоб або але також тому після "  # noqa: SIM905
    "від вже ще його її вони ми чи можна потрібно можу зробити як".split()
)
_RU_WORDS = frozenset(
    "и что это вы мне почему когда где нет есть пожалуйста спасибо какой какая какое какие чтобы или но "  # noqa: SIM905
    "тоже также потому после от уже еще его они мы ли можно нужно могу сделать как".split()
)
_WORD = re.compile(r"[\u0400-\u04ff]+")


def detect_language(text: str) -> tuple[str, float]:
    """en | uk | ru | other, with a confidence from the share of letters in the deciding script."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return "other", 0.0
    cyr = sum("\u0400" <= c <= "\u04ff" for c in letters)
    lat = sum(c.isascii() for c in letters)
    n = len(letters)
    if cyr / n >= 0.3:
        words = _WORD.findall(text.lower())
        uk = sum(c in _UK_ONLY for c in letters) + 2 * sum(w in _UK_WORDS for w in words)
        ru = sum(c in _RU_ONLY for c in letters) + 2 * sum(w in _RU_WORDS for w in words)
        if uk > ru:
            return "uk", round(min(0.99, 0.7 + 0.3 * cyr / n), 3)
        if ru > uk:
            return "ru", round(min(0.99, 0.7 + 0.3 * cyr / n), 3)
        return "uk", 0.55  # Cyrillic with neither marker: short text; our customers are Ukrainian
    if lat / n >= 0.6:
        return "en", round(min(0.99, 0.5 + 0.5 * lat / n), 3)
    return "other", 0.5


_NEG = re.compile(
    r"(\b(unacceptable|terrible|awful|ridiculous|angry|furious|frustrat\w*|disappoint\w*|worst|useless|"
    r"again\?|still not|fed up|cancel (our|my) (contract|subscription))\b|!!|"
    r"жахлив|неприйнятн|обурен|розчарован|знову не|досі не|скільки можна)",
    re.IGNORECASE,
)
_POS = re.compile(r"\b(thank you so much|great job|love (it|payflow)|awesome|appreciate)\b|(дуже дякую|чудов)", re.I)


def lexicon_sentiment(text: str) -> tuple[str, float]:
    neg = len(_NEG.findall(text))
    pos = len(_POS.findall(text))
    if neg > pos:
        return "negative", min(0.9, 0.6 + 0.1 * neg)
    if pos > neg:
        return "positive", min(0.85, 0.6 + 0.1 * pos)
    return "neutral", 0.6
