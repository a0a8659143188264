"""The masking engine: ordered rules, each finding spans of one or more kinds in the current text.

Rules run one after another, most specific first; each sees the text the earlier ones left, so a
value already masked is a placeholder (`[KIND]`) by the time a broader rule looks; rules see each
placeholder blanked out, and a span that touches one is dropped, so masking masked text changes
nothing and counts nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

KINDS = (
    "private_key",
    "jwt",
    "api_key",
    "token",
    "password",
    "email",
    "iban",
    "card",
    "rnokpp",
    "edrpou",
    "passport",
    "id_card",
    "dob",
    "phone",
)

PLACEHOLDER = re.compile(r"\[(?:" + "|".join(k.upper() for k in KINDS) + r")\]")
# Rules look at the text with every placeholder blanked out by this (private-use, not a word
# character): a placeholder's name is never a cue ("[DOB]", "[PASSPORT]") and never a value.
HIDDEN = "\ue000"
NOT_MASKED = "(?!" + HIDDEN + ")"  # a value may not start at a placeholder


def placeholder(kind: str) -> str:
    return f"[{kind.upper()}]"


Span = tuple[int, int, str]  # start, end, kind
Finder = Callable[[str], Iterable[Span]]
Decide = Callable[[re.Match[str], str], "str | None"]  # the match, the whole text -> kind, or None: leave it


@dataclass(frozen=True)
class Rule:
    name: str
    find: Finder


def regex_rule(name: str, pattern: re.Pattern[str], decide: str | Decide, group: str | int = "v") -> Rule:
    """A rule from one pattern: the span of `group` (the whole match if the pattern has no such group),
    masked as `decide` (a kind, or a function of the match and text that names the kind or refuses)."""

    def find(text: str) -> Iterable[Span]:
        for m in pattern.finditer(text):
            g: str | int = group if isinstance(group, int) or group in pattern.groupindex else 0
            if m.group(g) is None:
                continue
            kind = decide if isinstance(decide, str) else decide(m, text)
            if kind:
                yield (*m.span(g), kind)

    return Rule(name, find)


def apply(text: str, rules: Iterable[Rule]) -> tuple[str, dict[str, int]]:
    counts: dict[str, int] = {}
    for rule in rules:
        protected = [m.span() for m in PLACEHOLDER.finditer(text)]
        seen = PLACEHOLDER.sub(lambda m: HIDDEN * len(m.group(0)), text) if protected else text
        chosen: list[Span] = []
        for s, e, kind in sorted(rule.find(seen), key=lambda sp: (sp[0], -sp[1])):
            if s >= e or (chosen and s < chosen[-1][1]):
                continue
            if any(ps < e and s < pe for ps, pe in protected):
                continue
            chosen.append((s, e, kind))
        if not chosen:
            continue
        out: list[str] = []
        pos = 0
        for s, e, kind in chosen:
            out += [text[pos:s], placeholder(kind)]
            pos = e
            counts[kind] = counts.get(kind, 0) + 1
        text = "".join([*out, text[pos:]])
    return text, counts
