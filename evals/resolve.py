"""`triage eval resolve`: run the graph in dry-run over a dataset with gold answers and measure
whether what it auto-resolves is right.

How a run works:
1. The knowledge base is ingested into an eval workspace of its own (`<data_dir>/eval-kb/<hash>`,
   reused while the KB is unchanged), never into the service's collection.
2. Every case goes once through the real graph (no write-back, no checkpointer) under a
   *permissive* copy of the policy: every threshold that `triage tune` may move is opened up, so
   every ticket that is not handed off for a fixed reason (risk, out of scope, open known issue,
   LLM failure) gets a draft and a grounding check. The run keeps what the policy needs: triage,
   hits, search language, compound flag, and the ground check's verdict on the draft.
3. The outcome under the real policy is then `Policy.decide()` on those facts, plus the ground
   check's auto -> suggest downgrade: exactly what the graph does (a test checks they agree).
   Thresholds can thus be swept (the auto/wrong curve, `triage tune`) without re-running models.

A wrong resolution is an auto-resolution for a ticket that should have gone to a human
(unanswerable, out of scope, or gold outcome not auto_resolve), or whose reply cites no gold doc.
`wrong_resolution_rate` is wrong / auto-resolved: the share of auto-sent replies that were wrong.
"""

from __future__ import annotations

import math
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.domain import AuditEvent, Customer, Decision, Draft, Ticket, Triage
from agent.graph.classifier.model import TriageClassifier
from agent.graph.context import AgentContext
from agent.graph.llm import make_chat_model
from agent.graph.policy import Policy
from agent.runtime.assembly import Agent, load_classifier
from agent.settings import Settings
from evals.resolve_data import Case, KnowledgeBase
from evals.smoke import percentile
from knowledge.embeddings import get_embedder
from knowledge.store import KnowledgeStore
from knowledge.types import Hit

ACTIONS = ("auto_resolve", "suggest", "handoff")
CURVE_STEPS = [round(0.30 + 0.02 * i, 2) for i in range(31)]  # retrieval.auto_at_least 0.30 .. 0.90


@dataclass
class Trace:
    """One case run through the graph under the permissive policy: all a decision needs."""

    case: Case
    triage: Triage
    hits: list[Hit]
    query_language: str
    compound: bool
    draft: Draft | None
    draft_problem: str | None  # the ground check's rule that stops an auto-send, if any
    prompts: dict[str, str]
    seconds: float
    permissive_action: str

    def decide(self, policy: Policy) -> Decision:
        d = policy.decide(self.triage, self.hits, self.query_language, self.compound)
        if d.action == "auto_resolve" and self.draft_problem is not None:
            d = d.model_copy(
                update={
                    "action": "suggest",
                    "reason": f"draft failed the grounding check ({self.draft_problem})",
                    "rules": [*d.rules, self.draft_problem],
                }
            )
        return d

    def is_wrong(self, decision: Decision) -> bool:
        """Auto-resolved when it should not have been, or with a reply grounded in no gold doc."""
        if decision.action != "auto_resolve":
            return False
        c = self.case
        if c.should_handoff or (c.gold_outcome is not None and c.gold_outcome != "auto_resolve"):
            return True
        cited = set(self.draft.citations) if self.draft is not None else set()
        return not (cited & set(c.gold_doc_ids))


def permissive(policy: Policy) -> Policy:
    """The policy with every tunable threshold opened: what `tune` moves must not change the run."""
    cats = {
        name: rule.model_copy(update={"auto_threshold": 0.0 if name != "other" else rule.auto_threshold})
        for name, rule in policy.categories.items()
    }
    retrieval = policy.retrieval.model_copy(
        update={"auto_at_least": -1.0, "suggest_at_least": -1.0, "auto_min_margin": -1.0}
    )
    return policy.model_copy(update={"categories": cats, "retrieval": retrieval})


def policy_for_kb(base: Policy, kb: KnowledgeBase) -> Policy:
    """The service policy, with the KB's own categories when they are not the policy's (a foreign
    dataset): same risk, priority, compound and retrieval rules; each new category gets the
    median auto threshold of the base policy until `triage tune` sets it."""
    cats = set(kb.categories) - {"other"}
    if cats <= set(base.categories):
        return base
    thresholds = sorted(r.auto_threshold for n, r in base.categories.items() if n != "other")
    default = thresholds[len(thresholds) // 2] if thresholds else 0.6
    rule = base.categories["other"]
    new = {
        c: rule.model_copy(update={"description": f"documents of category {c}", "auto_threshold": default})
        for c in sorted(cats)
    }
    new["other"] = rule
    return base.model_copy(update={"categories": new, "version": f"{base.version}+kb-categories"})


def workspace(settings: Settings, kb: KnowledgeBase) -> tuple[Settings, KnowledgeStore]:
    """A Chroma collection holding just this KB, reused while its content is unchanged."""
    digest = kb.digest[:16]
    root = settings.data_dir / "eval-kb" / digest
    ws = settings.model_copy(update={"chroma_dir": root / "chroma", "collection": "eval-kb", "kb_path": kb.path})
    store = KnowledgeStore(ws.chroma_path, get_embedder(ws.embedder), ws.collection, ws.chunk_chars)
    report = store.ingest_docs(kb.docs, kb.errors, prune=True)
    if report.errors:
        raise ValueError("knowledge base has invalid documents:\n" + "\n".join(str(e) for e in report.errors[:10]))
    return ws, store


def eval_ticket(case: Case) -> Ticket:
    return Ticket(
        id=f"eval-{case.id}",
        external_id=case.id,
        source="eval",
        subject=case.subject,
        body=case.body,
        customer=Customer(),
        language=case.language,
    )


def _problem(audit: list[AuditEvent]) -> str | None:
    for ev in audit:
        if ev.node == "ground_check":
            p = ev.detail.get("problem")
            return str(p) if p else None
    return None


def run_cases(
    settings: Settings,
    kb: KnowledgeBase,
    cases: list[Case],
    policy: Policy,
    llm: str,
    classifier: TriageClassifier | None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[Trace], dict[str, Any], KnowledgeStore]:
    ws, store = workspace(settings, kb)
    ctx = AgentContext(
        settings=ws, policy=permissive(policy), knowledge=store, llm=make_chat_model(llm, ws), classifier=classifier
    )
    agent = Agent(ctx)
    traces: list[Trace] = []
    for i, case in enumerate(cases, 1):
        t0 = time.perf_counter()
        state = agent.run(eval_ticket(case))
        seconds = time.perf_counter() - t0
        traces.append(
            Trace(
                case=case,
                triage=state["triage"],
                hits=state.get("hits", []),
                query_language=state.get("query_language", "en"),
                compound=policy.is_compound(state.get("text", "")),
                draft=state.get("draft"),
                draft_problem=_problem(state.get("audit", [])),
                prompts=dict(state.get("prompts", {})),
                seconds=seconds,
                permissive_action=state["decision"].action,
            )
        )
        if progress is not None:
            progress(i, len(cases))
    facts = {
        "kb": str(kb.path),
        "kb_kind": kb.kind,
        "kb_docs": len(kb.docs),
        "llm": llm,
        "embedder": settings.embedder,
        "classifier": classifier.version if classifier is not None else None,
        "top_k": settings.top_k,
    }
    return traces, facts, store


def pick_classifier(settings: Settings, kb: KnowledgeBase, choice: str) -> TriageClassifier | None:
    """`service`: the service's trained classifier; `none`; a directory; `auto` (default): the
    service's when its categories are the KB's (a classifier trained on another product's
    history would call every foreign ticket out of scope)."""
    if choice == "none":
        return None
    if choice not in ("auto", "service"):
        return TriageClassifier.load(Path(choice))
    clf = load_classifier(settings)
    if clf is None or choice == "service":
        return clf
    fm = clf.fields.get("category")
    if fm is None or not (set(fm.labels) & set(kb.categories)):
        return None
    return clf


def _wilson_upper(k: int, n: int, z: float = 1.96) -> float:
    if n == 0:
        return 1.0
    p = k / n
    denom = 1 + z * z / n
    centre = p + z * z / (2 * n)
    margin = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return min(1.0, (centre + margin) / denom)


def _ratio(a: int | float, b: int | float) -> float | None:
    return round(a / b, 4) if b else None


def id_context_scores(traces: list[Trace], k: int) -> dict[str, float | None]:
    """ID-based context precision and recall, as ragas defines them (IDBasedContextPrecision /
    IDBasedContextRecall): per case |retrieved ∩ gold| / |retrieved| and |retrieved ∩ gold| / |gold|
    over the top-k retrieved doc ids, averaged over cases with gold docs. No LLM needed.

    Computed here rather than by importing ragas: ragas 0.4.3 and 0.3.9 fail at import with every
    current langchain-community (vibrantlabsai/ragas#2745, #2995)."""
    ps: list[float] = []
    rs: list[float] = []
    for t in traces:
        gold = set(t.case.gold_doc_ids)
        if not gold:
            continue
        retrieved = {h.doc_id for h in t.hits[:k]}
        both = len(retrieved & gold)
        ps.append(both / len(retrieved) if retrieved else 0.0)
        rs.append(both / len(gold))
    return {
        "context_precision": round(sum(ps) / len(ps), 4) if ps else None,
        "context_recall": round(sum(rs) / len(rs), 4) if rs else None,
    }


def outcome_metrics(
    traces: list[Trace], policy: Policy | None, decisions: list[Decision] | None = None
) -> dict[str, Any]:
    """Outcome counts and rates under `policy`, or for given per-trace `decisions` (cross-validation
    decides each fold under its own policy). No retrieval figures: cheap enough to sweep."""
    n = len(traces)
    if decisions is None:
        assert policy is not None
        decisions = [t.decide(policy) for t in traces]
    counts = Counter(d.action for d in decisions)
    wrong = [t.case.id for t, d in zip(traces, decisions, strict=True) if t.is_wrong(d)]
    auto = counts["auto_resolve"]
    answerable = [(t, d) for t, d in zip(traces, decisions, strict=True) if not t.case.should_handoff]
    should = [(t, d) for t, d in zip(traces, decisions, strict=True) if t.case.should_handoff]
    handed = [(t, d) for t, d in zip(traces, decisions, strict=True) if d.action == "handoff"]
    ans_auto = sum(d.action == "auto_resolve" for _, d in answerable)
    ans_right = sum(d.action == "auto_resolve" and not t.is_wrong(d) for t, d in answerable)
    return {
        "tickets": n,
        "answerable": len(answerable),
        "should_handoff": len(should),
        "outcomes": {a: counts.get(a, 0) for a in ACTIONS},
        "auto_resolution_rate": _ratio(auto, n) or 0.0,
        "auto_resolution_rate_answerable": _ratio(ans_auto, len(answerable)),
        "correct_auto_rate_answerable": _ratio(ans_right, len(answerable)),
        "wrong_resolutions": len(wrong),
        "wrong_resolution_rate": _ratio(len(wrong), auto) or 0.0,
        "wrong_resolution_upper95": round(_wilson_upper(len(wrong), auto), 4),
        "wrong_per_ticket": _ratio(len(wrong), n) or 0.0,
        "suggest_rate": _ratio(counts.get("suggest", 0), n) or 0.0,
        "handoff_rate": _ratio(counts.get("handoff", 0), n) or 0.0,
        "handoff_recall": _ratio(sum(d.action == "handoff" for _, d in should), len(should)),
        "handoff_precision": _ratio(sum(t.case.should_handoff for t, _ in handed), len(handed)),
        "wrong_ids": wrong,
    }


def retrieval_metrics(traces: list[Trace], k: int) -> dict[str, Any]:
    with_gold = [t for t in traces if t.case.gold_doc_ids]
    r1 = r5 = 0
    rr = 0.0
    for t in with_gold:
        ids = [h.doc_id for h in t.hits]
        gold = set(t.case.gold_doc_ids)
        r1 += bool(set(ids[:1]) & gold)
        r5 += bool(set(ids[:5]) & gold)
        rank = next((i for i, d in enumerate(ids, 1) if d in gold), None)
        rr += 1.0 / rank if rank else 0.0
    m = len(with_gold)
    return {
        "retrieval_cases": m,
        "recall_at_1": _ratio(r1, m),
        "recall_at_5": _ratio(r5, m),
        "mrr": _ratio(rr, m),
        **id_context_scores(traces, k),
    }


def curve(traces: list[Trace], policy: Policy) -> list[dict[str, float]]:
    """Auto-resolution vs wrong-resolution as retrieval.auto_at_least moves (other thresholds fixed)."""
    points: list[dict[str, float]] = []
    for th in CURVE_STEPS:
        p = policy.model_copy(update={"retrieval": policy.retrieval.model_copy(update={"auto_at_least": th})})
        m = outcome_metrics(traces, p)
        points.append(
            {
                "auto_at_least": th,
                "auto_resolution_rate": m["auto_resolution_rate"],
                "wrong_resolution_rate": m["wrong_resolution_rate"],
                "wrong_per_ticket": m["wrong_per_ticket"],
            }
        )
    return points


def by_language(traces: list[Trace], policy: Policy) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for lang in sorted({t.triage.language.value for t in traces}):
        sub = [t for t in traces if t.triage.language.value == lang]
        m = outcome_metrics(sub, policy)
        r = retrieval_metrics(sub, 5) if any(t.case.gold_doc_ids for t in sub) else {}
        out[lang] = {
            "tickets": m["tickets"],
            "auto_resolution_rate": m["auto_resolution_rate"],
            "wrong_resolutions": m["wrong_resolutions"],
            "handoff_recall": m["handoff_recall"],
            "recall_at_5": r.get("recall_at_5"),
        }
    return out


def rows(traces: list[Trace], policy: Policy) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for t in traces:
        d = t.decide(policy)
        top = t.hits[0] if t.hits else None
        out.append(
            {
                "id": t.case.id,
                "action": d.action,
                "wrong": t.is_wrong(d),
                "answerable": not t.case.should_handoff,
                "gold_outcome": t.case.gold_outcome,
                "rules": d.rules,
                "top_doc": top.doc_id if top else None,
                "top_score": top.score if top else None,
                "cited": t.draft.citations if t.draft is not None and d.action != "handoff" else [],
                "gold_docs": t.case.gold_doc_ids,
                "category": t.triage.category.value,
                "category_confidence": t.triage.category.confidence,
                "language": t.triage.language.value,
                "seconds": round(t.seconds, 3),
            }
        )
    return out


def evaluate(traces: list[Trace], policy: Policy, facts: dict[str, Any], k: int = 5) -> dict[str, Any]:
    outcome = outcome_metrics(traces, policy)
    prompts: dict[str, str] = {}
    for t in traces:
        prompts.update(t.prompts)
    secs = [t.seconds for t in traces]
    rule_counts = Counter(r.split(":")[0] for t in traces for r in t.decide(policy).rules if r != "auto")
    return {
        "kind": "resolve",
        **{k_: v for k_, v in outcome.items() if k_ != "wrong_ids"},
        **retrieval_metrics(traces, k),
        "seconds_p50": round(percentile(secs, 0.5), 3),
        "seconds_p95": round(percentile(secs, 0.95), 3),
        "by_language": by_language(traces, policy),
        "rules_fired": dict(rule_counts.most_common()),
        "curve": curve(traces, policy),
        "wrong_ids": outcome["wrong_ids"],
        "run": {
            **facts,
            "policy_version": policy.version,
            "prompts": prompts,
            "commit": _commit(),
        },
        "rows": rows(traces, policy),
    }


def _commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            cwd=Path(__file__).resolve().parent,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def format_summary(m: dict[str, Any]) -> str:
    def pct(v: float | None) -> str:
        return "n/a" if v is None else f"{100 * v:.1f}%"

    run = m["run"]
    lines = [
        f"{m['tickets']} tickets ({m['answerable']} answerable, {m['should_handoff']} should go to a human); "
        f"KB {run['kb']} ({run['kb_docs']} docs); llm={run['llm']}; policy {run['policy_version']}",
        f"outcomes {m['outcomes']}",
        f"auto-resolution {pct(m['auto_resolution_rate'])} of all tickets, "
        f"{pct(m['auto_resolution_rate_answerable'])} of answerable ones "
        f"(right: {pct(m['correct_auto_rate_answerable'])})",
        f"wrong resolutions {m['wrong_resolutions']} = {pct(m['wrong_resolution_rate'])} of auto-resolved "
        f"(95% upper bound {pct(m['wrong_resolution_upper95'])}) {m['wrong_ids'][:10]}",
        f"handoff recall {pct(m['handoff_recall'])}, precision {pct(m['handoff_precision'])}",
        f"retrieval over {m['retrieval_cases']} cases: recall@1 {m['recall_at_1']}, recall@5 {m['recall_at_5']}, "
        f"MRR {m['mrr']}; ragas ID-based context precision {m['context_precision']}, recall {m['context_recall']}",
        f"seconds per ticket p50 {m['seconds_p50']} p95 {m['seconds_p95']}",
    ]
    if m.get("judge"):
        lines.append(f"judge {m['judge']}")
    return "\n".join(lines)


@dataclass
class ResolveRun:
    traces: list[Trace]
    facts: dict[str, Any]
    policy: Policy
    knowledge: KnowledgeStore


def prepare(
    settings: Settings,
    kb_path: Path,
    test_path: Path,
    policy_path: Path | None = None,
    llm: str | None = None,
    classifier: str = "auto",
    limit: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ResolveRun:
    """Load the KB and cases, pick policy and classifier, run every case once."""
    from agent.graph.policy import load_policy
    from evals.resolve_data import load_cases, load_kb

    kb = load_kb(kb_path)
    cases = load_cases(test_path, kb, limit)
    base = load_policy(policy_path or settings.policy_file)
    policy = policy_for_kb(base, kb)
    clf = pick_classifier(settings, kb, classifier)
    traces, facts, store = run_cases(settings, kb, cases, policy, llm or settings.llm, clf, progress)
    facts.update(
        {
            "test": str(test_path),
            "policy_file": str(policy_path or settings.policy_file),
            "cases": len(cases),
        }
    )
    return ResolveRun(traces, facts, policy, store)
