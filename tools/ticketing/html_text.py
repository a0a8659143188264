"""HTML -> readable plain text (Freshdesk's `{{ticket.description}}`, HTML trigger bodies).

`html_to_text` parses with BeautifulSoup on the standard library's "html.parser" and walks the tree
without recursion, the way a browser lays it out in text:

- paragraphs, headings, blockquotes, tables and lists are set off by blank lines; `<div>` and `<br>`
  start a new line (Freshdesk writes one `<div>` per line and `<div><br></div>` for an empty one);
- `<li>` items become "- item" / "1. item" (`<ol start>` honoured), nested lists indented;
- table rows become "a | b" lines; `<h1>`..`<h6>` "# ..", `<blockquote>` "> ..", `<hr>` "---";
- links become "text (url)" when the text is not the address itself; `<img alt>` "[image: alt]";
- `<script>`, `<style>`, `<head>`, `<template>`, comments and declarations are dropped;
- entities are unescaped (`&amp;` -> &, `&nbsp;` -> a space); runs of whitespace collapse, except
  inside `<pre>`.

It never raises and does linear work: html.parser rescans the rest of the input for every `<` that
opens a tag it cannot close (quadratic on hostile input), so such a `<` is escaped first, and
comments are removed before parsing. Input past MAX_CHARS is cut.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bs4 import BeautifulSoup
from bs4.element import NavigableString, PageElement, PreformattedString, Tag

MAX_CHARS = 1_000_000
MAX_INDENT_LEVELS = 8
MAX_QUOTE_LEVELS = 4

_SKIP = frozenset({"script", "style", "head", "title", "template", "noscript", "iframe", "object", "svg", "math"})
_PARAGRAPH = frozenset(
    {"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "ul", "ol", "dl", "figure", "hr"}
)
_LINE = frozenset(
    {
        "div",
        "section",
        "article",
        "header",
        "footer",
        "main",
        "nav",
        "aside",
        "address",
        "form",
        "fieldset",
        "legend",
        "figcaption",
        "details",
        "summary",
        "center",
        "tr",
        "li",
        "dt",
        "dd",
        "caption",
        "tbody",
        "thead",
        "tfoot",
    }
)
_CELL = frozenset({"td", "th"})
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_LINK_SCHEMES = ("http://", "https://", "mailto:", "ftp://", "tel:")
_WS = re.compile(r"[ \t\n\r\f\v\u00a0\u200b]+")
_TAG_START = re.compile(r"[A-Za-z/!?]")
# evidence of HTML: a closing tag or <br> of a common element, or markup opening the text
_HTML_HINT = re.compile(
    r"</(?:p|div|span|a|b|i|u|em|strong|li|ul|ol|table|tr|td|th|h[1-6]|blockquote|pre|font|body|html)\s*>"
    r"|<br\s*/?>|\A\s*<(?:!doctype|html|body|p|div|span|table|ul|ol|h[1-6])\b",
    re.IGNORECASE,
)


def looks_like_html(text: object) -> bool:
    """True when `text` is HTML: it has a closing tag or <br> of a common element, or opens with markup
    (plain text that mentions "<div>" in passing is not)."""
    return isinstance(text, str) and "<" in text and _HTML_HINT.search(text[:MAX_CHARS]) is not None


def html_to_text(html: object) -> str:
    """Render an HTML fragment or document as plain text (a non-string renders as "")."""
    if not isinstance(html, str) or not html.strip():
        return ""
    soup = BeautifulSoup(_defuse(html[:MAX_CHARS]), "html.parser")
    out = _Out()
    # an explicit stack of (element, entering): no recursion, however deep the nesting
    stack: list[tuple[PageElement, bool]] = [(child, True) for child in reversed(soup.contents)]
    while stack:
        node, entering = stack.pop()
        if isinstance(node, Tag):
            name = (node.name or "").lower()
            if entering:
                if name in _SKIP:
                    continue
                _open(node, name, out)
                stack.append((node, False))
                stack.extend((child, True) for child in reversed(node.contents))
            else:
                _close(node, name, out)
        elif isinstance(node, NavigableString) and not isinstance(node, PreformattedString):
            # PreformattedString: comments, CDATA, declarations, doctypes, processing instructions
            out.text(str(node))
    return out.render()


# ---- pre-parse ---------------------------------------------------------------------------------------


def _defuse(html: str) -> str:
    """Drop comments; escape every `<` that opens no tag closed before the next `<`."""
    html = _drop_comments(html)
    out: list[str] = []
    pos = 0
    next_gt = -1
    i = html.find("<")
    while i >= 0:
        j = html.find("<", i + 1)
        if next_gt <= i:
            next_gt = html.find(">", i + 1)
        opens_tag = i + 1 < len(html) and _TAG_START.match(html, i + 1) is not None
        closed = next_gt > i and (j < 0 or next_gt < j)
        if opens_tag and not closed:
            out.append(html[pos:i])
            out.append("&lt;")
            pos = i + 1
        if next_gt < 0:  # no '>' anywhere after: every later '<' is text too
            while j >= 0:
                if j + 1 < len(html) and _TAG_START.match(html, j + 1):
                    out.append(html[pos:j])
                    out.append("&lt;")
                    pos = j + 1
                j = html.find("<", j + 1)
            break
        i = j
    out.append(html[pos:])
    return "".join(out)


def _drop_comments(html: str) -> str:
    if "<!--" not in html:
        return html
    out: list[str] = []
    pos = 0
    while True:
        start = html.find("<!--", pos)
        if start < 0:
            out.append(html[pos:])
            break
        out.append(html[pos:start])
        end = html.find("-->", start + 4)
        if end < 0:  # an unterminated comment runs to the end, as in a browser
            break
        pos = end + 3
    return "".join(out)


# ---- layout ------------------------------------------------------------------------------------------


@dataclass
class _List:
    ordered: bool
    number: int


@dataclass
class _Out:
    parts: list[str] = field(default_factory=list[str])
    pending: int = 0  # newlines owed before the next text
    at_line_start: bool = True
    space: bool = False  # a collapsed space owed before the next text
    pre: int = 0
    cell: int = 0  # inside a table cell: line breaks become spaces
    quote: int = 0
    last_quote: int = 0  # the quote level of the last text written
    lists: list[_List] = field(default_factory=list[_List])
    row_cells: list[int] = field(default_factory=list[int])  # cells seen in each open <tr>
    links: list[tuple[Tag, str, int]] = field(default_factory=list[tuple[Tag, str, int]])
    link_text: list[str] = field(default_factory=list[str])
    marked: bool = False  # a list marker or heading marker was just written: its text follows on the line

    def boundary(self, newlines: int) -> None:
        if self.marked:
            return
        if self.cell:
            self.space = True
            return
        if self.lists and newlines > 1:
            newlines = 1  # blocks inside a list item stay on its lines
        self.pending = max(self.pending, newlines)
        self.space = False

    def line_break(self) -> None:
        if self.cell:
            self.space = True
            return
        self.pending += 1
        self.space = False

    def prefix(self, level: int | None = None) -> str:
        return "> " * min(self.quote if level is None else level, MAX_QUOTE_LEVELS)

    def emit(self, text: str) -> None:
        """Append text as is (already collapsed or preformatted), paying owed newlines and spaces."""
        if not text:
            return
        if self.parts and self.pending:
            blank = self.prefix(min(self.quote, self.last_quote)).rstrip()
            blanks = self.pending - 1 if self.pre else min(self.pending - 1, 1)  # one blank line at most
            self.parts.append("\n" + (blank + "\n") * blanks)
            self.at_line_start = True
        self.pending = 0
        if self.at_line_start:
            self.parts.append(self.prefix())
        elif self.space:
            self.parts.append(" ")
        self.space = False
        self.at_line_start = False
        self.marked = False
        self.last_quote = self.quote
        self.parts.append(text)
        if self.links:
            self.link_text.append(text)

    def text(self, raw: str) -> None:
        if self.pre and not self.cell:
            lines = raw.replace("\r\n", "\n").replace("\r", "\n").split("\n")
            for i, line in enumerate(lines):
                if i:
                    self.line_break()
                self.emit(line.replace("\u00a0", " "))
            return
        collapsed = _WS.sub(" ", raw)
        if not collapsed.strip():
            if collapsed and not self.at_line_start:
                self.space = True
            return
        if collapsed.startswith(" ") and not self.at_line_start:
            self.space = True
        self.emit(collapsed.strip())
        if collapsed.endswith(" "):
            self.space = True

    def render(self) -> str:
        text = "".join(self.parts)
        return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n").strip()


def _open(node: Tag, name: str, out: _Out) -> None:
    if name == "br":
        out.line_break()
    elif name == "hr":
        out.boundary(2)
        out.emit("---")
        out.boundary(2)
    elif name == "img":
        alt = _attr(node, "alt")
        if alt:
            out.emit(f"[image: {_WS.sub(' ', alt).strip()}]")
    elif name in _CELL:
        if out.row_cells:
            if out.row_cells[-1]:
                out.space = True
                out.emit("|")
                out.space = True
            out.row_cells[-1] += 1
        out.cell += 1
    elif name == "tr":
        out.boundary(1)
        out.row_cells.append(0)
    elif name in ("ul", "ol"):
        out.marked = False  # a list right after a marker still starts on its own line
        out.boundary(2 if not out.lists else 1)
        out.lists.append(_List(name == "ol", _start(node) if name == "ol" else 1))
    elif name == "li":
        out.marked = False
        out.boundary(1)
        depth = min(len(out.lists), MAX_INDENT_LEVELS)
        pad = "  " * max(depth - 1, 0)
        current = out.lists[-1] if out.lists else None
        if current and current.ordered:
            marker = f"{current.number}. "
            current.number += 1
        else:
            marker = "- "
        out.emit(pad + marker.rstrip())
        out.space = True
        out.marked = True
    elif name in _HEADINGS:
        out.boundary(2)
        out.emit("#" * _HEADINGS[name])
        out.space = True
        out.marked = True
    elif name == "blockquote":
        out.boundary(2)
        out.quote += 1
    elif name == "pre":
        out.boundary(2)
        out.pre += 1
    elif name in _PARAGRAPH:
        out.boundary(2)
    elif name in _LINE:
        out.boundary(1)
    elif name == "a":
        href = _attr(node, "href").strip()
        if not out.links:  # a link inside a link (invalid HTML) is just text
            out.links.append((node, href, len(out.link_text)))


def _close(node: Tag, name: str, out: _Out) -> None:
    if name in _CELL:
        out.cell = max(out.cell - 1, 0)
    elif name == "tr":
        if out.row_cells:
            out.row_cells.pop()
        out.boundary(1)
    elif name in ("ul", "ol"):
        if out.lists:
            out.lists.pop()
        out.boundary(2 if not out.lists else 1)
    elif name == "blockquote":
        out.boundary(2)
        out.quote = max(out.quote - 1, 0)
    elif name == "pre":
        out.pre = max(out.pre - 1, 0)
        out.boundary(2)
    elif name in _PARAGRAPH or name in _HEADINGS:
        out.boundary(2)
    elif name in _LINE:
        out.boundary(1)
    elif name == "a" and out.links and out.links[-1][0] is node:
        _, href, start = out.links.pop()
        label = " ".join("".join(out.link_text[start:]).split())
        out.link_text.clear()
        shown = _shown(href)
        same = {href.lower().rstrip("/"), shown.lower().rstrip("/")}
        if shown and label.lower().rstrip("/") not in same:
            if label:
                out.space = True
                out.emit(f"({shown})")
            else:
                out.emit(shown)


def _shown(href: str) -> str:
    """The address to show for a link, or "" for anchors, javascript: and relative links."""
    if not href.lower().startswith(_LINK_SCHEMES):
        return ""
    return href[len("mailto:") :] if href.lower().startswith("mailto:") else href


def _attr(node: Tag, name: str) -> str:
    value = node.get(name)
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return value if isinstance(value, str) else ""


def _start(node: Tag) -> int:
    value = _attr(node, "start").strip()
    if value.isdigit() and len(value) <= 9:
        return int(value)
    return 1
