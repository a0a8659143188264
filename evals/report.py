"""Reports an operations lead can read: markdown + a self-contained HTML page with plots.

Plots (PNG, matplotlib's Agg backend, no screen needed):
- the most-confused classes as a confusion matrix;
- a reliability diagram (is "90% sure" right 90% of the time?);
- the coverage-accuracy curve (how many tickets we can take at which accuracy).
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

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


def _fmt(key: str, v: float) -> str:
    if key == "tickets_per_s":
        return f"{v:.0f}"
    if key in ("ece", "mrr"):
        return f"{v:.4f}"
    if key.startswith("seconds"):
        return f"{v:.2f} s"
    return _pct(v)


def plot_confusion(metrics: dict[str, Any], path: Path, max_classes: int = 12) -> Path:
    pairs: list[dict[str, Any]] = metrics.get("top_confusions", [])
    names: list[str] = []
    for p in pairs:
        for k in ("gold", "predicted"):
            if p[k] not in names and len(names) < max_classes:
                names.append(p[k])
    fig, ax = plt.subplots(figsize=(8, 6.5))
    if not names:
        ax.text(0.5, 0.5, "no errors", ha="center", va="center")
        ax.axis("off")
    else:
        idx = {n: i for i, n in enumerate(names)}
        mat = np.zeros((len(names), len(names)))
        for p in pairs:
            if p["gold"] in idx and p["predicted"] in idx:
                mat[idx[p["gold"]], idx[p["predicted"]]] += p["count"]
        ax.imshow(mat, cmap="Reds")
        ax.set_xticks(range(len(names)), [n[:28] for n in names], rotation=60, ha="right", fontsize=8)
        ax.set_yticks(range(len(names)), [n[:28] for n in names], fontsize=8)
        for i in range(len(names)):
            for j in range(len(names)):
                if mat[i, j]:
                    ax.text(j, i, str(int(mat[i, j])), ha="center", va="center", fontsize=8)
        ax.set_xlabel("predicted")
        ax.set_ylabel("gold")
    ax.set_title("Most-confused classes (errors only)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_reliability(metrics: dict[str, Any], path: Path) -> Path:
    bins: list[dict[str, float]] = metrics["reliability"]
    fig, ax = plt.subplots(figsize=(5.5, 5))
    centers = [(b["lo"] + b["hi"]) / 2 for b in bins]
    acc = [b["accuracy"] if b["n"] else 0.0 for b in bins]
    ax.bar(centers, acc, width=0.09, color="#4C72B0", edgecolor="black", label="accuracy in bin")
    ax.plot([0, 1], [0, 1], "--", color="gray", label="perfect calibration")
    for c, b in zip(centers, bins, strict=True):
        if b["n"]:
            ax.text(c, min(b["accuracy"] + 0.02, 0.98), str(int(b["n"])), ha="center", fontsize=7)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence")
    ax.set_ylabel("accuracy")
    ax.set_title(f"Reliability (ECE {metrics['ece']:.3f}; numbers = tickets)")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_coverage(metrics: dict[str, Any], path: Path, threshold: float | None = None) -> Path:
    curve: list[dict[str, float]] = metrics["coverage_accuracy"]
    fig, ax = plt.subplots(figsize=(6, 4.5))
    ax.plot([c["coverage"] for c in curve], [c["accuracy"] for c in curve], "o-", ms=3)
    for c in curve[:: max(1, len(curve) // 5)]:
        ax.annotate(f"≥{c['threshold']:.2f}", (c["coverage"], c["accuracy"]), fontsize=7)
    at = metrics.get("at_threshold")
    if at:
        ax.plot([at["coverage"]], [at["accuracy"]], "r*", ms=12, label=f"service threshold {at['threshold']:.2f}")
        ax.legend(fontsize=8, loc="lower left")
    ax.set_xlabel("coverage (share of tickets decided by the classifier)")
    ax.set_ylabel("accuracy of those tickets")
    ax.set_title("Coverage vs accuracy")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _worst_classes(metrics: dict[str, Any], n: int = 10) -> list[tuple[str, dict[str, float]]]:
    per: dict[str, dict[str, float]] = metrics["per_class"]
    return sorted(per.items(), key=lambda kv: (kv[1]["f1"], -kv[1]["support"]))[:n]


def html_img(path: Path) -> str:
    """A PNG inlined into the page, so the report is one self-contained file."""
    return f'<img alt="{path.stem}" src="data:image/png;base64,{base64.b64encode(path.read_bytes()).decode()}">'


def html_table(head: list[str], rows: list[list[str]]) -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def html_page(
    title: str, facts: list[tuple[str, str]], summary: list[tuple[str, str]], body: str, extra_css: str = ""
) -> str:
    """The report page every eval writes: title, run facts, the metric table, then `body`."""
    css = (
        "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}"
        f"{extra_css}.plots img{{max-width:100%;margin:0.5em;border:1px solid #eee}}"
    )
    items = "".join(f"<li><b>{html.escape(k)}</b>: {html.escape(v)}</li>" for k, v in facts)
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{css}</style>
</head><body>
<h1>{html.escape(title)}</h1>
<ul>{items}</ul>
{html_table(["metric", "value"], [[k, v] for k, v in summary])}
{body}
</body></html>
"""


def write_report(result: dict[str, Any], directory: Path, title: str = "Triage evaluation") -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    metrics = result["metrics"]
    run = result["run"]
    plots = {
        "confusion": plot_confusion(metrics, directory / "confusion.png"),
        "reliability": plot_reliability(metrics, directory / "reliability.png"),
        "coverage": plot_coverage(metrics, directory / "coverage.png"),
    }
    (directory / "metrics.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    summary = [(label, _fmt(key, float(metrics[key]))) for key, label, _ in SCALARS if key in metrics]
    at = metrics.get("at_threshold", {})
    shots_txt = f", {run['shots']} per label" if run["shots"] else ""
    facts = [
        (
            "Train",
            f"{run['train']} ({run['train_rows']} rows{shots_txt})",
        ),
        ("Test", f"{run['test']} ({run['test_rows']} rows, {run['labels']} labels)"),
        ("Model", f"{run['model_version']} on {run['embedder']}; training took {run['train_seconds']} s"),
        ("Calibration", f"temperature {run['temperature']:.3f} fitted on out-of-fold training predictions"),
        (
            "LLM-fallback threshold",
            f"{run['fallback_threshold']:.3f} (chosen on training data): the classifier decides "
            f"{_pct(at.get('coverage', 0))} of test tickets at {_pct(at.get('accuracy', 0))} accuracy",
        ),
    ]
    if run.get("oos_label"):
        facts.append(
            (
                "Out-of-scope",
                f"label {run['oos_label']!r}; threshold {run['oos_threshold']} chosen on training data"
                if run.get("oos_threshold") is not None
                else f"label {run['oos_label']!r}; none in training, so below the fallback threshold = out of scope",
            )
        )
    worst = _worst_classes(metrics)
    conf_rows = metrics.get("top_confusions", [])[:10]

    md: list[str] = [f"# {title}", ""]
    md += [f"- **{k}**: {v}" for k, v in facts] + ["", "| metric | value |", "|---|---:|"]
    md += [f"| {k} | {v} |" for k, v in summary]
    md += ["", "## Where it goes wrong", "", "| gold | predicted as | times |", "|---|---|---:|"]
    md += [f"| {c['gold']} | {c['predicted']} | {c['count']} |" for c in conf_rows]
    md += ["", "## Weakest classes", "", "| class | precision | recall | F1 | support |", "|---|---:|---:|---:|---:|"]
    md += [
        f"| {n} | {_pct(m['precision'])} | {_pct(m['recall'])} | {_pct(m['f1'])} | {int(m['support'])} |"
        for n, m in worst
    ]
    md += ["", "## Coverage vs accuracy", "", "| confidence ≥ | share of tickets | accuracy |", "|---:|---:|---:|"]
    md += [
        f"| {c['threshold']:.2f} | {_pct(c['coverage'])} | {_pct(c['accuracy'])} |"
        for c in metrics["coverage_accuracy"]
    ]
    md += ["", "![confusion](confusion.png)", "![reliability](reliability.png)", "![coverage](coverage.png)", ""]
    md_path = directory / "report.md"
    md_path.write_text("\n".join(md), encoding="utf-8")

    worst_rows = [[n, _pct(m["precision"]), _pct(m["recall"]), _pct(m["f1"]), str(int(m["support"]))] for n, m in worst]
    images = "".join(html_img(plots[k]) for k in ("coverage", "reliability", "confusion"))
    body = f"""<div class="plots">{images}</div>
<h2>Where it goes wrong</h2>
{html_table(["gold", "predicted as", "times"], [[c["gold"], c["predicted"], str(c["count"])] for c in conf_rows])}
<h2>Weakest classes</h2>
{html_table(["class", "precision", "recall", "F1", "support"], worst_rows)}"""
    page = html_page(title, facts, summary, body, extra_css="td:nth-child(n+2){text-align:right}")
    html_path = directory / "report.html"
    html_path.write_text(page, encoding="utf-8")
    return {"markdown": md_path, "html": html_path, **plots}


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
            lines.append(
                f"| {label} | {'—' if va is None else _fmt(key, va)} | {'—' if vb is None else _fmt(key, vb)} | |"
            )
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
        lines.append(f"| {label} | {_fmt(key, va)} | {_fmt(key, vb)} | {dtxt}{mark} |")
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
