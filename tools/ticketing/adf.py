"""Atlassian Document Format (ADF) <-> plain text.

Jira Cloud sends issue descriptions and comments as ADF (a JSON tree) and expects ADF back in
REST API v3 bodies. `adf_to_text` renders a document as readable, Markdown-ish plain text for the
triage agent; `text_to_adf` turns a plain-text reply into a minimal valid ADF document.

`adf_to_text` never raises: anything it does not recognise (an unknown node type, a missing
`content`, a string where a node was expected) is rendered as the text it contains, or dropped; a
date whose timestamp is no date (out of range, not a number) shows the raw value; nodes nested
deeper than MAX_DEPTH are flattened to their text without recursion, so no input can exhaust the
stack, and list indentation stops growing at MAX_INDENT levels.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

# Nodes that hold block content; their children are separated by blank lines.
_BLOCK_CONTAINERS = {
    "doc",
    "blockquote",
    "panel",
    "expand",
    "nestedExpand",
    "layoutSection",
    "layoutColumn",
    "bodiedExtension",
}
_LIST_TYPES = {"bulletList", "orderedList", "taskList", "decisionList"}
_INLINE_TYPES = {"text", "hardBreak", "mention", "emoji", "inlineCard", "status", "date", "mediaInline", "placeholder"}
_INDENT = "  "
MAX_DEPTH = 48  # nesting levels rendered structurally; deeper content is flattened to text
MAX_INDENT = 8  # list levels that indent further
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# ADF dates are epoch milliseconds; datetime covers years 1..9999
_MIN_MS = int((datetime(1, 1, 1, tzinfo=UTC) - _EPOCH).total_seconds() * 1000)
_MAX_MS = int((datetime(9999, 12, 31, tzinfo=UTC) - _EPOCH).total_seconds() * 1000)


def adf_to_text(doc: object) -> str:
    """Render an ADF document (or any ADF node, or a plain string) as plain text."""
    if doc is None:
        return ""
    if isinstance(doc, str):
        return doc
    text = _block(doc, 0)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return "\n".join(line.rstrip() for line in text.strip("\n").split("\n")).strip()


def text_to_adf(text: str) -> dict[str, object]:
    """A plain-text string as an ADF document: blank lines split paragraphs, single newlines
    become hardBreaks. Whitespace-only input gives a document with no content."""
    normalised = text.replace("\r\n", "\n").replace("\r", "\n")
    paragraphs: list[dict[str, object]] = []
    for chunk in re.split(r"\n[ \t]*\n", normalised):
        lines = chunk.strip("\n").split("\n")
        if not any(line.strip() for line in lines):
            continue
        content: list[dict[str, object]] = []
        for i, line in enumerate(lines):
            if i:
                content.append({"type": "hardBreak"})
            if line:  # ADF forbids empty text nodes
                content.append({"type": "text", "text": line})
        paragraphs.append({"type": "paragraph", "content": content})
    return {"version": 1, "type": "doc", "content": paragraphs}


# ---- rendering -----------------------------------------------------------------------------------


def _children(node: Mapping[str, object]) -> list[object]:
    content = node.get("content")
    return list(content) if isinstance(content, list) else []


def _attrs(node: Mapping[str, object]) -> Mapping[str, object]:
    attrs = node.get("attrs")
    return attrs if isinstance(attrs, Mapping) else {}


def _kind(node: Mapping[str, object]) -> str | None:
    """A node's `type` when it is a string (a list or object there is junk: treated as unknown)."""
    kind = node.get("type")
    return kind if isinstance(kind, str) else None


def _str(value: object) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


def _inline(nodes: list[object], depth: int) -> str:
    return "".join(_inline_node(n, depth + 1) for n in nodes)


def _inline_node(node: object, depth: int) -> str:
    """One inline node (text, hardBreak, mention, emoji, ...) as text."""
    if isinstance(node, str):
        return node
    if not isinstance(node, Mapping):
        return ""
    if depth > MAX_DEPTH:
        return _flat(node)
    kind = _kind(node)
    attrs = _attrs(node)
    if kind == "text":
        return _marked(_str(node.get("text")), node.get("marks"))
    if kind == "hardBreak":
        return "\n"
    if kind == "mention":
        name = _str(attrs.get("text")) or _str(attrs.get("id"))
        return name if name.startswith("@") else f"@{name}"
    if kind == "emoji":
        return _str(attrs.get("text")) or _str(attrs.get("shortName"))
    if kind in ("inlineCard", "blockCard", "embedCard"):
        return _str(attrs.get("url")) or _card_data(attrs)
    if kind == "status":
        return f"[{_str(attrs.get('text'))}]"
    if kind == "date":
        return _date(attrs.get("timestamp"))
    if kind == "placeholder":
        return ""
    if kind == "mediaInline":
        return "[attachment]"
    if kind == "inlineExtension":
        return _str(attrs.get("text"))
    # unknown inline node: whatever text it carries
    return _inline(_children(node), depth) or _str(node.get("text"))


def _marked(text: str, marks: object) -> str:
    if not text or not isinstance(marks, list):
        return text
    href = ""
    code = False
    for mark in marks:
        if not isinstance(mark, Mapping):
            continue
        if _kind(mark) == "link":
            href = _str(_attrs(mark).get("href"))
        elif _kind(mark) == "code":
            code = True
    if code:
        text = f"`{text}`"
    if href and href != text:
        text = f"{text} ({href})"
    return text


def _card_data(attrs: Mapping[str, object]) -> str:
    data = attrs.get("data")
    if isinstance(data, Mapping):
        return _str(data.get("url")) or _str(data.get("name"))
    return ""


def _date(timestamp: object) -> str:
    """An ADF date (epoch milliseconds, a number or a string) as YYYY-MM-DD; anything else raw."""
    raw = _str(timestamp)
    try:
        # a float is the number itself; a string of more than 24 digits is out of range anyway
        ms = int(timestamp) if isinstance(timestamp, float) else int(raw.strip()[:24])
    except (ValueError, OverflowError):  # not a number, NaN, infinity
        return raw
    if not _MIN_MS <= ms <= _MAX_MS:
        return raw
    try:
        return (_EPOCH + timedelta(milliseconds=ms)).date().isoformat()
    except (OverflowError, ValueError):
        return raw


def _blocks(nodes: list[object], depth: int) -> str:
    parts = [_block(n, depth + 1) for n in nodes]
    return "\n\n".join(p for p in parts if p.strip())


def _flat(node: object) -> str:
    """The text of a too-deeply nested subtree, gathered without recursion: leaf text in document
    order, a line break after each block."""
    out: list[str] = []
    stack: list[object] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, list):
            stack.extend(reversed(item))
        elif isinstance(item, Mapping):
            kind = _kind(item)
            children = _children(item)
            if kind in _INLINE_TYPES:  # leaves: their text needs no recursion
                out.append(_inline_node(item, 0))
                continue
            if kind not in _INLINE_TYPES:
                stack.append("\n")
            stack.extend(reversed(children))
    return re.sub(r"\n{2,}", "\n", "".join(out)).strip("\n")


def _block(node: object, depth: int) -> str:
    """One block node as text (without trailing newline)."""
    if isinstance(node, str):
        return node
    if depth > MAX_DEPTH:
        return _flat(node)
    if isinstance(node, list):
        return _blocks(node, depth)
    if not isinstance(node, Mapping):
        return ""
    kind = _kind(node)
    attrs = _attrs(node)
    children = _children(node)
    if kind == "paragraph":
        return _inline(children, depth)
    if kind == "heading":
        try:
            level = max(1, min(6, int(_str(attrs.get("level"))[:4] or 1)))
        except ValueError:
            level = 1
        return "#" * level + " " + _inline(children, depth)
    if kind in _LIST_TYPES:
        return _list(node, 0, depth)
    if kind == "codeBlock":
        language = _str(attrs.get("language"))
        return f"```{language}\n{_plain(children)}\n```"
    if kind == "blockquote":
        return "\n".join("> " + line if line else ">" for line in _blocks(children, depth).split("\n"))
    if kind == "rule":
        return "---"
    if kind in ("expand", "nestedExpand"):
        title = _str(attrs.get("title"))
        body = _blocks(children, depth)
        return f"{title}\n{body}" if title else body
    if kind == "table":
        return _table(children, depth)
    if kind in ("mediaSingle", "mediaGroup"):
        return _blocks(children, depth) or "[attachment]"
    if kind == "media":
        alt = _str(attrs.get("alt"))
        return f"[attachment: {alt}]" if alt else "[attachment]"
    if kind in _BLOCK_CONTAINERS:
        return _blocks(children, depth)
    if kind in ("text", "hardBreak", "mention", "emoji", "inlineCard", "status", "date", "mediaInline"):
        return _inline_node(node, depth)
    if kind in ("blockCard", "embedCard"):
        return _inline_node(node, depth)
    # unknown node: its text content, block-wise if it has block children, else inline
    if any(isinstance(c, Mapping) and _kind(c) not in _INLINE_TYPES for c in children):
        return _blocks(children, depth)
    return _inline(children, depth) or _str(node.get("text"))


def _plain(nodes: list[object]) -> str:
    """Text of code-block content: no marks, no decoration (nested content flattened, no recursion)."""
    out: list[str] = []
    stack: list[object] = list(reversed(nodes))
    while stack:
        n = stack.pop()
        if isinstance(n, Mapping):
            if _kind(n) == "hardBreak":
                out.append("\n")
            elif text := _str(n.get("text")):
                out.append(text)
            else:
                stack.extend(reversed(_children(n)))
        elif isinstance(n, str):
            out.append(n)
    return "".join(out)


def _list(node: Mapping[str, object], level: int, depth: int) -> str:
    """A list at indentation `level`; `depth` is the node's nesting depth in the document."""
    if depth > MAX_DEPTH:
        return _flat(node)
    kind = _kind(node)
    try:
        number = int(_str(_attrs(node).get("order"))[:12] or 1)
    except ValueError:
        number = 1
    lines: list[str] = []
    for item in _children(node):
        if not isinstance(item, Mapping):
            continue
        if kind == "orderedList":
            marker = f"{number}. "
            number += 1
        elif kind == "taskList":
            marker = "[x] " if _attrs(item).get("state") == "DONE" else "[ ] "
        else:
            marker = "- "
        if _kind(item) in _LIST_TYPES:  # a taskList may nest a list directly
            lines.append(_list(item, level + 1, depth + 1))
            continue
        lines.extend(_list_item(item, marker, level, depth + 1))
    return "\n".join(lines)


def _list_item(item: Mapping[str, object], marker: str, level: int, depth: int) -> list[str]:
    pad = _INDENT * min(level, MAX_INDENT)
    lines: list[str] = []
    first = True
    children = _children(item)
    # taskItem/decisionItem hold inline content directly
    if children and all(isinstance(c, Mapping) and _kind(c) in _INLINE_TYPES for c in children):
        children = [{"type": "paragraph", "content": children}]
    for child in children:
        if isinstance(child, Mapping) and _kind(child) in _LIST_TYPES:
            if first:
                lines.append(pad + marker.rstrip())
                first = False
            lines.append(_list(child, level + 1, depth + 1))
            continue
        text = _block(child, depth + 1)
        if not text:
            continue
        for line in text.split("\n"):
            if first:
                lines.append(pad + marker + line)
                first = False
            else:
                lines.append(pad + " " * len(marker) + line)
    if first:
        lines.append(pad + marker.rstrip())
    return lines


def _table(rows: list[object], depth: int) -> str:
    out: list[str] = []
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping):
            continue
        cells = [
            _blocks(_children(c), depth + 2).replace("\n", " ") if isinstance(c, Mapping) else ""
            for c in _children(row)
        ]
        out.append("| " + " | ".join(cells) + " |")
        is_header = all(isinstance(c, Mapping) and _kind(c) == "tableHeader" for c in _children(row))
        if i == 0 and is_header and cells:
            out.append("|" + "|".join(" --- " for _ in cells) + "|")
    return "\n".join(out)
