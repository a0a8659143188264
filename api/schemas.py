"""Request and response schemas of the HTTP API (separate from the internal domain models)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


class CustomerIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str | None = Field(default=None, max_length=200)
    tier: str = Field(default="standard", max_length=40)


class GenericTicketIn(BaseModel):
    """Body of a Standard Webhooks delivery to /webhooks/generic."""

    model_config = ConfigDict(extra="ignore")
    external_id: str = Field(min_length=1, max_length=255)
    subject: str = Field(max_length=1000)
    body: str = Field(max_length=200_000)
    requester: str | None = Field(default=None, max_length=320)
    customer: CustomerIn | None = None
    language: str | None = Field(default=None, max_length=16)
    product: str | None = Field(default=None, max_length=64)


class Accepted(BaseModel):
    ticket_id: str
    duplicate: bool = False


class Ignored(BaseModel):
    """A verified delivery of an event that does not create a ticket (e.g. an update): nothing stored."""

    ignored: Literal[True] = True
    event: str
    detail: str


# ---- provider webhooks: the parts of each sender's payload we read (everything else is ignored) ------


def _id_text(value: object) -> object:
    # ids arrive as JSON numbers or strings depending on the sender (Zendesk events send strings,
    # trigger placeholders render digits); booleans and objects stay invalid
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value.strip() if isinstance(value, str) else value


IdText = Annotated[str, BeforeValidator(_id_text), Field(min_length=1, max_length=255)]
Subject = Annotated[str, Field(max_length=1000)]
LongText = Annotated[str, Field(max_length=200_000)]
ShortText = Annotated[str, Field(max_length=320)]


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ZendeskTicketDetailIn(_In):
    """`detail` of a zen:event-type:ticket.* event (ids are strings there)."""

    id: IdText
    subject: Subject | None = None
    description: LongText | None = None
    requester_id: IdText | None = None
    organization_id: IdText | None = None
    brand_id: IdText | None = None
    priority: str | None = None
    tags: list[str] = []


class ZendeskEventIn(_In):
    """A Zendesk event-subscription webhook (`type` zen:event-type:..., the ticket in `detail`)."""

    type: str
    id: IdText
    account_id: int | None = None
    time: str | None = None
    detail: ZendeskTicketDetailIn


class ZendeskTriggerIn(_In):
    """The JSON body our README tells a Zendesk trigger to send (placeholders filled by Zendesk)."""

    event: str = "ticket.created"
    ticket_id: IdText
    subject: Subject = ""
    description: LongText = ""
    requester: ShortText | None = None
    organization: Annotated[str, Field(max_length=200)] | None = None
    tier: Annotated[str, Field(max_length=40)] | None = None
    language: Annotated[str, Field(max_length=16)] | None = None
    product: Annotated[str, Field(max_length=64)] | None = None
    delivery_id: IdText | None = None


class JiraUserIn(_In):
    accountId: str | None = None  # Jira's own key names
    displayName: str | None = None
    emailAddress: str | None = None


class JiraProjectIn(_In):
    id: IdText | None = None
    key: str | None = None
    name: str | None = None


class JiraFieldsIn(_In):
    summary: Subject
    # REST v2 webhooks send wiki-markup text; v3 / automation payloads send an ADF document
    description: LongText | dict[str, Any] | None = None
    reporter: JiraUserIn | None = None
    project: JiraProjectIn | None = None


class JiraIssueIn(_In):
    id: IdText | None = None
    key: IdText
    fields: JiraFieldsIn


class JiraWebhookIn(_In):
    """A Jira Cloud / JSM webhook (`webhookEvent` jira:issue_created etc.)."""

    webhookEvent: str
    timestamp: int | None = None
    issue: JiraIssueIn


class FreshdeskWebhookIn(_In):
    """The JSON body our README tells a Freshdesk automation rule to send."""

    event: str = "ticket_created"
    ticket_id: IdText
    subject: Subject = ""
    description: LongText = ""
    requester: ShortText | None = None
    company: Annotated[str, Field(max_length=200)] | None = None
    tier: Annotated[str, Field(max_length=40)] | None = None
    language: Annotated[str, Field(max_length=16)] | None = None
    product: Annotated[str, Field(max_length=64)] | None = None


class YouTrackUserIn(_In):
    id: str | None = None
    login: str | None = None
    fullName: str | None = None
    email: str | None = None


class YouTrackProjectIn(_In):
    id: str | None = None
    key: str | None = None
    shortName: str | None = None
    name: str | None = None


class YouTrackWebhookIn(_In):
    """A YouTrack Webhook Triggers app delivery (`event` issueCreated etc.)."""

    event: str
    id: IdText
    idReadable: IdText | None = None
    numberInProject: int | None = None
    summary: Subject = ""
    description: LongText | None = None
    project: YouTrackProjectIn | None = None
    reporter: YouTrackUserIn | None = None


class ScoredOut(BaseModel):
    value: Any
    confidence: float


class TriageOut(BaseModel):
    category: ScoredOut
    priority: ScoredOut
    language: ScoredOut
    sentiment: ScoredOut
    risk: ScoredOut
    decided_by: str
    sources: dict[str, str] = {}  # field -> classifier | llm | rules | nearest_doc
    model_version: str | None = None  # the trained classifier that took part


class DecisionOut(BaseModel):
    action: Literal["auto_resolve", "suggest", "handoff"]
    reason: str
    rules: list[str] = []
    linked_issue: str | None = None
    queue: str | None = None


class ReplyOut(BaseModel):
    text: str
    citations: list[str]
    language: str | None = None
    grounded: bool | None = None
    generated_by: str | None = None


class AuditOut(BaseModel):
    at: datetime
    node: str
    event: str
    detail: dict[str, Any]


class WriteBackStepOut(BaseModel):
    step: str
    status: Literal["done", "skipped", "failed", "not_run"]
    error: str | None = None


class WriteBackOut(BaseModel):
    """What was written back to the ticket's own system. `failed`: the ticket is `writeback_failed`
    and `POST /tickets/{id}/writeback/retry` re-applies it (steps already done are not repeated)."""

    status: Literal["done", "failed", "skipped"]
    ok: bool
    system: str | None = None
    external_id: str | None = None
    reason: str | None = None  # skipped: why
    failed_step: str | None = None
    retryable: bool | None = None  # failed: true if retrying as is can help (transient), false: fix first
    error: str | None = None
    steps: list[WriteBackStepOut] = []
    runs: int = 1


class TicketOut(BaseModel):
    ticket_id: str
    external_id: str
    source: str
    status: Literal["received", "processing", "done", "awaiting_review", "handed_off", "failed", "writeback_failed"]
    created_at: datetime
    updated_at: datetime
    attempts: int
    error: str | None = None
    triage: TriageOut | None = None
    decision: DecisionOut | None = None
    reply: ReplyOut | None = None
    handoff_note: str | None = None
    retrieved: list[dict[str, Any]] = []
    policy_version: str | None = None
    prompts: dict[str, str] = {}
    writeback: WriteBackOut | None = None
    routing: dict[str, Any] | None = None  # handoff: queue, tier, engineer, SLA deadlines
    review: dict[str, Any] | None = None  # a support agent's verdict on the suggested reply
    audit: list[AuditOut] = []
