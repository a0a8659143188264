"""Running the cases: the KB into its own eval workspace, every case once through the real graph
(dry run) under the permissive policy, and what each run keeps (a `Trace`)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.domain import Customer, Ticket
from agent.graph.classifier.model import TriageClassifier
from agent.graph.context import AgentContext
from agent.graph.llm import make_chat_model
from agent.graph.policy import Policy, load_policy
from agent.runtime.assembly import Agent, load_classifier
from agent.settings import Settings
from evals.resolve.data import Case, KnowledgeBase, load_cases, load_kb
from evals.resolve.replay import Trace, decided_features, permissive
from knowledge.embeddings import get_embedder
from knowledge.store import KnowledgeStore

HALVES = ("train", "test")


def half_of(case_id: str) -> str:
    """The fixed hash split of a dev file into two halves by case id (sha256 even: train, odd: test),
    so that thresholds or a model are fitted on one half and measured on the other."""
    return HALVES[int(hashlib.sha256(case_id.encode()).hexdigest(), 16) % 2]


def policy_for_kb(base: Policy, kb: KnowledgeBase) -> Policy:
    """The service policy, with the KB's own categories when they are not the policy's (a foreign
    dataset): same risk, priority, compound and retrieval rules; each new category gets the
    median auto threshold of the base policy until `triage tune` sets it, and the answerability
    thresholds are the untuned ones the model recommends (left-out-dataset figures: no
    auto-resolution until `triage tune`)."""
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
    # nobody tuned the policy on this KB: the answerability thresholds an untuned KB gets (the model's)
    model = base.answerability_model()
    rec = model.recommended if model is not None else {}
    retrieval = base.retrieval.model_copy(
        update={
            "auto_min_answerability": rec.get("auto_min_answerability", base.retrieval.auto_min_answerability),
            "suggest_min_answerability": rec.get("suggest_min_answerability", base.retrieval.suggest_min_answerability),
        }
    )
    return base.model_copy(
        update={"categories": new, "retrieval": retrieval, "version": f"{base.version}+kb-categories"}
    )


def workspace(settings: Settings, kb: KnowledgeBase) -> tuple[Settings, KnowledgeStore]:
    """A Chroma collection holding just this KB, reused while its content is unchanged."""
    digest = kb.digest[:16]
    root = settings.data_dir / "eval-kb" / digest
    ws = settings.model_copy(update={"chroma_dir": root / "chroma", "collection": "eval-kb", "kb_path": kb.path})
    store = KnowledgeStore(
        ws.chroma_path, get_embedder(ws.embedder, ws.embedder_threads), ws.collection, ws.chunk_chars
    )
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
        hits, text = state.get("hits", []), state.get("text", "")
        query_language = state.get("query_language", "en")
        traces.append(
            Trace(
                case=case,
                triage=state["triage"],
                hits=hits,
                query_language=query_language,
                compound=policy.is_compound(text),
                draft=state.get("draft"),
                findings=list(state.get("findings", [])),
                approval=plan.needs_approval if (plan := state.get("action")) is not None else None,
                prompts=dict(state.get("prompts", {})),
                seconds=seconds,
                permissive_action=state["decision"].action,
                text=text,
                features=decided_features(state.get("audit", [])),
                embedder=ws.embedder,
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
        "answerability_model": _model_facts(policy),
    }
    return traces, facts, store


def _model_facts(policy: Policy) -> dict[str, str] | None:
    """Which answerability model the run's policy decides with (None: none)."""
    model = policy.answerability_model()
    return None if model is None else {"version": model.version, "embedder": model.embedder, "sha256": model.sha256}


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
    half: str | None = None,
) -> ResolveRun:
    """Load the KB and cases, pick policy and classifier, run every case once. `half`: only the
    cases of that half (`half_of`) of the first `limit`."""
    kb = load_kb(kb_path)
    cases = load_cases(test_path, kb, limit)
    if half is not None:
        if half not in HALVES:
            raise ValueError(f"half must be one of {', '.join(HALVES)}, not {half!r}")
        cases = [c for c in cases if half_of(c.id) == half]
        if not cases:
            raise ValueError(f"{test_path}: no cases in the {half} half")
    base = load_policy(policy_path or settings.policy_file)
    policy = policy_for_kb(base, kb)
    clf = pick_classifier(settings, kb, classifier)
    traces, facts, store = run_cases(settings, kb, cases, policy, llm or settings.llm, clf, progress)
    facts.update(
        {
            "test": str(test_path),
            "policy_file": str(policy_path or settings.policy_file),
            "cases": len(cases),
            "half": half,
        }
    )
    return ResolveRun(traces, facts, policy, store)
