"""Domain types of the application: Ticket, Triage, Decision, Draft, Citation, AuditEvent, Review.

Nothing here imports from the rest of the project, so knowledge/, tools/, evals/ and api/ can all
depend on it without cycles.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from tools.ticketing import WriteBackPlan

Action = Literal["auto_resolve", "suggest", "handoff"]
Priority = Literal["low", "normal", "high", "urgent"]
Sentiment = Literal["negative", "neutral", "positive"]
Language = Literal["en", "uk", "other"]
# abuse: threats of harm, harassment, a person at risk; escalation: executives, contract termination, press;
# possible_risk: the learned risk detector is unsure (a human reviews before anything is sent)
RiskFlag = Literal[
    "security", "financial", "regulatory", "legal", "abuse", "escalation", "prompt_injection", "possible_risk"
]
# writeback_failed: triaged (the result is stored) but writing it back to the ticketing system failed;
# `POST /tickets/{id}/writeback/retry` or `triage writeback retry` re-applies it
TicketStatus = Literal["received", "processing", "done", "awaiting_review", "handed_off", "failed", "writeback_failed"]

PRIORITIES: tuple[Priority, ...] = ("low", "normal", "high", "urgent")
SENTIMENTS: tuple[Sentiment, ...] = ("negative", "neutral", "positive")
RISK_FLAGS: tuple[RiskFlag, ...] = (
    "security",
    "financial",
    "regulatory",
    "legal",
    "abuse",
    "escalation",
    "prompt_injection",
    "possible_risk",
)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Customer(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str | None = None
    tier: str = "standard"


class Ticket(BaseModel):
    """A ticket as the agent sees it, whatever system it came from."""

    id: str
    external_id: str
    source: str = "generic"
    subject: str
    body: str
    requester: str | None = None
    customer: Customer = Field(default_factory=Customer)
    language: str | None = None  # the sender's hint, if any; triage detects it anyway
    product: str | None = None
    # when the ticket was created in its own system (SLA clocks and KPIs count from this), and when
    # our intake stored it; created_at is None when the sender did not say
    created_at: datetime | None = None
    received_at: datetime | None = None
    # the provider's own identifiers, e.g. {"issue_id": "10042", "issue_key": "SUP-7"} for Jira
    source_ids: dict[str, str] = Field(default_factory=dict[str, str])


T = TypeVar("T")


class Scored(BaseModel, Generic[T]):
    value: T
    confidence: float = Field(ge=0.0, le=1.0)


class Triage(BaseModel):
    category: Scored[str]
    priority: Scored[str]
    language: Scored[str]
    sentiment: Scored[str]
    risk: Scored[list[str]]
    # who decided the category: the trained classifier (confident), the LLM (classifier unsure or
    # absent), nearest-doc vote (no classifier, no LLM), or fallback (the LLM failed)
    decided_by: Literal["classifier", "llm", "nearest_doc", "fallback"] = "nearest_doc"
    # per field: classifier | llm | rules | nearest_doc | fallback
    sources: dict[str, str] = Field(default_factory=dict[str, str])
    model_version: str | None = None  # the classifier artefact that took part, if any


class Decision(BaseModel):
    action: Action
    reason: str
    rules: list[str] = Field(default_factory=list)  # which policy rules fired, in order
    linked_issue: str | None = None  # an RCA doc id the ticket matches
    queue: str | None = None


class Citation(BaseModel):
    """A document a reply cites, as a reader sees it."""

    doc_id: str
    title: str | None = None


class Draft(BaseModel):
    text: str
    citations: list[str]
    language: str
    grounded: bool = True
    generated_by: Literal["llm", "extractive"] = "extractive"
    truncated: bool = False  # the LLM stopped at its token limit (finish_reason "length"): never auto-sent


class WriteBackStep(BaseModel):
    step: str  # reply | note | priority | group | tags | assign | resolve
    status: Literal["done", "skipped", "failed", "not_run"]  # skipped: done by an earlier run
    error: str | None = None


class WriteBack(BaseModel):
    """What was written back to the ticket's own system: stored with the result, shown by the API."""

    status: Literal["done", "failed", "skipped"]  # skipped: nothing to write back to (reason says why)
    system: str | None = None
    external_id: str | None = None
    reason: str | None = None
    failed_step: str | None = None
    retryable: bool | None = None  # failed: would retrying as is help (transient) or must something change
    error: str | None = None
    steps: list[WriteBackStep] = Field(default_factory=list[WriteBackStep])
    runs: int = 1  # 1 + retries
    # the plan a retry re-applies; the ledger skips the steps already done
    plan: WriteBackPlan | None = None

    @property
    def ok(self) -> bool:
        return self.status != "failed"


class AuditEvent(BaseModel):
    at: datetime = Field(default_factory=utcnow)
    node: str
    event: str
    detail: dict[str, Any] = Field(default_factory=dict)


ReviewAction = Literal["approve", "edit", "reject"]


class Review(BaseModel):
    """A support agent's verdict on a suggested reply (the graph's `review` interrupt resumes with it)."""

    action: ReviewAction
    text: str | None = None  # the reply as sent: the draft (approve) or the agent's edit (edit)
    reason: str | None = None  # why it was rejected (or any comment)
    category: str | None = None  # the agent's correction of the category, if any (feedback for training)
    by: str  # who: the API key's name
    role: str | None = None
    key_id: str | None = None
    at: datetime = Field(default_factory=utcnow)


class Finding(BaseModel):
    """Something a check found that stops an automatic send (the gate downgrades on it)."""

    rule: str  # the rule name recorded in Decision.rules, e.g. ungrounded_draft
    why: str  # how it reads in the decision's reason


class ActionPlan(BaseModel):
    """The business action the answering document names, validated and not yet run."""

    name: str
    doc_id: str | None = None
    arguments: dict[str, Any] | None = None  # None: arguments missing (`missing` says which)
    missing: list[dict[str, Any]] = Field(default_factory=list[dict[str, Any]])
    needs_approval: str | None = None  # why a human must approve it first, if they must


class HandoffRouting(BaseModel):
    """Where a handed-off ticket went, why, and its SLA deadlines (the handoff node's result)."""

    queue: str
    tier: str
    engineer: str | None = None  # None only when nobody is on duty and no fallback is configured
    engineer_email: str | None = None
    client: str | None = None
    client_tier: str
    rule: str
    escalated: bool = False
    fallback: bool = False
    why: str
    priority: Priority
    sla_started_at: datetime  # the ticket's creation in its own system (else our receipt)
    first_response_due: datetime
    resolution_due: datetime


class Reply(BaseModel):
    """The reply a ticket got or was offered (auto-sent, or waiting for review)."""

    text: str
    citations: list[str]  # doc ids, in the order the reply cites them
    sources: list[Citation] = Field(default_factory=list[Citation])  # the same, with titles
    language: str | None = None
    grounded: bool | None = None
    generated_by: str | None = None


class RetrievedDoc(BaseModel):
    doc_id: str
    title: str
    score: float
    type: str


class TicketResult(BaseModel):
    """What the graph concluded for a ticket: built once from the final state (agent.graph.result),
    stored as JSON with the ticket, and read back typed by every reader (API, reviews, write-back
    retry, SLA, feedback export)."""

    triage: Triage
    decision: Decision
    reply: Reply | None = None
    handoff_note: str | None = None
    retrieved: list[RetrievedDoc] = Field(default_factory=list[RetrievedDoc])
    query_language: str | None = None
    redactions: dict[str, int] = Field(default_factory=dict[str, int])
    prompts: dict[str, str] = Field(default_factory=dict[str, str])
    policy_version: str
    writeback: WriteBack | None = None
    review: Review | None = None
    routing: HandoffRouting | None = None

    @classmethod
    def stored(cls, data: object) -> TicketResult | None:
        """The result column of a stored ticket (None while it has none)."""
        return cls.model_validate(data) if data else None


LifecycleKind = Literal["created", "status", "comment", "assigned", "priority", "satisfaction", "triaged"]
LifecycleStatus = Literal["new", "open", "pending", "on_hold", "solved", "closed"]
EventActor = Literal["agent", "customer", "service", "system"]


class TicketEvent(BaseModel):
    """One thing that happened to a ticket in its own system, or that this service did to it (its
    triage, reply, auto-resolution, handoff): the lifecycle the KPIs read (agent/storage/events.py).
    Attached to the ticket by (source, external_id), so it may arrive before the ticket does."""

    source: str
    external_id: str
    kind: LifecycleKind
    at: datetime  # when it happened in the ticket's own system (UTC); our clock for our own events
    event_id: str | None = None  # the sender's id for it (the dedupe key); None: a content hash is
    time_known: bool = True  # False: the sender gave no time and `at` is our receipt
    actor: EventActor | None = None  # comment author, who changed the status
    status: LifecycleStatus | None = None  # kind status: the new status
    previous: str | None = None  # kind status / priority / assigned: the value before, as sent
    public: bool | None = None  # kind comment: visible to the requester
    to_human: bool | None = None  # kind assigned: to a human person or group
    priority: Priority | None = None  # kind priority (and any kind that carries it)
    rating: Literal["good", "bad"] | None = None  # kind satisfaction
    # tier (client), support_tier (L1..L3), category, queue, linked_issue, action, assignee, group
    attributes: dict[str, str] = Field(default_factory=dict[str, str])
