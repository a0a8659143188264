"""Pay periods ("YYYY-MM") named in ticket text, English and Ukrainian.

Recognised: `March 2026`, `Mar 2026`, `26 October 2025`, `03/2026`, `03.2026`, `2026-03`,
`березень 2026`, `за березня 2026 року`, `у жовтні`, `жовтневій зарплаті`, `листопад`. A month
without a year is the most recent such month not after the reference date (a payslip asked about
in November for "October" is this year's; for "December" it is last year's).
"""

from __future__ import annotations

import re
from datetime import date

# English: full names, and 3-4 letter abbreviations; "May" only with a year ("may" is a verb).
_EN_MONTHS = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9,
    "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_EN_ABBREVIATIONS = frozenset(k for k in _EN_MONTHS if len(k) <= 4 and k not in ("june", "july"))

# Ukrainian: nominative, genitive ("за березня"), locative ("у березні") and the adjective
# ("березневий", "жовтневій", "листопадову"). Written out: bare stems (трав-, черв-) are words too.
_UK_MONTHS: list[tuple[str, int]] = [
    (r"січ(?:ень|ня|ні|нев\w*)", 1),
    (r"лют(?:ий|ого|ому|нев\w*)", 2),
    (r"берез(?:ень|ня|ні|нев\w*)", 3),
    (r"квіт(?:ень|ня|ні|нев\w*)", 4),
    (r"трав(?:ень|ня|ні|нев\w*)", 5),
    (r"черв(?:ень|ня|ні|нев\w*)", 6),
    (r"лип(?:ень|ня|ні|нев\w*)", 7),
    (r"серп(?:ень|ня|ні|нев\w*)", 8),
    (r"верес(?:ень|ня|ні|нев\w*)", 9),
    (r"жовт(?:ень|ня|ні|нев\w*)", 10),
    (r"листопад(?:а|і|ов\w*)?", 11),
    (r"груд(?:ень|ня|ні|нев\w*)", 12),
]

_YEAR = r"(?P<year>20\d{2})"
_B = r"(?<![\w-])"  # not inside a word, an id (PR-2025-11-002) or a date range
_E = r"(?![\w-])"

_EN_NAME = "|".join(sorted((k for k in _EN_MONTHS if k != "may"), key=len, reverse=True))
_EN = re.compile(
    rf"{_B}(?:(?P<name>{_EN_NAME})\.?|(?P<may>may))(?:,?\s+(?:of\s+)?{_YEAR})?{_E}",
    re.IGNORECASE,
)
_UK_NAME = "|".join(f"(?:{p})" for p, _ in _UK_MONTHS)
_UK = re.compile(rf"{_B}(?P<name>{_UK_NAME})(?:\s+{_YEAR}(?:\s*р(?:оку|\.)?)?)?{_E}", re.IGNORECASE)
_NUMERIC = [
    re.compile(rf"{_B}(?P<month>0?[1-9]|1[0-2])[/.]{_YEAR}{_E}"),  # 03/2026, 3.2026, 15.03.2026
    re.compile(rf"{_B}{_YEAR}-(?P<month>0[1-9]|1[0-2]){_E}"),  # 2026-03
]


def _uk_month(word: str) -> int:
    for pattern, month in _UK_MONTHS:
        if re.fullmatch(pattern, word, re.IGNORECASE):
            return month
    raise ValueError(word)  # pragma: no cover - the alternation only matches these


def _resolve(month: int, year: int | None, today: date) -> str:
    if year is None:
        year = today.year if month <= today.month else today.year - 1
    return f"{year:04d}-{month:02d}"


def find_periods(text: str, today: date) -> list[str]:
    """Every distinct period named in `text`, in order of first mention."""
    found: list[tuple[int, str]] = []
    for m in _EN.finditer(text):
        year = int(m.group("year")) if m.group("year") else None
        if m.group("may"):
            if year is None:
                continue
            month = 5
        else:
            name = m.group("name").lower()
            # an abbreviation counts only with a year or a day ("26 Oct"): "Jan", "Mar" are words/names too
            if name in _EN_ABBREVIATIONS and year is None and not re.search(r"\d{1,2}\s*$", text[: m.start()]):
                continue
            month = _EN_MONTHS[name]
        found.append((m.start(), _resolve(month, year, today)))
    for m in _UK.finditer(text):
        year = int(m.group("year")) if m.group("year") else None
        found.append((m.start(), _resolve(_uk_month(m.group("name")), year, today)))
    for pattern in _NUMERIC:
        for m in pattern.finditer(text):
            found.append((m.start(), _resolve(int(m.group("month")), int(m.group("year")), today)))
    ordered = [period for _, period in sorted(found)]
    return list(dict.fromkeys(ordered))
