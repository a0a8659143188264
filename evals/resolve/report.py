"""Report of a `triage eval resolve` run: the terminal summary, and markdown + self-contained HTML +
two plots.

- outcome breakdown: for answerable tickets and for tickets that should reach a human, how many
  were auto-resolved (right / wrong), suggested or handed off;
- auto-resolution vs wrong-resolution as the match-score threshold moves, the policy's own
  setting starred.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from evals.report_page import html_img, html_page, html_table
from evals.resolve.languages import format_languages


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{100 * v:.1f}%"


LANGUAGE_ROWS = [
    ("tickets", "tickets", "n"),
    ("answerable", "answerable", "n"),
    ("recall_at_1", "recall@1", "pct"),
    ("recall_at_5", "recall@5", "pct"),
    ("mrr", "MRR", "n"),
    ("correct_auto_rate_answerable", "answerable auto-resolved right", "pct"),
    ("auto_resolved", "auto-resolved", "n"),
    ("wrong_resolutions", "  of them wrong", "n"),
    ("handoff_recall", "handoff recall", "pct"),
    ("seconds_p50", "seconds p50", "n"),
]


LANGUAGE_COLUMNS = [
    "language",
    "tickets",
    "auto",
    "answerable auto-resolved right",
    "wrong",
    "handoff recall",
    "recall@5",
]


def format_summary(m: dict[str, Any]) -> str:
    """The run in a few lines, for the terminal."""
    run = m["run"]
    lines = [
        f"{m['tickets']} tickets ({m['answerable']} answerable, {m['should_handoff']} should go to a human); "
        f"KB {run['kb']} ({run['kb_docs']} docs); llm={run['llm']}; policy {run['policy_version']}",
        f"answerability model {_model(run)}",
        f"outcomes {m['outcomes']}",
        f"auto-resolution {_pct(m['auto_resolution_rate'])} of all tickets, "
        f"{_pct(m['auto_resolution_rate_answerable'])} of answerable ones "
        f"(right: {_pct(m['correct_auto_rate_answerable'])})",
        f"wrong resolutions {m['wrong_resolutions']} = {_pct(m['wrong_resolution_rate'])} of auto-resolved "
        f"(95% upper bound {_pct(m['wrong_resolution_upper95'])}) {m['wrong_ids'][:10]}",
        f"handoff recall {_pct(m['handoff_recall'])}, precision {_pct(m['handoff_precision'])}",
        f"retrieval over {m['retrieval_cases']} cases: recall@1 {m['recall_at_1']}, recall@5 {m['recall_at_5']}, "
        f"MRR {m['mrr']}; context precision {m['context_precision']} ({m.get('context_precision_cases')} cases), "
        f"recall {m['context_recall']} ({m.get('context_recall_cases')} cases) by "
        f"{_ragas_by(run)}",
        f"seconds per ticket p50 {m['seconds_p50']} p95 {m['seconds_p95']}",
    ]
    if m.get("by_language"):
        lines += ["", *format_languages(m["by_language"], LANGUAGE_ROWS)]
    if m.get("judge"):
        by = run.get("metrics_by", {})
        lines.append(
            f"judge {m['judge']['judge']} over {m['judge']['judged_drafts']} drafts: "
            f"faithfulness {m['faithfulness']} [{by.get('faithfulness')}], "
            f"answer relevancy {m['answer_relevancy']} [{by.get('answer_relevancy')}]"
        )
    return "\n".join(lines)


def _model(run: dict[str, Any]) -> str:
    """The answerability model the policy decided with, as a line of the summary."""
    a = run.get("answerability_model")
    return "none" if not a else f"{a['version']} (embedder {a['embedder']}, sha256 {a['sha256'][:12]})"


def _ragas_by(run: dict[str, Any]) -> str:
    """'ragas 0.4.3' from the run facts (older runs: ragas-style, computed by us)."""
    by = str(run.get("metrics_by", {}).get("context_precision", "our ragas-style code"))
    return " ".join(by.split()[:2]) if by.startswith("ragas") else by


def _judge_rows(result: dict[str, Any]) -> list[tuple[str, str]]:
    j = result.get("judge")
    if not j:
        return []
    out = [("Judge", f"{j['judge']} over {j['judged_drafts']} drafts")]
    for key, label in (("faithfulness", "Faithfulness"), ("answer_relevancy", "Answer relevancy")):
        c = j.get(f"{key}_cases", {})
        out.append(
            (
                label,
                f"{result[key]} (scored {c.get('scored')}: ragas {c.get('by_ragas')}, fallback "
                f"{c.get('by_fallback')}; no score {c.get('no_score')}; failed {c.get('failed')})",
            )
        )
    return out


def plot_outcomes(result: dict[str, Any], path: Path) -> Path:
    rows: list[dict[str, Any]] = result["rows"]
    groups = [
        ("answerable", [r for r in rows if r["answerable"]]),
        ("should reach a human", [r for r in rows if not r["answerable"]]),
    ]
    parts = [
        ("auto, right", "#2ca02c", lambda r: r["action"] == "auto_resolve" and not r["wrong"]),
        ("auto, WRONG", "#d62728", lambda r: r["action"] == "auto_resolve" and r["wrong"]),
        ("suggest", "#ffbf00", lambda r: r["action"] == "suggest"),
        ("handoff", "#1f77b4", lambda r: r["action"] == "handoff"),
    ]
    fig, ax = plt.subplots(figsize=(7, 3.2))
    for gi, (_, grows) in enumerate(groups):
        left = 0.0
        n = max(len(grows), 1)
        for label, colour, pred in parts:
            share = sum(1 for r in grows if pred(r)) / n
            ax.barh(gi, share, left=left, color=colour, edgecolor="white", label=label if gi == 0 else None)
            if share >= 0.06:
                ax.text(left + share / 2, gi, f"{share:.0%}", ha="center", va="center", fontsize=8, color="black")
            left += share
    ax.set_yticks(range(len(groups)))
    ax.set_yticklabels([f"{g} ({len(r)})" for g, r in groups])
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of tickets")
    ax.set_title("What happened to each kind of ticket")
    ax.legend(ncol=4, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.28))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_curve(result: dict[str, Any], path: Path) -> Path:
    pts: list[dict[str, float]] = result["curve"]
    fig, ax = plt.subplots(figsize=(6, 4.5))
    ax.plot([p["auto_resolution_rate"] for p in pts], [p["wrong_resolution_rate"] for p in pts], "o-", ms=3)
    for p in pts[:: max(1, len(pts) // 6)]:
        ax.annotate(f"≥{p['auto_at_least']:.2f}", (p["auto_resolution_rate"], p["wrong_resolution_rate"]), fontsize=7)
    ax.plot(
        [result["auto_resolution_rate"]],
        [result["wrong_resolution_rate"]],
        "r*",
        ms=13,
        label=f"policy {result['run']['policy_version']}",
    )
    ax.set_xlabel("auto-resolution rate (share of all tickets)")
    ax.set_ylabel("wrong-resolution rate (share of auto-resolved)")
    ax.set_title("Auto vs wrong resolutions as the match threshold moves")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_resolve_report(result: dict[str, Any], directory: Path, title: str) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    plots = {
        "outcomes": plot_outcomes(result, directory / "outcomes.png"),
        "curve": plot_curve(result, directory / "auto_vs_wrong.png"),
    }
    (directory / "metrics.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    run = result["run"]
    facts = [
        (
            "Test set",
            f"{run['test']} ({result['tickets']} tickets: {result['answerable']} answerable, "
            f"{result['should_handoff']} should reach a human)",
        ),
        ("Knowledge base", f"{run['kb']} ({run['kb_docs']} documents, {run['kb_kind']})"),
        (
            "Models",
            f"LLM {run['llm']}; embedder {run['embedder']}; classifier {run['classifier'] or 'none'}; "
            f"answerability model {_model(run)}",
        ),
        ("Policy", f"{run['policy_file']} version {run['policy_version']}"),
        ("Prompts", ", ".join(f"{k} {v}" for k, v in sorted(run["prompts"].items())) or "none used"),
        ("Metrics computed by", "; ".join(f"{k}: {v}" for k, v in run.get("metrics_by", {}).items()) or "us"),
        ("Code", str(run.get("commit"))),
    ]
    summary = [
        ("Auto-resolution rate (all tickets)", _pct(result["auto_resolution_rate"])),
        ("Auto-resolved among answerable", _pct(result["auto_resolution_rate_answerable"])),
        ("Right auto-resolutions among answerable", _pct(result["correct_auto_rate_answerable"])),
        (
            "Wrong-resolution rate (of auto-resolved)",
            f"{_pct(result['wrong_resolution_rate'])} "
            f"({result['wrong_resolutions']}; 95% upper bound {_pct(result['wrong_resolution_upper95'])})",
        ),
        ("Suggest rate", _pct(result["suggest_rate"])),
        ("Handoff rate", _pct(result["handoff_rate"])),
        ("Handoff recall (unanswerable / out of scope)", _pct(result["handoff_recall"])),
        ("Handoff precision", _pct(result["handoff_precision"])),
        ("Retrieval recall@1 / @5", f"{_pct(result['recall_at_1'])} / {_pct(result['recall_at_5'])}"),
        ("MRR", "n/a" if result["mrr"] is None else f"{result['mrr']:.3f}"),
        (
            "Context precision / recall (ragas, ID-based)",
            f"{result['context_precision']} / {result['context_recall']} (over {result.get('context_precision_cases')}"
            f" / {result.get('context_recall_cases')} cases)",
        ),
        ("Seconds per ticket p50 / p95", f"{result['seconds_p50']} / {result['seconds_p95']}"),
        *_judge_rows(result),
    ]
    wrong = [r for r in result["rows"] if r["wrong"]]
    lang_rows = [
        [
            lang,
            str(v["tickets"]),
            _pct(v["auto_resolution_rate"]),
            _pct(v.get("correct_auto_rate_answerable")),
            str(v["wrong_resolutions"]),
            _pct(v["handoff_recall"]),
            _pct(v["recall_at_5"]),
        ]
        for lang, v in result["by_language"].items()
    ]
    rules = [[k, str(v)] for k, v in result["rules_fired"].items()]
    wrong_rows = [
        [
            r["id"],
            ", ".join(r["cited"]) or "-",
            ", ".join(r["gold_docs"][:3]) or "(none: should reach a human)",
            f"{r['top_score']}",
            r["category"],
        ]
        for r in wrong
    ]
    md = [f"# {title}", ""] + [f"- **{k}**: {v}" for k, v in facts]
    md += ["", "| metric | value |", "|---|---:|"] + [f"| {k} | {v} |" for k, v in summary]
    md += [
        "",
        "## By language",
        "",
        "| language | tickets | auto | answerable auto-resolved right | wrong | handoff recall | recall@5 |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ] + ["| " + " | ".join(r) + " |" for r in lang_rows]
    md += ["", "## Why tickets were not auto-resolved (rules fired)", "", "| rule | tickets |", "|---|---:|"]
    md += [f"| {k} | {v} |" for k, v in rules]
    md += ["", "## Wrong resolutions", "", "| ticket | cited | gold | match | category |", "|---|---|---|---:|---|"]
    md += ["| " + " | ".join(r) + " |" for r in wrong_rows] or ["| none | | | | |"]
    md += ["", "![outcomes](outcomes.png)", "![auto vs wrong](auto_vs_wrong.png)", ""]
    md_path = directory / "report.md"
    md_path.write_text("\n".join(md), encoding="utf-8")

    body = f"""<div class="plots">{html_img(plots["outcomes"])}{html_img(plots["curve"])}</div>
<h2>By language</h2>
{html_table(LANGUAGE_COLUMNS, lang_rows)}
<h2>Why tickets were not auto-resolved</h2>
{html_table(["rule", "tickets"], rules)}
<h2>Wrong resolutions</h2>
{html_table(["ticket", "cited", "gold", "match", "category"], wrong_rows)}"""
    page = html_page(title, facts, summary, body)
    html_path = directory / "report.html"
    html_path.write_text(page, encoding="utf-8")
    return {"markdown": md_path, "html": html_path, **plots}
