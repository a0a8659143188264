"""Run the graph offline over a labelled dataset and compare with gold.

Reports outcome counts against gold (a confusion table), the wrong-auto-resolution count (auto-
resolved when gold says suggest/handoff, or citing no gold doc), triage accuracy per field and
retrieval recall@k of the gold docs, plus latency; the retrieval and resolution figures also per
ticket language, side by side (`by_language`). A translation of a gold document (front matter
`translation_of`) counts as gold: the same article in the ticket's language answers it too.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

from agent.runtime.assembly import Agent
from agent.settings import Settings
from evals.labelled import load_jsonl
from evals.resolve.data import with_translations
from evals.resolve.languages import format_languages
from evals.stats import percentile
from knowledge.ingest import load_docs

ACTIONS = ("auto_resolve", "suggest", "handoff")


def run_smoke(settings: Settings, path: Path, llm: str | None = None, limit: int | None = None) -> dict[str, Any]:
    examples = load_jsonl(path, limit)
    agent = Agent.from_settings(settings, durable=False, llm=llm)
    kb_docs = load_docs(settings.kb_path)[0] if settings.kb_path.is_dir() else []
    confusion: Counter[tuple[str, str]] = Counter()
    fields = {"category": 0, "priority": 0, "language": 0}
    risk_tp = risk_fn = risk_fp = 0
    wrong_auto: list[str] = []
    recall_hits = recall_total = 0
    latencies: list[float] = []
    rows: list[dict[str, Any]] = []
    decided_by: Counter[str] = Counter()
    for ex in examples:
        t0 = time.perf_counter()
        state = agent.run(ex.ticket)
        latencies.append(time.perf_counter() - t0)
        triage, decision = state["triage"], state["decision"]
        got = decision.action
        gold = ex.gold
        decided_by[triage.decided_by] += 1
        confusion[(gold.outcome or "?", got)] += 1
        fields["category"] += triage.category.value == gold.category
        fields["priority"] += triage.priority.value == gold.priority
        fields["language"] += triage.language.value == (ex.ticket.language or triage.language.value)
        blocking = {"security", "financial", "regulatory"}
        gold_block, got_block = bool(set(gold.risk) & blocking), bool(set(triage.risk.value) & blocking)
        risk_tp += gold_block and got_block
        risk_fn += gold_block and not got_block
        risk_fp += got_block and not gold_block
        retrieved = [h.doc_id for h in state.get("hits", [])]
        gold_docs = set(with_translations(list(gold.doc_ids), kb_docs))
        found = bool(gold_docs & set(retrieved)) if gold_docs else None
        if found is not None:
            recall_total += 1
            recall_hits += found
        draft = state.get("draft")
        wrong = False
        if got == "auto_resolve":
            cites_gold = bool(draft and set(draft.citations) & gold_docs)
            if gold.outcome != "auto_resolve" or not cites_gold:
                wrong_auto.append(ex.ticket.external_id)
                wrong = True
        rows.append(
            {
                "id": ex.ticket.external_id,
                "gold": gold.outcome,
                "got": got,
                "reason": decision.reason,
                "category": triage.category.value,
                "gold_category": gold.category,
                "top": retrieved[:1],
                "gold_docs": gold.doc_ids,
                "language": ex.ticket.language or triage.language.value,
                "gold_doc_in_top_k": found,
                "wrong": wrong,
            }
        )
    n = len(examples)
    auto = sum(v for (g, a), v in confusion.items() if a == "auto_resolve")
    return {
        "dataset": str(path),
        "llm": llm or settings.llm,
        "policy_version": agent.context.policy.version,
        "tickets": n,
        "outcomes": {a: sum(v for (g, x), v in confusion.items() if x == a) for a in ACTIONS},
        "gold_outcomes": {a: sum(v for (g, x), v in confusion.items() if g == a) for a in ACTIONS},
        "confusion": {f"{g}->{a}": v for (g, a), v in sorted(confusion.items())},
        "outcome_accuracy": round(sum(v for (g, a), v in confusion.items() if g == a) / n, 3) if n else 0.0,
        "auto_resolution_rate": round(auto / n, 3) if n else 0.0,
        "wrong_auto_resolutions": wrong_auto,
        "wrong_resolution_rate": round(len(wrong_auto) / auto, 3) if auto else 0.0,
        "risk_recall": round(risk_tp / (risk_tp + risk_fn), 3) if risk_tp + risk_fn else None,
        "risk_false_flags": risk_fp,
        "category_accuracy": round(fields["category"] / n, 3) if n else 0.0,
        "category_decided_by": dict(decided_by),
        "classifier": agent.context.classifier.version if agent.context.classifier else None,
        "priority_accuracy": round(fields["priority"] / n, 3) if n else 0.0,
        "language_accuracy": round(fields["language"] / n, 3) if n else 0.0,
        "recall_at_k": round(recall_hits / recall_total, 3) if recall_total else None,
        "seconds_p50": round(percentile(latencies, 0.5), 3),
        "seconds_p95": round(percentile(latencies, 0.95), 3),
        "by_language": by_language(rows, latencies),
        "rows": rows,
    }


def by_language(rows: list[dict[str, Any]], latencies: list[float]) -> dict[str, dict[str, Any]]:
    """Per ticket language (the gold's, else the detected one): recall@k, how many answerable
    tickets (gold auto_resolve) were auto-resolved right, wrong auto-resolutions, handoff recall,
    outcome accuracy, p50 seconds."""
    out: dict[str, dict[str, Any]] = {}
    for lang in sorted({r["language"] for r in rows}):
        sub = [(r, s) for r, s in zip(rows, latencies, strict=True) if r["language"] == lang]
        found = [r["gold_doc_in_top_k"] for r, _ in sub if r["gold_doc_in_top_k"] is not None]
        auto_gold = [r for r, _ in sub if r["gold"] == "auto_resolve"]
        handoff_gold = [r for r, _ in sub if r["gold"] == "handoff"]
        auto = [r for r, _ in sub if r["got"] == "auto_resolve"]
        out[lang] = {
            "tickets": len(sub),
            "recall_at_k": round(sum(found) / len(found), 3) if found else None,
            "gold_auto": len(auto_gold),
            "correct_auto": sum(r["got"] == "auto_resolve" and not r["wrong"] for r in auto_gold),
            "correct_auto_rate": round(
                sum(r["got"] == "auto_resolve" and not r["wrong"] for r in auto_gold) / len(auto_gold), 3
            )
            if auto_gold
            else None,
            "auto_resolved": len(auto),
            "wrong_auto": sum(r["wrong"] for r in auto),
            "handoff_recall": round(sum(r["got"] == "handoff" for r in handoff_gold) / len(handoff_gold), 3)
            if handoff_gold
            else None,
            "outcome_accuracy": round(sum(r["got"] == r["gold"] for r, _ in sub) / len(sub), 3),
            "seconds_p50": round(percentile([s for _, s in sub], 0.5), 3),
        }
    return out


SMOKE_LANGUAGE_ROWS = [
    ("tickets", "tickets", "n"),
    ("recall_at_k", "gold doc in top-k", "pct"),
    ("gold_auto", "gold auto_resolve", "n"),
    ("correct_auto", "  auto-resolved right", "n"),
    ("correct_auto_rate", "  share auto-resolved right", "pct"),
    ("auto_resolved", "auto-resolved", "n"),
    ("wrong_auto", "  of them wrong", "n"),
    ("handoff_recall", "handoff recall", "pct"),
    ("outcome_accuracy", "outcome accuracy", "pct"),
    ("seconds_p50", "seconds p50", "n"),
]


def format_summary(m: dict[str, Any]) -> str:
    """The run for the terminal: the gold x got outcome table, then the figures."""
    lines = [
        f"{m['tickets']} tickets from {m['dataset']} with llm={m['llm']} policy={m['policy_version']}",
        "",
        "gold \\ got      " + "".join(f"{a:>14}" for a in ACTIONS),
    ]
    for g in ACTIONS:
        lines.append(f"{g:15}" + "".join(f"{m['confusion'].get(f'{g}->{a}', 0):>14}" for a in ACTIONS))
    lines += [
        "",
        f"outcomes: {m['outcomes']}  (gold: {m['gold_outcomes']})",
        f"outcome accuracy {m['outcome_accuracy']:.1%}; auto-resolution rate {m['auto_resolution_rate']:.1%}; "
        f"wrong auto-resolutions {len(m['wrong_auto_resolutions'])} {m['wrong_auto_resolutions']}",
        f"risk recall {m['risk_recall']} (false flags {m['risk_false_flags']}); category accuracy "
        f"{m['category_accuracy']:.1%}; priority accuracy {m['priority_accuracy']:.1%}; "
        f"language accuracy {m['language_accuracy']:.1%}; gold doc in top-k {m['recall_at_k']}",
        f"category decided by {m['category_decided_by']} (classifier {m['classifier']})",
        f"seconds per ticket p50 {m['seconds_p50']} p95 {m['seconds_p95']}",
    ]
    if m.get("by_language"):
        lines += ["", *format_languages(m["by_language"], SMOKE_LANGUAGE_ROWS)]
    return "\n".join(lines)
