"""Eval figures per ticket language as a table with one column per language (what `triage eval
smoke` and `triage eval resolve` print under their summaries)."""

from __future__ import annotations

from typing import Any


def _cell(v: Any, kind: str) -> str:
    if v is None:
        return "n/a"
    if kind == "pct":
        return f"{v:.1%}"
    return f"{v:.2f}" if isinstance(v, float) else str(v)


def format_languages(by_lang: dict[str, dict[str, Any]], labels: list[tuple[str, str, str]]) -> list[str]:
    """`by_lang` (language -> figures) as a table with one column per language; `labels`: (key,
    label, "pct" | "n")."""
    langs = list(by_lang)
    width = max(10, *(len(x) + 2 for x in langs))
    lines = [f"{'per language':30}" + "".join(f"{lang:>{width}}" for lang in langs)]
    for key, label, kind in labels:
        lines.append(f"{label:30}" + "".join(f"{_cell(by_lang[lang].get(key), kind):>{width}}" for lang in langs))
    return lines
