"""Jira wiki markup -> plain text.

Jira webhooks (Cloud and Server / Data Center) carry `fields.description` and comment bodies as
wiki-markup strings (ADF appears only in REST API v3 answers). `wiki_to_text` renders them as the
same Markdown-ish plain text `adf_to_text` gives for ADF, so a ticket reads the same whichever way
it came:

    h2. Steps               -> ## Steps
    *bold* _it_ -st- +ins+  -> bold it st ins     (also ^sup^ ~sub~ ??cite?? and Cloud's {*}x{*})
    {{mono}}                -> `mono`
    [text|url] [url]        -> text (url), url    ([~accountid:x] / [~user] -> @x / @user,
                                                   [^file.txt] -> [attachment: file.txt])
    !shot.png|thumbnail!    -> [image: shot.png]
    * a / ** b / # c / ## d -> "- a", "  - b", "1. c", "  1. d"
    ||h1||h2|| / |a|b|      -> | h1 | h2 | / | --- | --- | / | a | b |
    bq. x / {quote}x{quote} -> > x
    {code:java}..{code}     -> ```java ... ```   (both verbatim: markup inside them is not
    {noformat}..{noformat}  -> ``` ... ```        interpreted; an unclosed one runs to the end)
    {panel:title=T}x{panel} -> T / x
    {color:red}x{color}     -> x
    \\\\ (line break) ----  -> a new line, ---
    \\* \\[ ...              -> * [ ...        (escapes)
    {adf:display=block}{..}{adf}  -> the embedded ADF node, rendered by adf.py
Emoticons (`:)`, `(y)`, `(!)`) and dashes are left as typed.

`wiki_to_text` never raises and its work is linear in the input (no nested regex backtracking, no
recursion on the input's structure); input past MAX_CHARS is cut.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from tools.ticketing.adf import adf_to_text

MAX_CHARS = 1_000_000  # the longest description a webhook may carry (its text is held to 200 000 characters)
MAX_LIST_DEPTH = 8  # deeper list markers indent no further
_INDENT = "  "
_HOLE = "\ue000"  # stands in for an already rendered inline token while text effects are stripped

# {code}, {noformat} and {adf} bodies are taken verbatim before anything else is parsed
_VERBATIM = re.compile(r"(?<![\\{])\{(code|noformat|adf)((?::[^{}\n]*)?)\}(?!\})")
# block containers that may open and close mid-line
_CONTAINER = re.compile(r"(?<![\\{])\{(quote|panel)((?::[^{}\n]*)?)\}(?!\})")
_HEADING = re.compile(r"\s*h([1-6])\.(?:\s+(.*)|\s*)$")
_BQ = re.compile(r"\s*bq\.(?:\s+(.*)|\s*)$")
_RULE = re.compile(r"\s*-{4,}\s*$")
_LIST = re.compile(r"\s*([*#]+|-)\s+(\S.*)$")
# Cloud writes {{{}mono{}}} and {*}bold{*} where an effect touches a word
_EMPTY_BRACES = re.compile(r"\{\{\{\}|\{\}\}\}")
_UNCONSTRAINED = re.compile(r"\{(?:[*_+^~-]|\?\?)\}")
_INLINE_MACRO = re.compile(r"\{(?:color|anchor)(?::[^{}\n]*)?\}")
_ESCAPABLE = frozenset("*_-+^~?{}[]!|#\\")
_IMAGE_EXT = frozenset({"png", "jpg", "jpeg", "gif", "bmp", "svg", "webp", "tif", "tiff", "heic", "ico"})
_SCHEME = re.compile(r"(?:https?|ftp|sftp|file|mailto|news|irc|ssh|git|tel|smb):", re.IGNORECASE)
_EFFECTS = ("*", "_", "-", "+", "^", "~", "??")
# a bare URL is kept as typed (its underscores and dashes are not effects)
_BARE_URL = re.compile(r"(?:https?|ftp)://[^\s\[\]|{}<>\"!]+", re.IGNORECASE)


def wiki_to_text(markup: object) -> str:
    """Render Jira wiki markup as plain text (a non-string renders as ""; see the module docstring)."""
    if not isinstance(markup, str) or not markup:
        return ""
    text = markup[:MAX_CHARS].replace("\r\n", "\n").replace("\r", "\n").replace(_HOLE, "\ufffd")
    out = _Out()
    pos = 0
    for match in _VERBATIM.finditer(text):
        if match.start() < pos:  # inside a verbatim block already consumed
            continue
        _markup(text[pos : match.start()], out)
        name, params = match.group(1), match.group(2)
        close = f"{{{name}}}"
        end = text.find(close, match.end())
        body = text[match.end() :] if end < 0 else text[match.end() : end]
        pos = len(text) if end < 0 else end + len(close)
        if name == "adf":
            out.block(_adf(body))
        else:
            out.code(body, _code_language(params) if name == "code" else "")
    _markup(text[pos:], out)
    return out.render()


# ---- output ----------------------------------------------------------------------------------------


@dataclass
class _Out:
    """Lines with their quote state; blank entries are paragraph breaks."""

    lines: list[tuple[str, bool]] = field(default_factory=list[tuple[str, bool]])
    quoted: bool = False
    panel: bool = False
    # list and table state of the lines being rendered
    counters: list[int] = field(default_factory=list[int])
    in_table: bool = False

    def reset(self) -> None:
        self.counters = []
        self.in_table = False

    def blank(self) -> None:
        self.reset()
        if self.lines and self.lines[-1][0]:
            self.lines.append(("", self.quoted))

    def add(self, text: str) -> None:
        for line in text.split("\n"):
            self.lines.append((line.rstrip(), self.quoted))

    def block(self, text: str) -> None:
        if text.strip():
            self.blank()
            self.add(text)
            self.blank()

    def code(self, body: str, language: str) -> None:
        body = body.removeprefix("\n").rstrip()
        self.blank()
        self.lines.append((f"```{language}", self.quoted))
        self.lines.extend((line.rstrip(), self.quoted) for line in body.split("\n"))
        self.lines.append(("```", self.quoted))
        self.blank()

    def render(self) -> str:
        rendered: list[str] = []
        for i, (line, quoted) in enumerate(self.lines):
            if line:
                rendered.append(f"> {line}" if quoted else line)
                continue
            # a blank line stays inside a quote only between two quoted lines
            after = self.lines[i + 1][1] if i + 1 < len(self.lines) else False
            rendered.append(">" if quoted and after and i > 0 and self.lines[i - 1][1] else "")
        return "\n".join(rendered).strip()


def _code_language(params: str) -> str:
    for param in params.removeprefix(":").split("|"):
        param = param.strip()
        if param and "=" not in param:
            return param
        key, _, value = param.partition("=")
        if key.strip().lower() == "language":
            return value.strip()
    return ""


def _adf(body: str) -> str:
    try:
        return adf_to_text(json.loads(body))
    except (ValueError, RecursionError):
        return ""


# ---- blocks ----------------------------------------------------------------------------------------


def _markup(text: str, out: _Out) -> None:
    """Text between verbatim blocks: containers ({quote}, {panel}) split it into runs of lines."""
    if not text:
        return
    pos = 0
    for match in _CONTAINER.finditer(text):
        _lines(text[pos : match.start()], out)
        pos = match.end()
        name, params = match.group(1), match.group(2)
        out.blank()
        if name == "quote":
            out.quoted = not out.quoted
        elif params or not out.panel:  # {panel:...} opens; a bare {panel} toggles
            out.panel = True
            title = _panel_title(params)
            if title:
                out.add(_inline(title).replace("\n", " "))
        else:
            out.panel = False
    _lines(text[pos:], out)


def _panel_title(params: str) -> str:
    for param in params.removeprefix(":").split("|"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "title":
            return value.strip()
    return ""


def _lines(text: str, out: _Out) -> None:
    for line in text.split("\n"):
        _line(line, out)


def _line(line: str, out: _Out) -> None:
    if not line.strip():
        out.blank()
        return
    if m := _HEADING.match(line):
        out.blank()
        out.add("#" * int(m.group(1)) + " " + _inline(m.group(2) or "").replace("\n", " "))
        out.blank()
        return
    if m := _BQ.match(line):
        out.reset()
        was = out.quoted
        out.quoted = True
        out.add(_inline(m.group(1) or ""))
        out.quoted = was
        return
    if _RULE.match(line):
        out.blank()
        out.add("---")
        out.blank()
        return
    if m := _LIST.match(line):
        _list_item(m.group(1), m.group(2), out)
        return
    if line.lstrip().startswith("|"):
        _table_row(line.strip(), out)
        return
    out.reset()
    out.add(_inline(line.strip()))


def _list_item(markers: str, content: str, out: _Out) -> None:
    out.in_table = False
    depth = len(markers)
    counters = out.counters[:depth]
    counters.extend([0] * (depth - len(counters)))
    if markers[-1] == "#":
        counters[-1] += 1
        marker = f"{counters[-1]}. "
    else:
        counters[-1] = 0
        marker = "- "
    out.counters = counters
    pad = _INDENT * (min(depth, MAX_LIST_DEPTH) - 1)
    lines = _inline(content).split("\n")
    out.add(pad + marker + lines[0])
    for extra in lines[1:]:
        out.add(pad + " " * len(marker) + extra)


def _table_row(row: str, out: _Out) -> None:
    out.counters = []
    first = not out.in_table
    out.in_table = True
    masked, tokens = _tokenize(row)
    cells: list[tuple[str, bool]] = []  # (masked cell text, is a header cell)
    i, n = 0, len(masked)
    while i < n:
        if masked[i] != "|":  # text before the first bar: part of the first cell
            j = masked.find("|", i)
            j = n if j < 0 else j
            cells.append((masked[i:j], False))
            i = j
            continue
        header = masked.startswith("||", i)
        i += 2 if header else 1
        j = masked.find("|", i)
        j = n if j < 0 else j
        cells.append((masked[i:j], header))
        i = j
    if cells and not cells[-1][0].strip():  # the closing bar(s)
        cells.pop()
    rendered: list[str] = []
    used = 0
    for cell, _header in cells:
        holes = cell.count(_HOLE)
        rendered.append(_finish(cell, tokens[used : used + holes]).replace("\n", " ").strip())
        used += holes
    if not rendered:
        return
    out.add("| " + " | ".join(rendered) + " |")
    if first and all(header for _, header in cells):
        out.add("|" + "|".join(" --- " for _ in rendered) + "|")


# ---- inline ----------------------------------------------------------------------------------------


def _inline(text: str) -> str:
    masked, tokens = _tokenize(text)
    return _finish(masked, tokens)


def _finish(masked: str, tokens: list[str]) -> str:
    """Strip text effects from the masked text, then put the rendered tokens back in order."""
    for marker in _EFFECTS:
        masked = _strip_effect(masked, marker)
    if not tokens:
        return masked
    parts = masked.split(_HOLE)
    out = [parts[0]]
    for i, part in enumerate(parts[1:]):
        out.append(tokens[i] if i < len(tokens) else "")
        out.append(part)
    return "".join(out)


def _tokenize(text: str) -> tuple[str, list[str]]:
    """Replace escapes, {{mono}}, [links], !images! and line breaks by holes; the tokens, rendered.

    Each kind of closer is searched for with str.find at most once per position reached, and a kind
    whose closer is missing is not searched for again, so the work stays linear."""
    text = _EMPTY_BRACES.sub(lambda m: "{{" if m.group(0).startswith("{{") else "}}", text)
    text = _INLINE_MACRO.sub("", _UNCONSTRAINED.sub("", text))
    out: list[str] = []
    tokens: list[str] = []
    exhausted: set[str] = set()
    i, n, start = 0, len(text), 0

    def hole(value: str, end: int) -> int:
        out.append(text[start:i])
        out.append(_HOLE)
        tokens.append(value)
        return end

    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n and text[i + 1] in _ESCAPABLE:
            nxt = text[i + 1]
            start = hole("\n" if nxt == "\\" else nxt, i + 2)
            i = start
        elif ch in "hHfF" and (i == 0 or not text[i - 1].isalnum()) and (url := _BARE_URL.match(text, i)):
            end = url.end()
            while end > i and text[end - 1] in ".,;:?)'":
                end -= 1
            start = hole(text[i:end], end)
            i = start
        elif ch == "{" and text.startswith("{{", i) and "}}" not in exhausted:
            end = text.find("}}", i + 2)
            if end < 0:
                exhausted.add("}}")
                i += 1
            elif end == i + 2:
                i += 2
            else:
                while text.startswith("}}}", end):  # {{a}}} -> the last two braces close
                    end += 1
                start = hole(f"`{text[i + 2 : end]}`", end + 2)
                i = start
        elif ch == "[" and "]" not in exhausted:
            end = text.find("]", i + 1)
            if end < 0:
                exhausted.add("]")
                i += 1
                continue
            inner = text.rfind("[", i + 1, end)
            if inner >= 0:  # "[a [b|c]": the innermost bracket is the link
                i = inner
                continue
            rendered = _link(text[i + 1 : end])
            if rendered is None:
                i += 1
            else:
                start = hole(rendered, end + 1)
                i = start
        elif ch == "!" and "!" not in exhausted:
            end = text.find("!", i + 1)
            if end < 0:
                exhausted.add("!")
                i += 1
                continue
            rendered = _image(text[i + 1 : end])
            if rendered is None:
                i += 1
            else:
                start = hole(rendered, end + 1)
                i = start
        else:
            i += 1
    out.append(text[start:])
    return "".join(out), tokens


def _looks_like_target(target: str) -> bool:
    return bool(
        _SCHEME.match(target)
        or target.lower().startswith("www.")
        or target.startswith(("/", "#", "^", "~"))
        or ("." in target and " " not in target)
    )


def _link(body: str) -> str | None:
    """The text of a [..] link, or None when the brackets are just text (e.g. "[ERROR]")."""
    if body.startswith("~"):  # [~user] (Server) or [~accountid:5b10a2844c20165700ede21g] (Cloud)
        user = body[1:].strip()
        if user.lower().startswith("accountid:"):
            user = user[len("accountid:") :].strip()
        return f"@{user}" if user else None
    parts = body.split("|")
    if len(parts) == 1:
        target = body.strip()
        if target.startswith("^") and len(target) > 1:
            return f"[attachment: {target[1:]}]"
        if target.startswith("#") and len(target) > 1:
            return target[1:]
        if _SCHEME.match(target) or target.lower().startswith("www."):
            return _target(target)
        return None
    label, target = parts[0].strip(), parts[1].strip()  # a third part (tooltip, smart-link) is dropped
    if not target or not _looks_like_target(target):
        return None
    # the label may hold effects, {{mono}} or an image, never another link: brackets do not nest
    label = _inline(label).strip() if label else ""
    shown = (_link(target) or target) if target.startswith("~") else _target(target)
    if not label or label in (target, shown):
        return shown
    return f"{label} ({shown})"


def _target(target: str) -> str:
    if target.lower().startswith("mailto:"):
        return target[len("mailto:") :]
    if target.startswith("^"):
        return f"[attachment: {target[1:]}]"
    return target


def _image(body: str) -> str | None:
    """`!name.png|thumbnail!` -> "[image: name.png]"; None when the bangs are punctuation."""
    name = body.split("|", 1)[0].strip()
    if not name or body[:1].isspace() or "\n" in body:
        return None
    if name.lower().startswith(("http://", "https://")):
        return f"[image: {name}]"
    base = name.rsplit("^", 1)[-1]  # !space:page^image.png! (a page attachment)
    stem, dot, ext = base.rpartition(".")
    if not dot or not stem or not ext.isalnum() or len(ext) > 5:
        return None
    kind = "image" if ext.lower() in _IMAGE_EXT else "attachment"
    return f"[{kind}: {base}]"


def _strip_effect(text: str, marker: str) -> str:
    """Remove paired effect markers (`*bold*`): an opener follows a non-word character and precedes a
    non-space; a closer follows a non-space and precedes a non-word character. Linear: openers and
    closers are found in one pass and paired greedily, each with the first closer after it."""
    if marker not in text:
        return text
    size = len(marker)
    n = len(text)
    openers: list[int] = []
    closers: list[int] = []
    i = text.find(marker)
    while i >= 0:
        before = text[i - 1] if i > 0 else " "
        after = text[i + size] if i + size < n else " "
        if not (before.isalnum() or before == "_" or before == marker[0]) and not after.isspace():
            openers.append(i)
        if not before.isspace() and i > 0 and not (after.isalnum() or after == "_" or after == marker[0]):
            closers.append(i)
        i = text.find(marker, i + size)
    if not openers or not closers:
        return text
    cut: list[tuple[int, int]] = []
    c = 0
    last_end = -1
    for o in openers:
        if o < last_end:
            continue
        while c < len(closers) and closers[c] < o + size + 1:  # at least one character between
            c += 1
        if c == len(closers):
            break
        cut.append((o, closers[c]))
        last_end = closers[c] + size
        c += 1
    if not cut:
        return text
    pieces: list[str] = []
    pos = 0
    for o, e in cut:
        pieces.append(text[pos:o])
        pieces.append(text[o + size : e])
        pos = e + size
    pieces.append(text[pos:])
    return "".join(pieces)
