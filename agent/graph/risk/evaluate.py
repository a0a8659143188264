"""Recall and precision of the shipped risk detector (the policy's rules OR the model) on labelled data.

`evaluate(examples, policy)` scores each example as the classify node does (`Policy.detect_risk` for
the flags that hand off, `Policy.detect_risk_model`) and reports recall, precision, recall per kind,
recall and precision per language, the share of real (history) ordinary tickets the model flags and the
share the review zone caps (`Policy.review_risk`, flag possible_risk), and the misses. `triage eval risk`
prints it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

from agent.graph.policy import Policy
from agent.graph.risk.data_io import Example


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def evaluate(examples: Sequence[Example], policy: Policy) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    for e in examples:
        rules = [f for f in policy.detect_risk(e.text) if f in policy.risk.handoff]
        det = policy.detect_risk_model(e.text)
        model_flags = det.flags if det is not None else []
        rows.append(
            {
                "id": e.id,
                "language": e.language,
                "risk": e.risk,
                "kind": e.kind,
                "predicted": bool(rules or model_flags),
                "rules": rules,
                "model": model_flags,
                "probability": det.probability if det is not None else None,
                "model_kind": det.kind if det is not None else None,
                "semantic_status": det.semantic_status if det is not None else "off",
                "review": policy.review_risk(det),
                "source": e.source,
                "text": e.text,
            }
        )

    def pr(sub: list[dict[str, Any]], key: str = "predicted") -> dict[str, Any]:
        tp = sum(1 for r in sub if r["risk"] and r[key])
        fn = sum(1 for r in sub if r["risk"] and not r[key])
        fp = sum(1 for r in sub if not r["risk"] and r[key])
        return {"n": len(sub), "risky": tp + fn, "recall": _ratio(tp, tp + fn), "precision": _ratio(tp, tp + fp)}

    for r in rows:
        r["by_rules"], r["by_model"] = bool(r["rules"]), bool(r["model"])
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    by_lang: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        if r["kind"]:
            by_kind[r["kind"]].append(r)
        by_lang[r["language"]].append(r)
    kind_hits = {k: sum(1 for r in v if r["kind"] == r["model_kind"]) for k, v in by_kind.items()}
    real_neg = [r for r in rows if r["source"] == "history" and not r["risk"]]
    risky = [r for r in rows if r["risk"]]
    return {
        **pr(rows),
        "model_only": pr(rows, "by_model"),
        "rules_only": pr(rows, "by_rules"),
        "per_kind_recall": {k: pr(v)["recall"] for k, v in sorted(by_kind.items())},
        "per_kind_kind_accuracy": {k: _ratio(kind_hits[k], len(v)) for k, v in sorted(by_kind.items())},
        "per_language": {lang: pr(v) for lang, v in sorted(by_lang.items())},
        "semantic_status": dict(Counter(r["semantic_status"] for r in rows)),
        # real (history) ordinary tickets: flagged by the model (what its threshold was chosen on), by
        # rules OR model (handed off), and put in the review zone (at most a suggestion)
        "real_ordinary": {
            "n": len(real_neg),
            "model_false_flag_rate": _ratio(sum(r["by_model"] for r in real_neg), len(real_neg)),
            "false_flag_rate": _ratio(sum(r["predicted"] for r in real_neg), len(real_neg)),
            "review_rate": _ratio(sum(r["review"] and not r["predicted"] for r in real_neg), len(real_neg)),
        },
        "history": pr([r for r in rows if r["source"] == "history"]),
        # rules OR model OR review zone: what never goes out automatically
        "recall_with_review": _ratio(sum(r["predicted"] or r["review"] for r in risky), len(risky)),
        "false_negatives": [_brief(r) for r in rows if r["risk"] and not r["predicted"]],
        "false_positives": [_brief(r) for r in rows if not r["risk"] and r["predicted"]],
    }


def _brief(r: dict[str, Any]) -> dict[str, Any]:
    flat = " ".join(str(r["text"]).split())
    return {
        "id": r["id"],
        "language": r["language"],
        "kind": r["kind"],
        "probability": r["probability"],
        "flags": sorted(set(r["rules"]) | set(r["model"])),
        "text": flat if len(flat) <= 160 else flat[:157] + "...",
    }


def format_report(m: dict[str, Any], title: str) -> str:
    def fig(x: float | None) -> str:
        return "n/a" if x is None else f"{x:.3f}"

    real = m["real_ordinary"]
    lines = [
        title,
        f"rules OR model: recall {fig(m['recall'])} precision {fig(m['precision'])} ({m['risky']} risky of {m['n']})",
        f"model only: recall {fig(m['model_only']['recall'])} precision {fig(m['model_only']['precision'])}; "
        f"rules only: recall {fig(m['rules_only']['recall'])} precision {fig(m['rules_only']['precision'])}",
        f"semantic part: {m['semantic_status']}",
        f"real (history) ordinary tickets: {real['n']}, flagged by the model {fig(real['model_false_flag_rate'])}, "
        f"by rules OR model {fig(real['false_flag_rate'])}, in the review zone {fig(real['review_rate'])}",
        f"history tickets: recall {fig(m['history']['recall'])} precision {fig(m['history']['precision'])} "
        f"({m['history']['risky']} risky of {m['history']['n']})",
        f"rules OR model OR review zone (nothing auto-sent): recall {fig(m['recall_with_review'])}",
        "recall per kind (share where the model named the kind):",
        *(f"  {k:22} {fig(v)} ({fig(m['per_kind_kind_accuracy'][k])})" for k, v in m["per_kind_recall"].items()),
        "per language:",
        *(
            f"  {lang:4} n={v['n']:4} risky={v['risky']:4} recall {fig(v['recall'])} precision {fig(v['precision'])}"
            for lang, v in m["per_language"].items()
        ),
        f"false negatives ({len(m['false_negatives'])}):",
        *(f"  {r['id']} {r['kind']} [{r['language']}] p={r['probability']}: {r['text']}" for r in m["false_negatives"]),
        f"false positives: {len(m['false_positives'])}",
    ]
    return "\n".join(lines)
