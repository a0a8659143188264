"""Text -> tokens for the risk model: word 1-2 grams and character 2-5 grams within words.

Character n-grams carry Ukrainian morphology (змінив / змінили / змінено share "змін") and typos;
word n-grams carry phrases. Digits fold to 0 and apostrophes to one form, so amounts, dates and ids
do not become features of their own. Training (sklearn's TfidfVectorizer with these analyzers) and
prediction (`RiskModel`) use the same functions, so they cannot drift apart.
"""

from __future__ import annotations

import itertools
import re

_WORD = re.compile(r"[^\W_]+(?:['\-][^\W_]+)*", re.UNICODE)
_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'", "`": "'", "‘": "'"})
CHAR_MIN, CHAR_MAX = 2, 5


def normalise(text: str) -> str:
    return re.sub(r"\d", "0", text.translate(_APOSTROPHES).lower())


def words(text: str) -> list[str]:
    toks = _WORD.findall(normalise(text))
    return toks + [f"{a} {b}" for a, b in itertools.pairwise(toks)]


def chars(text: str) -> list[str]:
    out: list[str] = []
    for w in _WORD.findall(normalise(text)):
        padded = f" {w} "
        for n in range(CHAR_MIN, CHAR_MAX + 1):
            out.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
    return out
