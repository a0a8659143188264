"""Re-deciding a run under another policy: a `Trace` keeps what `Policy.decide()` needs, so the
outcome under any thresholds is computed without running a model again (see the package doc).

A trace keeps the answerability features of its ticket as the decide node computed them (taken
from its audit event, not recomputed) and the embedder they came from, so the chance that the reply
resolves the ticket is recomputed under whichever answerability model the policy names, through
the same `Policy.assess` the decide node calls; `to_json` / `from_json` store traces, so that
`triage answerability train` learns from runs it does not repeat."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from agent.domain import AuditEvent, Decision, Draft, Finding, Triage
from agent.graph.policy import Policy
from evals.resolve.data import Case
from knowledge.types import Hit


@dataclass
class Trace:
    """One case run through the graph under the permissive policy: all a decision needs."""

    case: Case
    triage: Triage
    hits: list[Hit]
    query_language: str
    compound: bool
    draft: Draft | None
    findings: list[Finding]  # what the checks of the draft found that stops an auto-send
    approval: str | None  # why the answering document's action needs a human's approval, if it does
    prompts: dict[str, str]
    seconds: float
    permissive_action: str
    text: str = ""  # the redacted ticket text every model saw
    # answerability features as the decide node computed them; None: not recorded (no P, its rules never fire)
    features: dict[str, float] | None = None
    embedder: str | None = None  # the TRIAGE_EMBEDDER spec the run searched with (None: not recorded)
    _p: dict[str, tuple[float | None, str | None]] = field(
        default_factory=dict[str, "tuple[float | None, str | None]"], repr=False, compare=False
    )

    @property
    def draft_problem(self) -> str | None:
        return self.findings[0].rule if self.findings else None

    @property
    def cited(self) -> str | None:
        """The document the reply answers from: the draft's first citation, else the first hit."""
        if self.draft is not None and self.draft.citations:
            return self.draft.citations[0]
        return self.hits[0].doc_id if self.hits else None

    @property
    def resolves(self) -> bool:
        """The answerability label: the ticket is answerable and the document the reply answers from
        is a gold one."""
        c = self.case
        return not c.should_handoff and self.cited is not None and self.cited in c.gold_doc_ids

    def assessment(self, policy: Policy) -> tuple[float | None, str | None]:
        """(P(the reply resolves the ticket), why there is none) under `policy`'s answerability
        model: `Policy.assess`, as the decide node calls it (cached per model)."""
        model = policy.answerability_model() if self.features is not None else None
        if model is None:
            return None, None
        if model.sha256 not in self._p:
            self._p[model.sha256] = policy.assess(self.features, self.embedder)
        return self._p[model.sha256]

    def answerability(self, policy: Policy) -> float | None:
        """P(the reply resolves the ticket) under `policy`'s answerability model."""
        return self.assessment(policy)[0]

    def decide(self, policy: Policy) -> Decision:
        """What the service would do under `policy`: the same decide and the same gate it runs."""
        p, problem = self.assessment(policy)
        decided = policy.decide(
            self.triage, self.hits, self.query_language, self.compound, answerability=p, answerability_problem=problem
        )
        return policy.gate(decided, self.findings, self.approval)

    def is_wrong(self, decision: Decision) -> bool:
        """Auto-resolved when it should not have been, or with a reply grounded in no gold doc."""
        if decision.action != "auto_resolve":
            return False
        c = self.case
        if c.should_handoff or (c.gold_outcome is not None and c.gold_outcome != "auto_resolve"):
            return True
        cited = set(self.draft.citations) if self.draft is not None else set()
        return not (cited & set(c.gold_doc_ids))


def decided_features(audit: list[AuditEvent]) -> dict[str, float] | None:
    """The answerability features the decide node computed and recorded in its audit event (so the
    replay decides on exactly what the service decided on); None when it recorded none."""
    for event in audit:
        if event.node == "decide":
            got = event.detail.get("answerability", {}).get("features")
            return {str(k): float(v) for k, v in got.items()} if isinstance(got, dict) else None
    return None


def permissive(policy: Policy) -> Policy:
    """The policy with every tunable threshold opened: what `tune` moves must not change the run."""
    cats = {
        name: rule.model_copy(update={"auto_threshold": 0.0 if name != "other" else rule.auto_threshold})
        for name, rule in policy.categories.items()
    }
    retrieval = policy.retrieval.model_copy(
        update={
            "auto_at_least": -1.0,
            "suggest_at_least": -1.0,
            "auto_min_margin": -1.0,
            "auto_min_answerability": 0.0,
            "suggest_min_answerability": 0.0,
        }
    )
    return policy.model_copy(update={"categories": cats, "retrieval": retrieval})


def to_json(trace: Trace) -> dict[str, Any]:
    """A trace as plain JSON (what `from_json` reads back)."""
    return {
        "case": dataclasses.asdict(trace.case),
        "triage": trace.triage.model_dump(mode="json"),
        "hits": [h.model_dump(mode="json") for h in trace.hits],
        "query_language": trace.query_language,
        "compound": trace.compound,
        "draft": trace.draft.model_dump(mode="json") if trace.draft is not None else None,
        "findings": [f.model_dump(mode="json") for f in trace.findings],
        "approval": trace.approval,
        "prompts": trace.prompts,
        "seconds": trace.seconds,
        "permissive_action": trace.permissive_action,
        "text": trace.text,
        "features": trace.features,
        "embedder": trace.embedder,
    }


def from_json(row: dict[str, Any]) -> Trace:
    """The trace `to_json` wrote."""
    draft = row.get("draft")
    return Trace(
        case=Case(**row["case"]),
        triage=Triage.model_validate(row["triage"]),
        hits=[Hit.model_validate(h) for h in row["hits"]],
        query_language=row["query_language"],
        compound=row["compound"],
        draft=Draft.model_validate(draft) if draft is not None else None,
        findings=[Finding.model_validate(f) for f in row["findings"]],
        approval=row.get("approval"),
        prompts=dict(row.get("prompts") or {}),
        seconds=float(row.get("seconds") or 0.0),
        permissive_action=row["permissive_action"],
        text=row.get("text") or "",
        features=row.get("features"),
        embedder=row.get("embedder"),
    )
