"""Deterministic text helpers: PII masking and script-based language detection."""

from __future__ import annotations

import re

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30}\b")
_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
_PHONE = re.compile(r"(?<![\w+])\+?\d[\d ().-]{7,18}\d(?!\w)")


def _iban_ok(candidate: str) -> bool:
    s = candidate.replace(" ", "")
    if not 15 <= len(s) <= 34:
        return False
    moved = s[4:] + s[:4]
    digits = "".join(str(int(c, 36)) for c in moved)
    return int(digits) % 97 == 1


def _luhn_ok(candidate: str) -> bool:
    digits = [int(c) for c in candidate if c.isdigit()]
    if not 13 <= len(digits) <= 19:
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def redact(text: str) -> tuple[str, dict[str, int]]:
    """Mask emails, IBANs, card numbers (Luhn-valid) and phone numbers; count what was masked."""
    counts = {"email": 0, "iban": 0, "card": 0, "phone": 0}

    def masker(kind: str, check: object = None):
        def sub(m: re.Match[str]) -> str:
            if callable(check) and not check(m.group(0)):
                return m.group(0)
            counts[kind] += 1
            return f"[{kind.upper()}]"

        return sub

    text = _EMAIL.sub(masker("email"), text)
    text = _IBAN.sub(masker("iban", _iban_ok), text)
    text = _CARD.sub(masker("card", _luhn_ok), text)
    text = _PHONE.sub(masker("phone", lambda s: sum(c.isdigit() for c in s) >= 9), text)
    return text, {k: v for k, v in counts.items() if v}


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
