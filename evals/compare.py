"""`triage eval compare`: two runs (a `--json` file or a `--report` directory, of `eval triage` or
`eval resolve`) side by side, with the differences. `SCALARS` names the figures a run is read and
compared by (the triage report's metric table shows the same)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SCALARS = (
    ("accuracy", "Accuracy", True),
    ("macro_f1", "Macro-F1", True),
    ("ece", "Expected calibration error (lower is better)", False),
    ("in_scope_accuracy", "In-scope accuracy", True),
    ("oos_recall", "Out-of-scope recall", True),
    ("oos_precision", "Out-of-scope precision", True),
    ("tickets_per_s", "Tickets per second (classify, batch)", True),
    # `triage eval resolve` runs
    ("auto_resolution_rate", "Auto-resolution rate", True),
    ("auto_resolution_rate_answerable", "Auto-resolved among answerable", True),
    ("correct_auto_rate_answerable", "Right auto-resolutions among answerable", True),
    ("wrong_resolution_rate", "Wrong-resolution rate (lower is better)", False),
    ("handoff_recall", "Handoff recall", True),
    ("handoff_precision", "Handoff precision", True),
    ("recall_at_1", "Retrieval recall@1", True),
    ("recall_at_5", "Retrieval recall@5", True),
    ("mrr", "MRR", True),
    ("context_precision", "ragas ID context precision", True),
    ("context_recall", "ragas ID context recall", True),
    ("faithfulness", "Faithfulness (LLM judge)", True),
    ("answer_relevancy", "Answer relevancy (LLM judge)", True),
    ("seconds_p50", "Seconds per ticket p50 (lower is better)", False),
    ("seconds_p95", "Seconds per ticket p95 (lower is better)", False),
)
RUN_FACTS = (
    "train",
    "test",
    "shots",
    "model_version",
    "train_rows",
    "kb",
    "llm",
    "embedder",
    "classifier",
    "policy_version",
    "prompts",
    "commit",
)


def _pct(v: float) -> str:
    return f"{100 * v:.2f}%"


def format_scalar(key: str, v: float) -> str:
    """A scalar metric as a report shows it: a percentage, a count per second, seconds or a small number."""
    if key == "tickets_per_s":
        return f"{v:.0f}"
    if key in ("ece", "mrr"):
        return f"{v:.4f}"
    if key.startswith("seconds"):
        return f"{v:.2f} s"
    return _pct(v)


def load_run(path: Path) -> dict[str, Any]:
    """A run is a `--json` file or a `--report` directory (its metrics.json)."""
    target = path / "metrics.json" if path.is_dir() else path
    if not target.exists():
        raise FileNotFoundError(f"{path}: no run here (expected a --json file or a --report directory)")
    return json.loads(target.read_text(encoding="utf-8"))


def compare_runs(a: dict[str, Any], b: dict[str, Any], name_a: str = "A", name_b: str = "B") -> str:
    """Side-by-side scalars with differences, then the classes whose F1 moved most."""
    lines = [f"| metric | {name_a} | {name_b} | change |", "|---|---:|---:|---:|"]
    for key, label, higher_better in SCALARS:
        va, vb = a.get(key), b.get(key)
        if va is None and vb is None:
            continue
        if va is None or vb is None:
            shown_a = "—" if va is None else format_scalar(key, va)
            shown_b = "—" if vb is None else format_scalar(key, vb)
            lines.append(f"| {label} | {shown_a} | {shown_b} | |")
            continue
        diff = float(vb) - float(va)
        better = (diff > 0) == higher_better if abs(diff) > 1e-12 else None
        mark = "" if better is None else (" better" if better else " worse")
        dtxt = (
            f"{diff:+.0f}"
            if key == "tickets_per_s"
            else (
                f"{diff:+.4f}"
                if key in ("ece", "mrr")
                else (f"{diff:+.2f} s" if key.startswith("seconds") else f"{100 * diff:+.2f} pts")
            )
        )
        lines.append(f"| {label} | {format_scalar(key, va)} | {format_scalar(key, vb)} | {dtxt}{mark} |")
    ra, rb = a.get("run", {}), b.get("run", {})
    for key in RUN_FACTS:
        if ra.get(key) != rb.get(key):
            lines.append(f"| run.{key} | {ra.get(key)} | {rb.get(key)} | differs |")
    pa: dict[str, Any] = a.get("metrics", {}).get("per_class", {})
    pb: dict[str, Any] = b.get("metrics", {}).get("per_class", {})
    moved = sorted(
        ((c, pb[c]["f1"] - pa[c]["f1"]) for c in set(pa) & set(pb)),
        key=lambda kv: -abs(kv[1]),
    )[:10]
    moved = [m for m in moved if abs(m[1]) > 1e-9]
    if moved:
        lines += ["", f"| class | F1 {name_a} | F1 {name_b} | change |", "|---|---:|---:|---:|"]
        lines += [f"| {c} | {_pct(pa[c]['f1'])} | {_pct(pb[c]['f1'])} | {100 * d:+.2f} pts |" for c, d in moved]
    return "\n".join(lines)
