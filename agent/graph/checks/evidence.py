"""The customer's own evidence: error codes and quoted messages that point at another document.

A ticket that quotes what the product showed ("Sync history says Failed - 'Account mapping
missing'", `PF-4205`) carries the strongest evidence there is of which article answers it. When
such a code or message is written in another retrieved article and in none of the cited ones, the
cited article was chosen on the story around it, not on what the product said, and a human should
check the choice before anything is sent (three blind demo sets had the same English pair: a
failed Xero sync answered with the duplicated-journals root cause instead of the sync-errors
article that lists the quoted error). Only codes and messages count: a description in the customer's
words matches many articles, a quoted message matches the one that documents it.

Pure functions: the ground_check node reads the documents.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from agent.graph.checks.extract import error_codes, normalise

MIN_QUOTE_WORDS = 2  # a quoted single word ("Failed", «Помилка») names a state, not a message
MAX_QUOTE_WORDS = 12  # longer quotes are the customer's own sentences, or a forwarded mail
# a span in quotes: opened after the start, a space or a bracket, closed before a non-word character,
# so an apostrophe inside a word (don't, п'ять) is not a quote
_QUOTED = re.compile(
    r"(?:^|(?<=[\s(\[:—–-]))(?:\"(?P<a>[^\"\n]+)\"|'(?P<b>[^'\n]+)'|“(?P<c>[^”\n]+)”|‘(?P<d>[^’\n]+)’"
    r"|«(?P<e>[^»\n]+)»|„(?P<f>[^“”\n]+)[“”])(?!\w)"
)


def _key(text: str) -> str:
    return " ".join(normalise(text).casefold().split())


def quoted_evidence(ticket: str) -> list[str]:
    """The error codes (`extract.error_codes`) and the quoted messages of MIN_QUOTE_WORDS to
    MAX_QUOTE_WORDS words in the ticket, in order, without repeats."""
    text = normalise(ticket)
    found = [i.text for i in error_codes(text) if not i.key.startswith("HTTP ")]
    for m in _QUOTED.finditer(text):
        quote = next(g for g in m.groups() if g is not None).strip(" .,;:!?")
        if MIN_QUOTE_WORDS <= len(quote.split()) <= MAX_QUOTE_WORDS:
            found.append(quote)
    return list(dict.fromkeys(found))


def evidence_elsewhere(ticket: str, cited_texts: Sequence[str], other_docs: Mapping[str, str]) -> list[tuple[str, str]]:
    """(evidence, document id) for each code or quoted message of the ticket that no cited text has
    and another retrieved document (`other_docs`: id -> its whole text) has; the first such document."""
    cited = _key("\n".join(cited_texts))
    others = {doc_id: _key(text) for doc_id, text in other_docs.items()}
    out: list[tuple[str, str]] = []
    for item in quoted_evidence(ticket):
        key = _key(item)
        if not key or key in cited:
            continue
        where = next((doc_id for doc_id, text in others.items() if key in text), None)
        if where is not None:
            out.append((item, where))
    return out
