"""Deterministic text helpers: masking (see agent.graph.redaction) and script-based language detection."""

from __future__ import annotations

import re

from agent.graph.redaction import redact

__all__ = ["detect_language", "lexicon_sentiment", "redact"]


_UK_ONLY = set("іїєґІЇЄҐ")
_RU_ONLY = set("ыэъёЫЭЪЁ")


def detect_language(text: str) -> tuple[str, float]:
    """en | uk | ru | other, with a confidence from the share of letters in the deciding script."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return "other", 0.0
    cyr = sum("\u0400" <= c <= "\u04ff" for c in letters)
    lat = sum(c.isascii() for c in letters)
    n = len(letters)
    if cyr / n >= 0.3:
        uk = sum(c in _UK_ONLY for c in letters)
        ru = sum(c in _RU_ONLY for c in letters)
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
