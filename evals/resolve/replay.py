"""Re-deciding a run under another policy: a `Trace` keeps what `Policy.decide()` needs, so the
outcome under any thresholds is computed without running a model again (see the package doc)."""

from __future__ import annotations

from dataclasses import dataclass

from agent.domain import Decision, Draft, Finding, Triage
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

    @property
    def draft_problem(self) -> str | None:
        return self.findings[0].rule if self.findings else None

    def decide(self, policy: Policy) -> Decision:
        """What the service would do under `policy`: the same decide and the same gate it runs."""
        decided = policy.decide(self.triage, self.hits, self.query_language, self.compound)
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
