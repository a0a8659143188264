"""Lexical (BM25) side of hybrid retrieval, with the `bm25s` library.

Tokens (`tokens`) are lower-cased Unicode words cut to their first 6 characters: a crude stemmer that
works for English and Ukrainian alike (Ukrainian inflects the word ending: "зарплати", "зарплату",
"зарплатою" all become "зарпла"). On the 82 smoke tickets this lifted Ukrainian recall@5 from 0.40
(MiniLM alone) to 0.63 (issue 2 note); fused with the dense ranking by reciprocal rank it keeps
English at the dense level.

The cut misses the ending of a short Cyrillic word: "студия", "студии", "студию" stay three tokens
and so do "версія" / "версії", "канал" / "канала". The BM25 index therefore reads `index_tokens`: a
Cyrillic word first loses its reflexive suffix (-ся/-сь) and its longest common East Slavic
inflectional ending (`CYRILLIC_ENDINGS`: the case endings of nouns and adjectives and the verb
infinitive endings that Ukrainian and Russian share; not the person or past-tense endings of verbs,
which end many nouns too: "кабинет", "канал"), keeping at least `MIN_STEM` letters, and is then cut
like any other word. Latin words are untouched. Written from the grammar, not fitted to
any data set; measured in the README (issue 14). `tokens` stays as it was for its other readers (the
coverage check and the answerability model's features, which were trained on it).

Beside those word tokens BM25 indexes each word's character 4-grams (`char_grams`, the word framed
by ``#`` so its first and last letters count; kept apart from the words by a ``~`` in front), the
standard fallback of lexical search for languages whose morphology no rule list covers: a typo
("руьуба"), two words run together ("просмотрынакрученны"), an ending or a derived form the list
above misses ("накрутить" / "накручивание") still shares most of its 4-grams with the right word.
Any script alike; a word's own token still scores the exact match higher. RuTube (Russian, train
half): BM25 alone recall@5 0.66 -> 0.71, fused 0.80 -> 0.81 (README, issue 14).
"""

from __future__ import annotations

import re
from typing import Any

import bm25s
import numpy as np

WORD = re.compile(r"\w+", re.UNICODE)
STEM = 6
GRAM = 4  # characters of a `char_grams` gram
MIN_STEM = 3  # letters a Cyrillic word keeps when its ending goes ("дні" stays, "дня" -> "дн" does not)
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_CYRILLIC_WORD = re.compile(r"[\u0400-\u04ff]+")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
REFLEXIVE = ("ся", "сь")
# inflectional endings of Ukrainian and Russian words, longest first when matched
CYRILLIC_ENDINGS: tuple[str, ...] = tuple(
    sorted(
        {
            # adjectives, participles, pronouns
            *("ого", "его", "ому", "ему", "ими", "ыми", "ая", "яя", "ое", "ее", "ие", "ые", "ый", "ий", "ой"),
            *("ую", "юю", "ых", "их", "ым", "им", "ій", "ої", "ою", "ею"),
            # nouns
            *("ами", "ями", "ах", "ях", "ам", "ям", "ов", "ев", "ів", "їв", "ей", "ом", "ем", "ью"),
            *("ия", "ии", "ию", "ией", "ием", "иям", "иями", "иях", "ія", "ії", "ію", "ією", "ієм"),
            *("а", "я", "о", "е", "ы", "и", "і", "ї", "у", "ю", "ь", "й"),
            # verb infinitives (person and past-tense endings are left alone: "-ет", "-ал" end nouns too)
            *("ть", "ти", "ать", "ять", "ить", "іть", "ати", "яти", "ити", "іти"),
        },
        key=lambda e: (-len(e), e),
    )
)


def script_of(text: str) -> str:
    """``"cyrillic"``, ``"latin"`` (the more letters of the two) or ``"other"`` (neither): which
    documents BM25 can match a text against, whatever the language is called."""
    cyr, lat = len(_CYRILLIC.findall(text)), len(_LATIN.findall(text))
    if not cyr and not lat:
        return "other"
    return "cyrillic" if cyr > lat else "latin"


def tokens(text: str) -> list[str]:
    return [w[:STEM] for w in WORD.findall(text.lower()) if len(w) > 1 and not w.isdigit()]


def stem(word: str) -> str:
    """A lower-case word without its inflectional ending when it is all Cyrillic (module docstring),
    unchanged otherwise."""
    if not _CYRILLIC_WORD.fullmatch(word):
        return word
    for suffix in REFLEXIVE:
        if word.endswith(suffix) and len(word) - len(suffix) > MIN_STEM:
            word = word[: -len(suffix)]
            break
    for ending in CYRILLIC_ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= MIN_STEM:
            return word[: -len(ending)]
    return word


def index_tokens(text: str) -> list[str]:
    """What BM25 indexes and searches: `tokens`, with Cyrillic words stemmed before the cut."""
    return [stem(w)[:STEM] for w in WORD.findall(text.lower()) if len(w) > 1 and not w.isdigit()]


def char_grams(text: str) -> list[str]:
    """The character `GRAM`-grams of each word `tokens` keeps, the word framed by ``#`` (a word of
    two letters is one gram, ``#на#``), each marked ``~`` so no gram equals a word token."""
    out: list[str] = []
    for w in WORD.findall(text.lower()):
        if len(w) > 1 and not w.isdigit():
            framed = f"#{w}#"
            out += [f"~{framed[i : i + GRAM]}" for i in range(max(1, len(framed) - GRAM + 1))]
    return out


def bm25_terms(text: str) -> list[str]:
    """What BM25 indexes and searches: the words (`index_tokens`) and their `char_grams`."""
    return index_tokens(text) + char_grams(text)


class LexicalIndex:
    """BM25 over chunk texts; rebuilt by the store whenever its chunks change."""

    def __init__(self, ids: list[str], texts: list[str], metas: list[dict[str, Any]]) -> None:
        self.ids = ids
        self.metas = metas
        self.meta_by_id = dict(zip(ids, metas, strict=True))
        self.bm25 = bm25s.BM25()
        corpus = [bm25_terms(t) or ["_"] for t in texts]
        self.bm25.index(corpus, show_progress=False)  # pyright: ignore[reportUnknownMemberType]

    def search(self, query: str, n: int, allowed: Any = None) -> list[tuple[str, float]]:
        """Up to ``n`` (chunk id, score) pairs with a positive score, best first; ``allowed`` is an
        optional predicate over a chunk's metadata (the same filters as the dense search)."""
        q = bm25_terms(query)
        if not q or not self.ids:
            return []
        scores = np.asarray(self.bm25.get_scores(q), dtype=np.float64)  # pyright: ignore[reportUnknownMemberType]
        order = np.argsort(-scores)
        out: list[tuple[str, float]] = []
        for i in order:
            if scores[i] <= 0 or len(out) >= n:
                break
            if allowed is None or allowed(self.metas[i]):
                out.append((self.ids[i], float(scores[i])))
        return out
