"""Freshdesk: automation-rule webhooks ("Trigger webhook") with the JSON body from the README, and
the legacy `{"freshdesk_webhook": {"ticket_id", "ticket_subject", "ticket_description", ...}}` body
older accounts send; both are the same event (a new ticket) and dedupe on the same key.

`{{ticket.description}}` renders HTML, converted to text by tools.ticketing.html_text (paragraphs,
line breaks, lists and links kept); a plain-text description (`{{ticket.description_text}}`, in older
README bodies) is kept as is. Created times come as the placeholder renders them ("Wed, 8 Jan, 2025
at 10:12 AM", ISO 8601) and are dropped when unreadable. Freshdesk neither signs webhooks nor sends a
delivery id: the rule sends a shared token header (checked in api/auth.py) and we dedupe on the
ticket id and the event named in the body.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from api.providers import Intake, Skip, parse_time, require_text, ticket_fields
from api.schemas import FreshdeskLegacyWebhookIn, FreshdeskWebhookIn
from tools.ticketing.html_text import html_to_text, looks_like_html

CREATED = frozenset({"ticket_created", "ticket.created"})
LEGACY = "freshdesk_webhook"
SOURCES = {
    "external_id": "ticket_id",
    "subject": "subject",
    "body": "description",
    "requester": "requester",
    "customer": "company",
    "language": "language",
    "product": "product",
    "created_at": "created_at",
    "source_ids": "ticket_id",
}
LEGACY_SOURCES = {
    "external_id": f"{LEGACY}.ticket_id",
    "subject": f"{LEGACY}.ticket_subject",
    "body": f"{LEGACY}.ticket_description",
    "requester": f"{LEGACY}.requester_email",
    "customer": f"{LEGACY}.ticket_company_name",
    "created_at": f"{LEGACY}.ticket_created_at",
    "source_ids": f"{LEGACY}.ticket_id",
}


def description_text(html_or_text: str, plain: str = "") -> str:
    """The description as text: HTML rendered, plain text kept; `plain` when the first is empty."""
    text = html_to_text(html_or_text) if looks_like_html(html_or_text) else html_or_text
    return text if text.strip() else plain


def parse(data: dict[str, Any], headers: Mapping[str, str]) -> Intake | Skip:
    if isinstance(data.get(LEGACY), dict):
        return parse_legacy(data)
    kind = data.get("event", "ticket_created")
    if isinstance(kind, str) and kind not in CREATED:
        return Skip(kind, "only a ticket_created rule body creates a ticket")
    hook = FreshdeskWebhookIn.model_validate(data)
    body = description_text(hook.description, hook.description_text)
    require_text(hook.subject, body, "description")
    fields = ticket_fields(
        hook.ticket_id,
        hook.subject,
        body,
        requester=hook.requester,
        customer={"name": hook.company, "tier": hook.tier},
        language=hook.language,
        product=hook.product,
        created_at=parse_time(hook.created_at),
        source_ids={"ticket_id": hook.ticket_id},
    )
    return Intake(f"{hook.ticket_id}:{hook.event}", fields, SOURCES)


def parse_legacy(data: dict[str, Any]) -> Intake | Skip:
    """`{"freshdesk_webhook": {...}}`: a ticket-creation rule's body in the legacy format. Its optional
    `triggered_event` ("{ticket_action:created}") names the event; any other event is skipped."""
    inner = data[LEGACY]
    kind = inner.get("triggered_event")
    if isinstance(kind, str) and kind.strip() and "created" not in kind.lower():
        return Skip(kind, "only a ticket-creation rule body creates a ticket")
    hook = FreshdeskLegacyWebhookIn.model_validate(data).freshdesk_webhook
    body = description_text(hook.ticket_description, hook.ticket_description_text)
    require_text(hook.ticket_subject, body, f"{LEGACY}.ticket_description")
    fields = ticket_fields(
        hook.ticket_id,
        hook.ticket_subject,
        body,
        requester=hook.requester_email or hook.requester_name,
        customer={"name": hook.company_name},
        created_at=parse_time(hook.ticket_created_at),
        source_ids={"ticket_id": hook.ticket_id},
    )
    # the same key as the modern body's default event, so the two formats dedupe each other
    return Intake(f"{hook.ticket_id}:ticket_created", fields, LEGACY_SOURCES)
