"""Deterministic decision policy loaded from a versioned YAML file.

`decide()` is the only place that chooses auto_resolve | suggest | handoff. Risk rules come first
and no threshold can override them; the LLM's own opinion is never consulted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field, ValidationError, model_validator

from agent.domain import PRIORITIES, Decision, Finding, Triage
from agent.errors import ConfigError
from agent.graph.answerability import (
    AnswerabilityEmbedderError,
    AnswerabilityModel,
    model_at,
    resolve_model_path,
)
from agent.graph.reading import as_read
from agent.graph.risk.model import RiskDetection
from knowledge.types import Hit


class PolicyError(ConfigError):
    """The policy file is missing or invalid; the message names the file and the field."""


class CategoryRule(BaseModel):
    description: str
    queue: str = "triage"
    auto_threshold: float = Field(default=0.6, ge=0.0, le=1.01)


class RetrievalRule(BaseModel):
    out_of_scope_below: float = 0.3
    suggest_at_least: float = 0.3
    auto_at_least: float = 0.5
    # the best document must beat the next one by this much (cosine) to be auto-sent: when two
    # documents match almost equally, picking one is a guess
    auto_min_margin: float = Field(default=0.0, ge=-1.0, le=1.0)
    rca_link_at_least: float = 0.45
    # softmax temperature (in cosine) of the nearest-document category vote (agent/graph/nodes/classify.py):
    # on the embedder's cosine scale like the thresholds above (MiniLM's 0.05 by default)
    vote_temperature: float = Field(default=0.05, gt=0.0, le=1.0)
    # the calibrated chance that the reply drafted from the best document resolves the ticket
    # (agent/graph/answerability.py): below `auto_min_answerability` a human reviews the draft,
    # below `suggest_min_answerability` the ticket is handed off. The model file is relative to
    # agent/graph/ (the shipped one) unless absolute; null: no model, the two rules never fire.
    answerability_model: str | None = "answerability.json"
    # The defaults are what a knowledge base nobody tuned gets: the shipped model's thresholds chosen
    # by leaving each training set out (`recommended` in the model file): no auto-resolution until
    # `triage tune` sets `auto_min_answerability` on dev data of this KB; P below 0.5 hands off.
    auto_min_answerability: float = Field(default=1.01, ge=0.0, le=1.01)
    suggest_min_answerability: float = Field(default=0.5, ge=0.0, le=1.01)
    reliable_languages: list[str] = Field(default_factory=lambda: ["en"])
    # share of the dense ranking in hybrid search for a query in another language
    unreliable_dense_weight: float = Field(default=0.25, ge=0.0, le=1.0)


class RiskRule(BaseModel):
    handoff: list[str] = Field(
        default_factory=lambda: ["security", "financial", "regulatory", "legal", "abuse", "escalation"]
    )
    at_most_suggest: list[str] = Field(default_factory=lambda: ["prompt_injection", "possible_risk"])
    llm_min_confidence: float = 0.8
    patterns: dict[str, list[str]] = Field(default_factory=dict)
    # the learned detector (agent/graph/risk/, e.g. "risk/risk_model.json"), relative to agent/graph/
    # unless absolute; None: off
    model: str | None = None
    model_threshold: float | None = Field(default=None, ge=0.0, le=1.0)  # None: the artefact's own
    # P(risk) at or above this but under the hand-off threshold: flag possible_risk (a human reviews the
    # draft, nothing is auto-sent); None: no review zone
    model_review_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    # the detector's semantic part (e5 vectors, stacked with the TF-IDF part); false: the TF-IDF part
    # alone at its own dev-chosen threshold (the artefact carries both)
    model_semantic: bool = True
    # a secret of these kinds masked in the ticket (agent/graph/redaction) is a security matter: the
    # customer posted a credential that must be rotated; never answered by a self-service article
    secret_kinds: list[str] = Field(default_factory=lambda: ["password", "api_key", "token", "jwt", "private_key"])
    # the ticket tells the agent what to write (agent/graph/checks/coverage.DICTATION): prompt_injection
    dictation_is_injection: bool = True


class PriorityRule(BaseModel):
    default: str = "normal"
    patterns: dict[str, list[str]] = Field(default_factory=dict)
    risk_floor: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known(self) -> PriorityRule:
        for p in [self.default, *self.patterns, *self.risk_floor.values()]:
            if p not in PRIORITIES:
                raise ValueError(f"unknown priority {p!r}; use one of {', '.join(PRIORITIES)}")
        return self


class CompoundRule(BaseModel):
    patterns: list[str] = Field(default_factory=list)


class Policy(BaseModel):
    version: str
    categories: dict[str, CategoryRule]
    retrieval: RetrievalRule = Field(default_factory=RetrievalRule)
    risk: RiskRule = Field(default_factory=RiskRule)
    priority: PriorityRule = Field(default_factory=PriorityRule)
    compound: CompoundRule = Field(default_factory=CompoundRule)
    # written by `triage tune`: the dev set, budget and figures the thresholds were chosen on
    tuned: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _compile(self) -> Policy:
        if "other" not in self.categories:
            raise ValueError("categories must include 'other' (the out-of-scope category)")
        for group in (self.risk.patterns, self.priority.patterns, {"compound": self.compound.patterns}):
            for name, pats in group.items():
                for pat in pats:
                    try:
                        re.compile(pat)
                    except re.error as exc:
                        raise ValueError(f"pattern for {name!r} is not a valid regex: {pat!r}: {exc}") from exc
        return self

    @property
    def category_names(self) -> list[str]:
        return list(self.categories)

    # ---- deterministic detectors -------------------------------------------------------------
    def detect_risk(self, text: str, masked: Mapping[str, int] | None = None) -> list[str]:
        """Risk flags from the rules: the policy's patterns, a secret the masker removed (`masked`: the
        redact node's counts by kind) and a ticket that dictates the reply."""
        plain = as_read(text)  # read once for every rule below
        flags = [flag for flag in self.risk.patterns if _search(plain, tuple(self.risk.patterns[flag]))]
        if masked and any(masked.get(kind) for kind in self.risk.secret_kinds) and "security" not in flags:
            flags.append("security")
        if self.risk.dictation_is_injection and "prompt_injection" not in flags:
            from agent.graph.checks.coverage import DICTATION

            if DICTATION.search(plain):
                flags.append("prompt_injection")
        return flags

    def review_risk(self, detection: RiskDetection | None) -> bool:
        """The learned detector is unsure: P(risk) in [model_review_threshold, its hand-off threshold).
        The threshold is on the scale of the score it was chosen on: with the semantic part on, a
        verdict of the TF-IDF part alone (the embedder unusable) has no review zone, only its own
        hand-off threshold."""
        cut = self.risk.model_review_threshold
        if detection is None or cut is None or detection.flagged:
            return False
        if self.risk.model_semantic and detection.semantic_status != "used":
            return False
        return detection.probability >= cut

    def detect_risk_model(self, text: str, embedder: Any = "auto") -> RiskDetection | None:
        """The learned risk detector's verdict (agent/graph/risk/), or None when `risk.model` is off.
        `embedder`: the retrieval embedder, reused by its semantic part when it is the one it was trained
        on ("auto": the recorded one; None: no embedder, the TF-IDF part alone; see RiskModel.detect).
        Raises RiskModelError (a ConfigError) for a missing, corrupt or tampered file."""
        if not self.risk.model:
            return None
        from agent.graph.risk.model import model_at as risk_model_at
        from agent.graph.risk.model import resolve_model_path as risk_model_path

        model = risk_model_at(risk_model_path(self.risk.model))
        return model.detect(text, self.risk.model_threshold, embedder=embedder if self.risk.model_semantic else None)

    def is_compound(self, text: str) -> bool:
        """Several problems in one ticket, or a problem that needs investigating."""
        return _matches(text, tuple(self.compound.patterns))

    def priority_floor(self, text: str, risks: list[str]) -> str:
        """The lowest priority this ticket may get, from keyword rules and risk flags."""
        floor = "low"
        for prio, pats in self.priority.patterns.items():
            if prio != "low" and _matches(text, tuple(pats)):
                floor = _max_priority(floor, prio)
        for flag in risks:
            floor = _max_priority(floor, self.priority.risk_floor.get(flag, "low"))
        return floor

    def rule_priority(self, text: str, risks: list[str]) -> str:
        """Priority from rules alone (used when there is no LLM)."""
        floor = self.priority_floor(text, risks)
        if floor != "low":
            return floor
        if _matches(text, tuple(self.priority.patterns.get("low", []))):
            return "low"
        return self.priority.default

    # ---- the chance the reply resolves the ticket -----------------------------------------------
    def answerability_model(self) -> AnswerabilityModel | None:
        """The model `retrieval.answerability_model` names (cached while its file is unchanged), or
        None when the policy names none. Raises AnswerabilityModelError (a ConfigError) for a
        missing, corrupt or outdated file."""
        name = self.retrieval.answerability_model
        return model_at(resolve_model_path(name)) if name else None

    def answerability(self, feats: Mapping[str, float] | None, embedder: str | None = None) -> float | None:
        """P(the drafted reply resolves the ticket) for `features(...)` of one ticket; None when
        there are no features or no model. `embedder`: the TRIAGE_EMBEDDER spec the features came
        from; one the model was not trained with raises AnswerabilityEmbedderError."""
        model = self.answerability_model() if feats is not None else None
        if model is None or feats is None:
            return None
        if embedder is not None:
            model.check_embedder(embedder)
        return model.predict(feats)

    def assess(self, feats: Mapping[str, float] | None, embedder: str | None) -> tuple[float | None, str | None]:
        """(P, why there is none) for one ticket: what the decide node and the eval replay both pass
        to `decide`. A model trained with another embedder gives no P and the reason (decide then caps
        the ticket at suggest); a missing or corrupt model file raises (a ConfigError)."""
        try:
            return self.answerability(feats, embedder), None
        except AnswerabilityEmbedderError as exc:
            return None, str(exc)

    # ---- the decision ------------------------------------------------------------------------
    def decide(
        self,
        triage: Triage,
        hits: list[Hit],
        query_language: str = "en",
        compound: bool = False,
        answerability: float | None = None,
        answerability_problem: str | None = None,
    ) -> Decision:
        """`query_language`: the ticket's language, which `retrieval.reliable_languages` caps (an LLM's
        English rewrite of the search query does not change it: nothing verifies the rewrite);
        `compound`: the ticket bundles several problems (see `is_compound`); `answerability`: the
        calibrated chance that the reply drafted from the best document resolves it (`answerability`
        of `agent.graph.answerability.features`; None: not assessed, its two rules do not fire);
        `answerability_problem`: why the policy's model could not assess it (trained for another
        embedder, `assess`): then nothing is auto-resolved (rule `answerability_unavailable`)."""
        r = self.retrieval
        category = triage.category.value
        rule = self.categories.get(category, self.categories["other"])
        queue = rule.queue
        risks = set(triage.risk.value)
        top = hits[0] if hits else None

        blocking = sorted(risks & set(self.risk.handoff))
        if blocking:
            return Decision(
                action="handoff",
                reason=f"risk flags {', '.join(blocking)} are never auto-resolved; a human must handle it",
                rules=[f"risk:{f}" for f in blocking],
                queue=queue,
            )
        if triage.decided_by == "fallback":
            return Decision(
                action="handoff",
                reason="the LLM was unavailable or returned unusable output; triage fell back to nearest-doc",
                rules=["llm_fallback"],
                queue=queue,
            )
        if top is None or top.score < r.out_of_scope_below or category == "other":
            score = f"{top.score:.2f}" if top else "none"
            return Decision(
                action="handoff",
                reason=f"out of scope: best knowledge match {score} is below {r.out_of_scope_below:.2f} "
                f"or the category is 'other'",
                rules=["out_of_scope"],
                queue=self.categories["other"].queue,
            )
        rca = next((h for h in hits if h.doc_type == "rca" and h.score >= r.rca_link_at_least), None)
        if rca is not None and rca is top and rca.status == "open":
            return Decision(
                action="handoff",
                reason=f"matches open known issue {rca.doc_id} ({rca.title}); no workaround to offer yet",
                rules=["rca_open"],
                linked_issue=rca.doc_id,
                queue=queue,
            )
        linked = rca.doc_id if rca is not None and rca is top else None
        rules: list[str] = []
        capped = sorted(risks & set(self.risk.at_most_suggest))
        if capped:
            rules += [f"risk:{f}" for f in capped]
        if triage.category.confidence < rule.auto_threshold:
            rules.append("category_confidence")
        if top.score < r.auto_at_least:
            rules.append("retrieval_score")
        if match_margin(hits) < r.auto_min_margin:
            rules.append("ambiguous_match")
        if not top.auto_resolvable:
            rules.append("doc_not_auto_resolvable")
        if query_language not in r.reliable_languages:
            rules.append("unreliable_retrieval_language")
        if compound:
            rules.append("multiple_issues")
        p = answerability
        p_note = "" if p is None else f"; P(resolves) {p:.2f}"
        if p is not None and p < r.auto_min_answerability:
            rules.append("low_answerability")
        if p is None and answerability_problem is not None:
            rules.append("answerability_unavailable")
        if not rules:
            return Decision(
                action="auto_resolve",
                reason=f"{top.doc_id} answers it (match {top.score:.2f} >= {r.auto_at_least:.2f}); category "
                f"{category} confidence {triage.category.confidence:.2f} >= {rule.auto_threshold:.2f}"
                + ("" if p is None else f"; P(resolves) {p:.2f} >= {r.auto_min_answerability:.2f}"),
                rules=["auto"],
                linked_issue=linked,
                queue=queue,
            )
        unanswerable = p is not None and p < r.suggest_min_answerability
        if top.score >= r.suggest_at_least and not unanswerable:
            return Decision(
                action="suggest",
                reason="a human should review the draft: "
                + ", ".join(_EXPLAIN[x.split(":")[0]] for x in rules)
                + p_note,
                rules=rules,
                linked_issue=linked,
                queue=queue,
            )
        if unanswerable and top.score >= r.suggest_at_least:
            return Decision(
                action="handoff",
                reason=f"the best knowledge match {top.doc_id} is unlikely to answer it (P(resolves) {p:.2f} < "
                f"{r.suggest_min_answerability:.2f}): nothing worth drafting from",
                rules=[*rules, "unanswerable"],
                queue=queue,
            )
        return Decision(
            action="handoff",
            reason=f"best knowledge match {top.score:.2f} is too weak to draft from",
            rules=[*rules, "weak_retrieval"],
            queue=queue,
        )

    # ---- the gate: the last word before anything is sent ---------------------------------------
    def gate(self, decision: Decision, findings: Sequence[Finding] = (), approval: str | None = None) -> Decision:
        """The one gate every path to a public reply or an action passes, in the service and in the eval
        replay alike: an auto-resolution stays one only if the checks of its draft found nothing
        (`findings`, from ground_check: any finding at all, whatever its rule) and its business action
        needs no human approval (`approval`: why it does, else None); otherwise it becomes a suggestion
        saying why. A suggestion keeps its action but its reason and rules gain the findings, so the
        reviewer reads what the checks found (an injected link, a copied ticket) before approving.
        Handoffs pass."""
        if decision.action not in ("auto_resolve", "suggest"):
            return decision
        if findings:
            rules = [r for r in dict.fromkeys(f.rule for f in findings) if r not in decision.rules]
            if decision.action == "auto_resolve":
                reason = f"{findings_text(findings)}; a human must check it"
            else:
                reason = f"{decision.reason}; the checks of the draft also found: {findings_text(findings)}"
            return decision.model_copy(
                update={"action": "suggest", "reason": reason, "rules": [*decision.rules, *rules]}
            )
        if approval is not None and decision.action == "auto_resolve":
            return decision.model_copy(
                update={
                    "action": "suggest",
                    "reason": f"{approval}; approving the reply runs it",
                    "rules": [*decision.rules, "action_needs_approval"],
                }
            )
        return decision


def findings_text(findings: Sequence[Finding], at_most: int = 4) -> str:
    """The findings as they read in a decision's reason (each one's `why`: what rule it broke and
    what was found), at most `at_most` of them and how many more."""
    parts = [f.why for f in findings[:at_most]]
    more = len(findings) - at_most
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


_EXPLAIN = {
    "risk": "a risk flag caps it at a review (the ticket tries to instruct the agent, or the risk detector is unsure)",
    "category_confidence": "category confidence is below the auto-resolve threshold",
    "retrieval_score": "the best article is not a close enough match",
    "ambiguous_match": "another article matches almost as well",
    "doc_not_auto_resolvable": "the matching article needs staff action",
    "unreliable_retrieval_language": "the knowledge search is unreliable in the ticket's language",
    "multiple_issues": "the ticket raises several problems or needs investigating",
    "low_answerability": "the best article may not answer this question",
    "answerability_unavailable": "the answerability model does not fit this embedder (retrain it)",
}


def match_margin(hits: list[Hit]) -> float:
    """How much better the chosen (first) document matches than the best other one, in cosine;
    1.0 when it is the only one."""
    if not hits:
        return 0.0
    others = [h.score for h in hits[1:] if h.doc_id != hits[0].doc_id]
    return round(hits[0].score - max(others), 4) if others else 1.0


@lru_cache(maxsize=512)
def _compiled(pats: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p, re.IGNORECASE | re.MULTILINE) for p in pats)


def _matches(text: str, pats: tuple[str, ...]) -> bool:
    """Whether any pattern matches the text, read as a model reads it (`agent.graph.reading.as_read`:
    NFKC folds fullwidth and other look-alike forms; zero-width and bidi characters dropped, so
    "#\u200b#\u200b#" is "###"; spaced-out letters joined into words)."""
    return _search(as_read(text), pats)


def _search(plain: str, pats: tuple[str, ...]) -> bool:
    """`_matches` on text `as_read` already folded."""
    return any(p.search(plain) for p in _compiled(pats))


def _max_priority(a: str, b: str) -> str:
    return a if PRIORITIES.index(a) >= PRIORITIES.index(b) else b  # type: ignore[arg-type]


def load_policy(path: Path) -> Policy:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise PolicyError(f"policy file {path} not found; set TRIAGE_POLICY_FILE") from exc
    except yaml.YAMLError as exc:
        raise PolicyError(f"policy file {path} is not valid YAML: {exc}") from exc
    try:
        policy = Policy.model_validate(raw)
    except ValidationError as exc:
        where = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise PolicyError(f"policy file {path}: {where}") from exc
    policy.answerability_model()  # a missing or damaged model file is found when the policy loads, not per ticket
    return policy
