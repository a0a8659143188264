"""Echo detection (the reply repeats the ticket or the prompt) and the reply's own language.

A reply that copies the ticket back, or the prompt's scaffolding (its headings, the fence around the
ticket, its instructions), is not an answer; and the language of such a reply must be read without
the copied ticket, or a reply in English that ends with the customer's Ukrainian ticket reads as
Ukrainian.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from agent.graph.checks.extract import Item, normalise, path_core
from agent.graph.textutil import detect_language

WORD = re.compile(r"\w+")
# a reply holding this many words in a row of the ticket (and not of a cited document) echoes it
ECHO_MIN_WORDS = 8
# ... or any whole ticket sentence of at least this many words
ECHO_SENTENCE_WORDS = 6
# a reply holding this many words in a row of the prompt's own text (its rules, its headings)
PROMPT_SHINGLE_WORDS = 6
# a paragraph of at least this many letters must itself be in the ticket's language
PARAGRAPH_LETTERS = 40

# The prompt's scaffolding: fence markers (ours, `<<<TICKET-...>>>`, and the old triple quotes), the
# template's section headings, data headings at the start of a line, chat-template control tokens.
PROMPT_MARKERS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"<<<|>>>|(?<![\w-])(?:END[-_ ])?TICKET[-_][0-9a-f]{6,}", re.IGNORECASE), "the ticket's fence marker"),
    (re.compile(r"\"\"\"|'''|“““|”””"), "triple quotes (a fence around the ticket)"),
    (
        re.compile(r"(?im)^[ \t]*#{1,6}[ \t]*(system|user|assistant|instructions?|rules|articles|ticket)\b"),
        "a prompt heading",
    ),
    (
        re.compile(
            r"(?im)^[ \t]*(ticket|the ticket|customer ticket|articles|knowledge[- ]base articles|тікет|звернення|"
            r"статті)[ \t]*:"
        ),
        "a prompt's data heading",
    ),
    (re.compile(r"<\|[a-z_]{2,20}\|>|\[/?INST\]|<</?SYS>>", re.IGNORECASE), "a chat-template control token"),
)


def words(text: str) -> list[tuple[str, int, int]]:
    """Case-folded words of the normalised text, with their spans in it."""
    return [(m.group(0).casefold(), m.start(), m.end()) for m in WORD.finditer(normalise(text))]


def _grams(seq: Sequence[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(seq[i : i + n]) for i in range(len(seq) - n + 1)}


def _sentences(text: str) -> list[list[str]]:
    parts = re.split(r"(?<=[.!?…])\s+|\n+", normalise(text))
    return [[w.casefold() for w in WORD.findall(p)] for p in parts]


def _merge(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def ticket_echoes(reply: str, ticket: str, docs: Sequence[str]) -> list[tuple[int, int]]:
    """Spans of the (normalised) reply that copy the ticket: runs of ECHO_MIN_WORDS+ words of the
    ticket, or a whole ticket sentence of ECHO_SENTENCE_WORDS+ words, that no cited document has
    (a ticket quoting the documentation, e.g. an error message, is not an echo)."""
    rw = words(reply)
    seq = [w for w, _, _ in rw]
    tw = [w for w, _, _ in words(ticket)]
    doc_seqs = [[w for w, _, _ in words(d)] for d in docs]
    ticket_grams = _grams(tw, ECHO_MIN_WORDS)
    doc_grams = set().union(*(_grams(d, ECHO_MIN_WORDS) for d in doc_seqs)) if doc_seqs else set()
    spans: list[tuple[int, int]] = []
    for i in range(len(seq) - ECHO_MIN_WORDS + 1):
        g = tuple(seq[i : i + ECHO_MIN_WORDS])
        if g in ticket_grams and g not in doc_grams:
            spans.append((rw[i][1], rw[i + ECHO_MIN_WORDS - 1][2]))
    doc_joined = [" " + " ".join(d) + " " for d in doc_seqs]
    joined = " " + " ".join(seq) + " "
    for sent in _sentences(ticket):
        if len(sent) < ECHO_SENTENCE_WORDS:
            continue
        needle = " " + " ".join(sent) + " "
        if any(needle in d for d in doc_joined):
            continue
        at = joined.find(needle)
        while at >= 0:
            first = joined[:at].count(" ")  # index of the sentence's first word in `seq`
            spans.append((rw[first][1], rw[first + len(sent) - 1][2]))
            at = joined.find(needle, at + 1)
    return _merge(spans)


def _in_docs(text: str, m: re.Match[str], doc_text: str) -> bool:
    """Whether the line of `text` holding the match is a cited document's own (a document may itself
    have a "## Rules" heading or a `>>>` prompt in a code sample: copying it is not an echo).
    `doc_text`: the documents case-folded, their whitespace runs as single spaces."""
    start = text.rfind("\n", 0, m.start()) + 1
    end = text.find("\n", m.end())
    line = " ".join(text[start : end if end >= 0 else len(text)].split()).casefold()
    return bool(line) and line in doc_text


def prompt_echoes(reply: str, prompt_texts: Sequence[str], docs: Sequence[str]) -> list[str]:
    """What of the prompt the reply repeats: its markers and headings, or PROMPT_SHINGLE_WORDS+
    words in a row of its own text (the rules) that no cited document has."""
    t = normalise(reply)
    doc_text = " ".join(" ".join(normalise(d) for d in docs).casefold().split())
    found = [what for rx, what in PROMPT_MARKERS if any(not _in_docs(t, m, doc_text) for m in rx.finditer(t))]
    seq = [w for w, _, _ in words(reply)]
    grams = _grams(seq, PROMPT_SHINGLE_WORDS)
    doc_grams = (
        set().union(*(_grams([w for w, _, _ in words(d)], PROMPT_SHINGLE_WORDS) for d in docs)) if docs else set()
    )
    for text in prompt_texts:
        for part in re.split(r"\{\{[^}]*\}\}", text):  # never across a placeholder
            shared = (_grams([w for w, _, _ in words(part)], PROMPT_SHINGLE_WORDS) & grams) - doc_grams
            if shared:
                found.append("the prompt's instructions: '" + " ".join(sorted(shared)[0]) + " ...'")
                break
    return list(dict.fromkeys(found))


_CITATION = re.compile(r"\[[A-Za-z]+[-_.]?\d+[A-Za-z0-9_.\-]*\]")


def language_text(reply: str, drop: Iterable[tuple[int, int]], items: Iterable[Item]) -> str:
    """The normalised reply without what says nothing of its language: the spans in `drop` (echoed
    ticket text), the checkable items (URLs, codes, ...; of a menu path only its names, not the
    sentence around it) and citations."""
    t = normalise(reply)
    chars = list(t)
    kept = [path_core(i) if i.kind == "menu_path" else (i.start, i.end) for i in items]
    spans = [*drop, *kept, *((m.start(), m.end()) for m in _CITATION.finditer(t))]
    for s, e in spans:
        for k in range(max(0, s), min(len(chars), e)):
            chars[k] = " "
    return "".join(chars)


def language_problems(text: str, expected: str) -> list[str]:
    """Why `text` (see `language_text`) is not in the `expected` language: the whole of it, or a
    paragraph of PARAGRAPH_LETTERS+ letters, reads as another language."""
    if expected not in ("en", "uk", "ru"):
        return []
    problems: list[str] = []
    whole, _ = detect_language(text)
    if whole not in (expected, "other"):
        problems.append(f"is in '{whole}' but the ticket in '{expected}'")
    for para in re.split(r"\n\s*\n", text):
        if sum(c.isalpha() for c in para) < PARAGRAPH_LETTERS:
            continue
        lang, _ = detect_language(para)
        if lang not in (expected, "other"):
            snippet = " ".join(para.split())[:60]
            problems.append(f"has a paragraph in '{lang}' ('{snippet}...') but the ticket is in '{expected}'")
            break
    if whole == "other" and sum(c.isalpha() for c in text) >= PARAGRAPH_LETTERS:
        problems.append(f"is in no language we read, but the ticket is in '{expected}'")
    return problems
