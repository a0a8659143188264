"""The blind demo-KB sets under evals/fresh/ hold what their README says: every gold document exists,
the gold category is the first document's, an auto_resolve ticket's document may be auto-resolved,
and each of the six sets has 40 English and 40 Ukrainian tickets with 24 / 8 / 8 outcomes per language."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from agent.settings import REPO_ROOT
from evals.resolve.data import load_cases, load_kb

FRESH = sorted((REPO_ROOT / "evals" / "fresh").glob("demo_fresh_*.jsonl"))
KB = load_kb(REPO_ROOT / "knowledge" / "demo")
META = {d.meta.id: d.meta for d in KB.docs}


def test_the_six_sets_are_there() -> None:
    assert [p.name for p in FRESH] == [
        "demo_fresh_2026-12-02.jsonl",
        "demo_fresh_2026-12-03.jsonl",
        "demo_fresh_2026-12-03b.jsonl",
        "demo_fresh_2026-12-04.jsonl",
        "demo_fresh_2026-12-04b.jsonl",
        "demo_fresh_2026-12-04c.jsonl",
    ]


@pytest.mark.parametrize("path", FRESH, ids=lambda p: p.name)
def test_a_fresh_set_is_what_its_readme_says(path: Path) -> None:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len({r["id"] for r in rows}) == len(rows) == 80
    assert len(load_cases(path, KB)) == 80  # the eval reads every line
    assert Counter((r["language"], r["gold"]["outcome"]) for r in rows) == {
        (lang, outcome): n
        for lang in ("en", "uk")
        for outcome, n in (("auto_resolve", 24), ("suggest", 8), ("handoff", 8))
    }
    for r in rows:
        gold = r["gold"]
        docs = gold["doc_ids"]
        assert all(d in META and not d.endswith((".uk", ".en")) for d in docs), r["id"]
        assert gold["category"] == (META[docs[0]].category if docs else "other"), r["id"]
        if gold["outcome"] == "auto_resolve":
            first = META[docs[0]]
            assert len(docs) == 1 and first.auto_resolvable and not gold["risk"], r["id"]
            assert first.type != "rca" or first.status in ("workaround", "fixed"), r["id"]
