"""Reading labelled history: CSV, JSONL (dotted columns, combined text) and CLINC-style JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.graph.classifier.data import DataError, read_labelled


def test_csv_with_guessed_columns(tmp_path: Path) -> None:
    f = tmp_path / "b.csv"
    f.write_text('text,category\nI am still waiting on my card?,card_arrival\n"Hi, top up failed",top_up_failed\n')
    ds = read_labelled(f)
    assert ds.texts == ["I am still waiting on my card?", "Hi, top up failed"]
    assert ds.labels == {"category": ["card_arrival", "top_up_failed"]}
    assert len(ds.sha256) == 64


def test_hint3_style_trailing_empty_column(tmp_path: Path) -> None:
    f = tmp_path / "h.csv"
    f.write_text("sentence,label,\nWhat are offers,OFFERS,\nhow to join,JOIN,\n")
    ds = read_labelled(f)
    assert ds.texts == ["What are offers", "how to join"] and ds.labels["label"] == ["OFFERS", "JOIN"]


def test_jsonl_subject_and_body_combined_with_nested_labels(tmp_path: Path) -> None:
    f = tmp_path / "t.jsonl"
    rows = [
        {"subject": "Locked out", "body": "Cannot log in", "gold": {"category": "account_access", "priority": "high"}},
        {"subject": "", "body": "Payslip missing", "gold": {"category": "payslips"}},
    ]
    f.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    ds = read_labelled(f, ["subject+body"], ["gold.category", "gold.priority"])
    assert ds.texts == ["Locked out\n\nCannot log in", "Payslip missing"]
    assert ds.labels["gold.priority"] == ["high", None]
    texts, labels = ds.field_rows("gold.priority")
    assert texts == ["Locked out\n\nCannot log in"] and labels == ["high"]


def test_clinc_json_all_lists_or_selected(tmp_path: Path) -> None:
    f = tmp_path / "c.json"
    f.write_text(json.dumps({"train": [["hi there", "greeting"]], "oos_train": [["what is the dow", "oos"]]}))
    assert read_labelled(f).labels == {"intent": ["oos", "greeting"]}  # lists in sorted order
    only = read_labelled(f"{f}:train")
    assert only.texts == ["hi there"]
    with pytest.raises(DataError, match="no list"):
        read_labelled(f"{f}:test")


@pytest.mark.parametrize(
    ("name", "content", "kwargs", "message"),
    [
        ("a.csv", "text,category\n,x\n", {}, "row 2 has empty text"),
        ("a.csv", "foo,bar\nx,y\n", {}, "cannot guess the text column"),
        ("a.csv", "text,category\nx,y\n", {"label_columns": ["intent"]}, "no label column"),
        ("a.jsonl", '{"text": "x", "category": "y"}\nnot json\n', {}, "a.jsonl:2: not JSON"),
        ("a.json", '{"train": [["only text"]]}', {}, r"train\[0\] is not a \[text, label\] pair"),
        ("a.xlsx", "x", {}, "unknown format"),
        ("a.csv", "", {}, "no rows"),
    ],
)
def test_bad_input_is_a_clear_error(tmp_path: Path, name: str, content: str, kwargs: dict, message: str) -> None:
    f = tmp_path / name
    f.write_text(content)
    with pytest.raises(DataError, match=message):
        read_labelled(f, **kwargs)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file"):
        read_labelled(tmp_path / "nope.csv")
