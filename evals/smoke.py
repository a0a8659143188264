"""Run the graph offline over a labelled dataset and compare with gold.

Reports outcome counts against gold (a confusion table), the wrong-auto-resolution count (auto-
resolved when gold says suggest/handoff, or citing no gold doc), triage accuracy per field and
retrieval recall@k of the gold docs, plus latency.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

from agent.runtime.assembly import Agent
from agent.settings import Settings
from evals.labelled import load_jsonl
from evals.stats import percentile

ACTIONS = ("auto_resolve", "suggest", "handoff")


def run_smoke(settings: Settings, path: Path, llm: str | None = None, limit: int | None = None) -> dict[str, Any]:
    examples = load_jsonl(path, limit)
    agent = Agent.from_settings(settings, durable=False, llm=llm)
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
        if gold.doc_ids:
            recall_total += 1
            recall_hits += bool(set(gold.doc_ids) & set(retrieved))
        draft = state.get("draft")
        if got == "auto_resolve":
            cites_gold = bool(draft and set(draft.citations) & set(gold.doc_ids))
            if gold.outcome != "auto_resolve" or not cites_gold:
                wrong_auto.append(ex.ticket.external_id)
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
        "rows": rows,
    }


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
    return "\n".join(lines)
