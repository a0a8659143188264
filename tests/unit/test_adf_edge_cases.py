"""ADF input that used to crash the renderer: out-of-range dates and documents nested hundreds deep."""

from __future__ import annotations

from typing import Any

import pytest

from api.providers import Intake, jira
from tools.ticketing.adf import MAX_DEPTH, adf_to_text


def para(text: str) -> dict[str, Any]:
    return {"type": "paragraph", "content": [{"type": "text", "text": text}]}


def date(timestamp: object) -> dict[str, Any]:
    return {
        "type": "paragraph",
        "content": [{"type": "text", "text": "due "}, {"type": "date", "attrs": {"timestamp": timestamp}}],
    }


@pytest.mark.parametrize(
    ("timestamp", "expected"),
    [
        ("1736331127000", "due 2025-01-08"),
        (1736331127000, "due 2025-01-08"),
        (1736331127000.0, "due 2025-01-08"),
        ("99999999999999999", "due 99999999999999999"),  # year ~3.17 million: shown raw
        (99999999999999999, "due 99999999999999999"),
        ("-99999999999999999", "due -99999999999999999"),
        ("9" * 5000, "due " + "9" * 5000),  # more digits than int() takes from a string
        (float("inf"), "due inf"),
        (float("nan"), "due nan"),
        ("tomorrow", "due tomorrow"),
    ],
)
def test_dates_out_of_range_render_raw(timestamp: object, expected: str) -> None:
    assert adf_to_text(date(timestamp)) == expected


def nest(kind: str, levels: int, leaf: dict[str, Any]) -> dict[str, Any]:
    node = leaf
    for _ in range(levels):
        if kind in ("bulletList", "orderedList"):
            node = {"type": kind, "content": [{"type": "listItem", "content": [node]}]}
        elif kind == "table":
            node = {
                "type": "table",
                "content": [{"type": "tableRow", "content": [{"type": "tableCell", "content": [node]}]}],
            }
        elif kind == "inline":
            node = {"type": "someFutureInline", "content": [node]}
        else:
            node = {"type": kind, "content": [node]}
    return node


@pytest.mark.parametrize(
    "kind", ["blockquote", "panel", "expand", "layoutSection", "someFutureBlock", "bulletList", "orderedList", "table"]
)
def test_hundreds_of_levels_render_without_recursion_error(kind: str) -> None:
    doc = {"type": "doc", "content": [nest(kind, 400, para("deep text")), para("after")]}
    out = adf_to_text(doc)
    assert "deep text" in out
    assert out.endswith("\n\nafter")
    # nothing past the depth limit is laid out: no line is indented or prefixed hundreds of times
    assert max(len(line) for line in out.splitlines()) < 400


def test_deep_inline_nesting_and_code_blocks_keep_their_text() -> None:
    inline = {"type": "paragraph", "content": [nest("inline", 600, {"type": "text", "text": "innermost"})]}
    assert adf_to_text(inline) == "innermost"
    code = {"type": "codeBlock", "content": [nest("inline", 600, {"type": "text", "text": "x = 1"})]}
    assert adf_to_text(code) == "```\nx = 1\n```"


def test_content_past_the_depth_limit_is_flattened_to_its_text_in_order() -> None:
    deep = nest("blockquote", MAX_DEPTH + 20, {"type": "doc", "content": [para("first"), para("second")]})
    lines = adf_to_text(deep).splitlines()
    assert [line.strip("> ").strip() for line in lines if line.strip("> ")] == ["first", "second"]


def test_lists_indent_at_most_eight_levels() -> None:
    out = adf_to_text(nest("bulletList", 20, para("leaf")))
    assert out.splitlines()[-1] == "  " * 8 + "- leaf"


def test_a_jira_webhook_with_such_a_description_is_a_ticket() -> None:
    description = {"type": "doc", "content": [date("99999999999999999"), nest("blockquote", 300, para("deep"))]}
    payload = {
        "webhookEvent": "jira:issue_created",
        "issue": {"id": "10001", "key": "SUP-1", "fields": {"summary": "Odd", "description": description}},
    }
    got = jira.parse(payload, {})
    assert isinstance(got, Intake)
    assert got.fields["body"].startswith("due 99999999999999999\n\n> ")
    assert got.fields["body"].endswith("deep")


def test_a_node_type_that_is_not_a_string_is_treated_as_unknown() -> None:
    """A list or object under "type" (junk a sender can sign) must not be hashed into a set lookup: the
    property-based intake test found a 500 there."""
    doc = {
        "type": "doc",
        "content": [
            {"type": ["x"]},
            {"type": {"a": 1}, "content": [{"type": "text", "text": "kept"}]},
            {"type": "paragraph", "content": [{"type": "text", "text": "ok", "marks": [{"type": ["link"]}]}]},
        ],
    }
    assert adf_to_text(doc) == "kept\n\nok"
