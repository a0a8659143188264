"""Eval figures per ticket language side by side (`triage eval smoke` / `triage eval resolve`), and
a translation of a gold document counting as gold."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evals.resolve.data import load_cases, load_kb, translation_groups, with_translations
from evals.resolve.languages import format_languages
from evals.smoke import SMOKE_LANGUAGE_ROWS, by_language


def row(lang: str, gold: str, got: str, found: bool | None, wrong: bool = False) -> dict[str, Any]:
    return {"language": lang, "gold": gold, "got": got, "gold_doc_in_top_k": found, "wrong": wrong}


def test_smoke_figures_per_language() -> None:
    rows = [
        row("en", "auto_resolve", "auto_resolve", True),
        row("en", "auto_resolve", "suggest", True),
        row("en", "handoff", "handoff", None),
        row("uk", "auto_resolve", "auto_resolve", True),
        row("uk", "auto_resolve", "auto_resolve", False, wrong=True),
        row("uk", "suggest", "auto_resolve", True, wrong=True),
        row("uk", "handoff", "suggest", None),
    ]
    got = by_language(rows, [0.1, 0.2, 0.3, 1.0, 2.0, 3.0, 4.0])
    assert list(got) == ["en", "uk"]
    en, uk = got["en"], got["uk"]
    assert en["tickets"] == 3 and en["recall_at_k"] == 1.0 and en["gold_auto"] == 2 and en["correct_auto"] == 1
    assert en["correct_auto_rate"] == 0.5 and en["wrong_auto"] == 0 and en["handoff_recall"] == 1.0
    assert uk["recall_at_k"] == round(2 / 3, 3) and uk["correct_auto"] == 1 and uk["correct_auto_rate"] == 0.5
    assert uk["auto_resolved"] == 3 and uk["wrong_auto"] == 2 and uk["handoff_recall"] == 0.0
    assert uk["seconds_p50"] > en["seconds_p50"]


def test_languages_print_side_by_side() -> None:
    figures = {
        "en": {"tickets": 36, "recall_at_k": 0.95, "correct_auto": 11},
        "uk": {"tickets": 33, "recall_at_k": None, "correct_auto": 7},
    }
    lines = format_languages(figures, [("tickets", "tickets", "n"), ("recall_at_k", "recall", "pct")])
    header, tickets, recall = lines
    assert header.split()[-2:] == ["en", "uk"]
    assert tickets.split()[-2:] == ["36", "33"]
    assert recall.split()[-2:] == ["95.0%", "n/a"]
    # every row the smoke summary prints has a label and a known format
    assert all(kind in ("n", "pct") for _, _, kind in SMOKE_LANGUAGE_ROWS)


def write_doc(folder: Path, doc_id: str, language: str, translation_of: str | None = None) -> None:
    extra = f"translation_of: {translation_of}\n" if translation_of else ""
    folder.joinpath(f"{doc_id}.md").write_text(
        f"---\nid: {doc_id}\ntitle: Doc {doc_id}\ntype: kb\ncategory: payslips\nlanguage: {language}\n{extra}---\n"
        f"# Doc {doc_id}\n\nSome text about {doc_id}.\n",
        encoding="utf-8",
    )


def test_a_translation_of_a_gold_document_is_gold(tmp_path: Path) -> None:
    kb_dir = tmp_path / "kb"
    kb_dir.mkdir()
    write_doc(kb_dir, "KB-1", "en")
    write_doc(kb_dir, "KB-1.uk", "uk", "KB-1")
    write_doc(kb_dir, "KB-2", "en")
    kb = load_kb(kb_dir)
    assert translation_groups(kb.docs) == {"KB-1": "KB-1", "KB-1.uk": "KB-1", "KB-2": "KB-2"}
    assert with_translations(["KB-1"], kb.docs) == ["KB-1", "KB-1.uk"]
    assert with_translations(["KB-1.uk"], kb.docs) == ["KB-1.uk", "KB-1"]
    assert with_translations(["KB-2"], kb.docs) == ["KB-2"]
    cases = tmp_path / "cases.jsonl"
    cases.write_text(
        '{"id": "c1", "subject": "s", "body": "b", "gold": {"outcome": "auto_resolve", "doc_ids": ["KB-1"]}}\n',
        encoding="utf-8",
    )
    assert load_cases(cases, kb)[0].gold_doc_ids == ["KB-1", "KB-1.uk"]
