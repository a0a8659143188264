"""Prompt templates as named, versioned files in prompts/.

A file is YAML front matter (name, version, variables) and a body with a `### system` and a
`### user` section. Placeholders are `{{name}}`; rendering fails with a clear error when a declared
variable is missing or the template uses one it does not declare.

Untrusted text (the customer's ticket) goes into a prompt only through `fence`: it is put between
per-request random markers (`<<<TICKET-7f3a9c...>>>` ... `<<<END-TICKET-7f3a9c...>>>`, the template
writes them with `{{tag}}`) and neutralised first, so nothing in it can close the data section or
open a new one: runs of `<`/`>`, anything shaped like our markers, triple quotes and backticks
(the old fence), markdown headings (`### system`) and chat-template tokens are defused.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from agent.errors import ConfigError
from agent.graph.reading import INVISIBLE

_FRONT = re.compile(r"\A---\s*\n(.*?)\n---\s*\n(.*)\Z", re.DOTALL)
_VAR = re.compile(r"\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}")
_SECTION = re.compile(r"(?m)^###\s+(system|user)\s*$")


class PromptError(ConfigError):
    """A prompt file is missing, malformed, or rendered with the wrong variables."""


@dataclass(frozen=True)
class Prompt:
    name: str
    version: str
    variables: tuple[str, ...]
    system: str
    user: str

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    def render(self, **values: object) -> tuple[str, str]:
        missing = [v for v in self.variables if v not in values]
        if missing:
            raise PromptError(
                f"prompt {self.ref} needs variable(s) {', '.join(missing)}; got {', '.join(sorted(values)) or 'none'}"
            )

        def sub(m: re.Match[str]) -> str:
            return str(values[m.group(1)])

        return _VAR.sub(sub, self.system), _VAR.sub(sub, self.user)


def parse_prompt(path: Path) -> Prompt:
    raw = path.read_text(encoding="utf-8")
    m = _FRONT.match(raw)
    if not m:
        raise PromptError(f"{path}: a prompt file starts with YAML front matter between '---' lines")
    meta = yaml.safe_load(m.group(1)) or {}
    for key in ("name", "version", "variables"):
        if key not in meta:
            raise PromptError(f"{path}: front matter needs '{key}'")
    parts = _SECTION.split(m.group(2))
    sections = {parts[i]: parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}
    if "user" not in sections:
        raise PromptError(f"{path}: needs a '### user' section (and optionally '### system')")
    declared = tuple(str(v) for v in meta["variables"])
    used = set(_VAR.findall(sections.get("system", "") + sections["user"]))
    undeclared = sorted(used - set(declared))
    if undeclared:
        raise PromptError(f"{path}: uses undeclared variable(s) {', '.join(undeclared)}; add them to 'variables'")
    return Prompt(str(meta["name"]), str(meta["version"]), declared, sections.get("system", ""), sections["user"])


@lru_cache(maxsize=64)
def load_prompt(prompts_dir: Path, name: str) -> Prompt:
    path = prompts_dir / f"{name}.md"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in prompts_dir.glob("*.md"))) or "none"
        raise PromptError(f"no prompt named {name!r} in {prompts_dir} (known: {known})")
    prompt = parse_prompt(path)
    if prompt.name != name:
        raise PromptError(f"{path}: front matter name {prompt.name!r} must match the file name {name!r}")
    return prompt


# ---- the fence around untrusted text -------------------------------------------------------------

TAG_BYTES = 6  # 12 hex digits: not guessable, and any marker-shaped text in the ticket is defused anyway
# angle brackets, quotes, backticks and hashes that read like ASCII ones but NFKC leaves alone
_LOOKALIKES = str.maketrans(
    {"\u2039": "<", "\u203a": ">", "\u2329": "<", "\u232a": ">", "\u27e8": "<", "\u27e9": ">", "\u3008": "<",
     "\u3009": ">", "\u29fc": "<", "\u29fd": ">", "\u1438": "<", "\u1433": ">", "\u02c2": "<", "\u02c3": ">",
     "\u300a": "<<", "\u300b": ">>", "\u27ea": "<<", "\u27eb": ">>", "\u226a": "<<", "\u226b": ">>",
     "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"', "\u2034": '"',
     "\u02bc": "'", "\u02cb": "`", "\u2035": "`", "\u266f": "#"}
)  # fmt: skip
# every other line break (CR, NEL, VT, FF, U+2028/9) as "\n", so a heading cannot hide behind one
_BREAKS = re.compile("\r\n?|[\x0b\x0c\x85\u2028\u2029]")
_CHAT_TOKENS = re.compile(
    r"<\|[^|>\n]{1,40}\|>|\[/?INST\]|<</?SYS>>|</?s>|<(?:start|end)_of_turn>|<\|?(?:im_start|im_end|endoftext|eot_id)\|?>",
    re.IGNORECASE,
)
_MARKER_WORD = re.compile(r"(?i)(?<![a-z])(end[\s_-]*)?(ticket)[\s_-]*([0-9a-f]{4,})(?![0-9a-z])")
_ANGLES = re.compile(r"(?:<\s*){2,}|(?:>\s*){2,}")
_QUOTE_RUNS = re.compile(r"([\"'`])(?:\s*\1){2,}")
_HEADING = re.compile(r"(?m)^[ \t]*#{1,6}")


@dataclass(frozen=True)
class Fenced:
    """Untrusted text made safe to put between the markers `open` and `close`."""

    text: str
    tag: str

    @property
    def open(self) -> str:
        return f"<<<TICKET-{self.tag}>>>"

    @property
    def close(self) -> str:
        return f"<<<END-TICKET-{self.tag}>>>"


def neutralise(text: str) -> str:
    """The text with everything that could end or fake the fence defused (see the module docstring);
    the words themselves are kept, so the model still reads what the customer wrote.

    NFKC first (fullwidth `＜＜＜`, `＂＂＂`, `＃＃＃` become ASCII and are then defused as such), lookalike
    brackets and quotes read as ASCII, invisible characters dropped, every line break made "\n";
    then chat-template tokens go, a run of `<` or `>` (spaced or not) becomes one, marker-shaped words
    (`END-TICKET-3fa9...`) lose their dashes, a run of three quotes or backticks becomes one, and a
    markdown heading at the start of a line loses its `#`s."""
    text = unicodedata.normalize("NFKC", text).translate(_LOOKALIKES)
    text = _BREAKS.sub("\n", INVISIBLE.sub("", text))
    text = _CHAT_TOKENS.sub(" ", text)
    text = _ANGLES.sub(lambda m: m.group(0).strip()[0] + " ", text)
    text = _MARKER_WORD.sub(lambda m: " ".join(g.strip(" _-") for g in m.groups() if g), text)
    text = _QUOTE_RUNS.sub(r"\1", text)
    return _HEADING.sub("", text)


def fence(text: str) -> Fenced:
    """`text` neutralised, with a fresh random tag for this request's markers."""
    return Fenced(neutralise(text), secrets.token_hex(TAG_BYTES))
