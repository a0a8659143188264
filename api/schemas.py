"""Request and response schemas of the HTTP API (separate from the internal domain models)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field

# Created times a sender may give: anything outside these years is refused (generic route, 422) or
# dropped (provider webhooks, whose placeholders the sender does not control).
MIN_YEAR, MAX_YEAR = 1970, 2200


class CustomerIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str | None = Field(default=None, max_length=200)
    tier: str = Field(default="standard", max_length=40)


def _created_in_range(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if not MIN_YEAR <= value.year <= MAX_YEAR:  # checked first: converting year 1 or 9999 can overflow
        raise ValueError(f"the year must be between {MIN_YEAR} and {MAX_YEAR}")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _id_text(value: object) -> object:
    # ids arrive as JSON numbers or strings depending on the sender (Zendesk events send strings,
    # trigger placeholders render digits); booleans and objects stay invalid
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value.strip() if isinstance(value, str) else value


SourceIdKey = Annotated[str, Field(min_length=1, max_length=64)]
SourceIdValue = Annotated[str, BeforeValidator(_id_text), Field(min_length=1, max_length=255)]


class GenericTicketIn(BaseModel):
    """Body of a Standard Webhooks delivery to /webhooks/generic (and of POST /intake/tickets); also
    the shape every provider webhook is normalised to."""

    model_config = ConfigDict(extra="ignore")
    external_id: str = Field(min_length=1, max_length=255)
    subject: str = Field(max_length=1000)
    body: str = Field(max_length=200_000)
    requester: str | None = Field(default=None, max_length=320)
    customer: CustomerIn | None = None
    language: str | None = Field(default=None, max_length=16)
    product: str | None = Field(default=None, max_length=64)
    # when the ticket was created in its own system: ISO 8601 (no zone = UTC), years 1970..2200
    created_at: Annotated[datetime | None, AfterValidator(_created_in_range)] = None
    # the sender's own ids for the ticket, shown back by GET /tickets/{id}
    source_ids: dict[SourceIdKey, SourceIdValue] = Field(default_factory=dict[str, str], max_length=16)


class Accepted(BaseModel):
    ticket_id: str
    duplicate: bool = False


class Ignored(BaseModel):
    """A verified delivery of an event that does not create a ticket (e.g. an update): nothing stored."""

    ignored: Literal[True] = True
    event: str
    detail: str


# ---- provider webhooks: the parts of each sender's payload we read (everything else is ignored) ------
#
# Only fields the service reads are declared; unknown and unread fields never cause a 422. What is
# read is coerced leniently where the real systems vary: ids as numbers or strings, optional hints
# (requester, organisation, language, ...) dropped rather than refused when they are not text or too
# long, nested objects dropped when they are not objects. Created times are kept raw (`Any`) and read
# by api.providers.parse_time, which drops what it cannot read.


def _loose_id(value: object) -> str | None:
    """An id we read but can do without: None unless it is a non-empty id of at most 255 characters."""
    value = _id_text(value)
    return value if isinstance(value, str) and 0 < len(value) <= 255 else None


def _text(value: object) -> object:
    """Free text that must be there: null is empty, a number is its digits."""
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


def _hint(max_length: int) -> Callable[[object], str | None]:
    def coerce(value: object) -> str | None:
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            return None
        value = value.strip()
        return value if 0 < len(value) <= max_length else None

    return coerce


def _object(value: object) -> object:
    """A nested object we read parts of: anything but an object (null, a string) counts as absent."""
    return value if isinstance(value, dict) else None


def _number(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value if abs(value) < 10**15 else None
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 15:
        return int(value.strip())
    return None


IdText = Annotated[str, BeforeValidator(_id_text), Field(min_length=1, max_length=255)]
LooseId = Annotated[str | None, BeforeValidator(_loose_id)]
Subject = Annotated[str, BeforeValidator(_text), Field(max_length=1000)]
LongText = Annotated[str, BeforeValidator(_text), Field(max_length=200_000)]
# may be markup (HTML, wiki) that shrinks when rendered; the rendered text is held to 200 000 characters
RichText = Annotated[str, BeforeValidator(_text), Field(max_length=1_000_000)]
Email = Annotated[str | None, BeforeValidator(_hint(320))]
Name = Annotated[str | None, BeforeValidator(_hint(200))]
Tier = Annotated[str | None, BeforeValidator(_hint(40))]
Language = Annotated[str | None, BeforeValidator(_hint(16))]
Product = Annotated[str | None, BeforeValidator(_hint(64))]
Number = Annotated[int | None, BeforeValidator(_number)]


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ZendeskTicketDetailIn(_In):
    """`detail` of a zen:event-type:ticket.* event (ids are strings there)."""

    id: IdText
    subject: Subject | None = None
    description: RichText | None = None
    requester_id: LooseId = None
    organization_id: LooseId = None
    created_at: Any = None


class ZendeskEventIn(_In):
    """A Zendesk event-subscription webhook (`type` zen:event-type:..., the ticket in `detail`)."""

    type: str
    id: IdText
    time: Any = None  # when the event happened: the created time when `detail.created_at` is missing
    detail: ZendeskTicketDetailIn


class ZendeskTriggerIn(_In):
    """The JSON body our README tells a Zendesk trigger to send (placeholders filled by Zendesk)."""

    event: str = "ticket.created"
    ticket_id: IdText
    subject: Subject = ""
    description: RichText = ""
    requester: Email = None
    organization: Name = None
    tier: Tier = None
    language: Language = None
    product: Product = None
    delivery_id: IdText | None = None
    created_at: Any = None  # {{ticket.created_at_with_timestamp}}


class JiraUserIn(_In):
    accountId: LooseId = None  # Jira's own key names; Cloud
    name: LooseId = None  # Server / Data Center: the user name
    displayName: Name = None
    emailAddress: Email = None


class JiraFieldsIn(_In):
    summary: Subject
    # webhooks send wiki-markup text; REST v3 / automation payloads send an ADF document
    description: RichText | dict[str, Any] | None = None
    reporter: Annotated[JiraUserIn | None, BeforeValidator(_object)] = None
    created: Any = None  # "2025-01-08T10:12:07.000+0000"


class JiraIssueIn(_In):
    id: LooseId = None
    key: IdText
    fields: JiraFieldsIn


class JiraWebhookIn(_In):
    """A Jira Cloud / Server / Data Center webhook (`webhookEvent` jira:issue_created etc.)."""

    webhookEvent: str
    issue: JiraIssueIn


class FreshdeskWebhookIn(_In):
    """The JSON body our README tells a Freshdesk automation rule to send."""

    event: str = "ticket_created"
    ticket_id: IdText
    subject: Subject = ""
    description: RichText = ""  # {{ticket.description}}: HTML
    description_text: RichText = ""  # {{ticket.description_text}} (older README bodies): plain text
    requester: Email = None
    company: Name = None
    tier: Tier = None
    language: Language = None
    product: Product = None
    created_at: Any = None


class FreshdeskLegacyTicketIn(_In):
    """The inside of the legacy `{"freshdesk_webhook": {...}}` body older Freshdesk accounts send."""

    ticket_id: IdText
    ticket_subject: Subject = ""
    ticket_description: RichText = ""  # HTML
    ticket_description_text: RichText = ""
    requester_email: Email = Field(None, validation_alias=AliasChoices("requester_email", "ticket_requester_email"))
    requester_name: Name = Field(None, validation_alias=AliasChoices("requester_name", "ticket_requester_name"))
    company_name: Name = Field(None, validation_alias=AliasChoices("ticket_company_name", "company_name"))
    ticket_created_at: Any = None
    triggered_event: Any = None


class FreshdeskLegacyWebhookIn(_In):
    freshdesk_webhook: FreshdeskLegacyTicketIn


class YouTrackUserIn(_In):
    login: LooseId = None
    fullName: Name = None
    email: Email = None


class YouTrackProjectIn(_In):
    key: LooseId = None
    shortName: LooseId = None


class YouTrackWebhookIn(_In):
    """A YouTrack Webhook Triggers app delivery (`event` issueCreated etc.)."""

    event: str
    id: IdText
    idReadable: LooseId = None
    numberInProject: Number = None
    summary: Subject = ""
    description: RichText | None = None
    project: Annotated[YouTrackProjectIn | None, BeforeValidator(_object)] = None
    reporter: Annotated[YouTrackUserIn | None, BeforeValidator(_object)] = None
    created: Any = None  # epoch milliseconds


class TicketViewOut(BaseModel):
    """The ticket as the service received and triaged it: what the agent read."""

    subject: str
    body: str  # the description as text, after rendering HTML / wiki markup / ADF
    language: str | None = None  # the sender's hint (triage detects the language anyway)
    requester: str | None = None
    customer: dict[str, Any] = {}
    product: str | None = None
    source: str
    external_id: str
    source_ids: dict[str, str] = {}  # the provider's own ids, e.g. {"issue_id": "10042", "issue_key": "SUP-7"}
    created_at: datetime | None = None  # in its own system, when the sender said
    received_at: datetime | None = None  # stored by our intake


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
    created_at: datetime  # when this service stored the ticket (ticket.created_at: in its own system)
    updated_at: datetime
    attempts: int
    ticket: TicketViewOut | None = None
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
