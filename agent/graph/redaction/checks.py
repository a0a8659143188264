"""Check digits and plausibility tests for the identifiers the redactor masks (pure functions)."""

from __future__ import annotations

import math
from datetime import date, timedelta

# IBAN length per country (SWIFT IBAN registry): a candidate from a country not listed is no IBAN.
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HN": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21,
    "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28,
    "NL": 18, "NO": 15, "OM": 23, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22,
    "RU": 33, "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25,
    "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}  # fmt: skip


def iban_ok(compact: str) -> bool:
    """ISO 13616 mod-97 check of an IBAN without spaces (any case)."""
    s = compact.upper()
    if not (15 <= len(s) <= 34 and s.isascii() and s.isalnum() and s[:2].isalpha() and s[2:4].isdigit()):
        return False
    moved = s[4:] + s[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def luhn_ok(candidate: str) -> bool:
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


_RNOKPP_WEIGHTS = (-1, 5, 7, 9, 4, 6, 10, 5, 7)


def rnokpp_ok(digits: str) -> bool:
    """Ukrainian РНОКПП (individual tax number): 10 digits, the last a weighted mod-11 check digit."""
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(w * int(d) for w, d in zip(_RNOKPP_WEIGHTS, digits[:9], strict=True))
    return total % 11 % 10 == int(digits[9])


def rnokpp_birth_plausible(digits: str, today: date | None = None) -> bool:
    """The first five digits count the days from 1899-12-31 to the holder's birth date: a plausible
    one (an adult of at most 110) tells a tax number from a random 10-digit number."""
    today = today or date.today()
    born = date(1899, 12, 31) + timedelta(days=int(digits[:5]))
    return today.year - 110 <= born.year <= today.year - 14


def edrpou_ok(digits: str) -> bool:
    """Ukrainian ЄДРПОУ (company code): 8 digits, the last a weighted mod-11 check digit; weights
    depend on the code's range, with a second set when the first gives 10."""
    if len(digits) != 8 or not digits.isdigit():
        return False
    value = int(digits)
    inner = 30_000_000 < value < 60_000_000
    first = (7, 1, 2, 3, 4, 5, 6) if inner else (1, 2, 3, 4, 5, 6, 7)
    second = (9, 3, 4, 5, 6, 7, 8) if inner else (3, 4, 5, 6, 7, 8, 9)
    head = [int(d) for d in digits[:7]]
    check = sum(w * d for w, d in zip(first, head, strict=True)) % 11
    if check == 10:
        check = sum(w * d for w, d in zip(second, head, strict=True)) % 11 % 10
    return check == int(digits[7])


_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def dni_ok(candidate: str) -> bool:
    """Spanish DNI (8 digits + letter) or NIE (X/Y/Z + 7 digits + letter): letter = number mod 23."""
    s = candidate.replace("-", "").replace(" ", "").upper()
    if len(s) != 9:
        return False
    head = {"X": "0", "Y": "1", "Z": "2"}.get(s[0], s[0]) + s[1:8]
    return head.isdigit() and _DNI_LETTERS[int(head) % 23] == s[8]


def plausible_birth_year(year: int, today: date | None = None) -> bool:
    today = today or date.today()
    return 1900 <= year <= today.year


def plausible_date(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def entropy(s: str) -> float:
    """Shannon entropy in bits per character."""
    if not s:
        return 0.0
    n = len(s)
    return -sum(c / n * math.log2(c / n) for c in (s.count(ch) for ch in set(s)))
