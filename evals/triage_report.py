"""Report of a `triage eval triage` run (the trained classifier): markdown + a self-contained HTML
page with plots.

Plots (PNG, matplotlib's Agg backend, no screen needed):
- the most-confused classes as a confusion matrix;
- a reliability diagram (is "90% sure" right 90% of the time?);
- the coverage-accuracy curve (how many tickets we can take at which accuracy).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from evals.compare import SCALARS, format_scalar
from evals.report_page import html_img, html_page, html_table


def _pct(v: float) -> str:
    return f"{100 * v:.2f}%"


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


def write_triage_report(result: dict[str, Any], directory: Path, title: str = "Triage evaluation") -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    metrics = result["metrics"]
    run = result["run"]
    plots = {
        "confusion": plot_confusion(metrics, directory / "confusion.png"),
        "reliability": plot_reliability(metrics, directory / "reliability.png"),
        "coverage": plot_coverage(metrics, directory / "coverage.png"),
    }
    (directory / "metrics.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    summary = [(label, format_scalar(key, float(metrics[key]))) for key, label, _ in SCALARS if key in metrics]
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
