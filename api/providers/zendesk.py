"""Zendesk: event-subscription webhooks (zen:event-type:ticket.created) and trigger webhooks.

Event webhooks carry the ticket in `detail` (ids as strings; the requester only as `requester_id`)
and a unique event `id`, the dedupe key; the created time is `detail.created_at` (else the event's
`time`). Trigger webhooks send the JSON body the admin pasted (README: `ticket_id`, `subject`,
`description`, `requester`, `organization`, optional `created_at`, ... filled from Zendesk
placeholders); they dedupe on the ticket id and the event, or on a `delivery_id` the body carries.
A description that is HTML (an HTML placeholder such as {{ticket.latest_comment_html}}) is rendered
to text; plain text is kept as is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from api.providers import Intake, Skip, parse_time, require_text, ticket_fields
from api.schemas import ZendeskEventIn, ZendeskTriggerIn
from tools.ticketing.html_text import html_to_text, looks_like_html

EVENT_PREFIX = "zen:event-type:"
TICKET_CREATED = "zen:event-type:ticket.created"
TRIGGER_CREATED = frozenset({"ticket.created", "ticket_created"})

EVENT_SOURCES = {
    "external_id": "detail.id",
    "subject": "detail.subject",
    "body": "detail.description",
    "created_at": "detail.created_at",
    "source_ids": "detail.id",
}
TRIGGER_SOURCES = {
    "external_id": "ticket_id",
    "subject": "subject",
    "body": "description",
    "requester": "requester",
    "customer": "organization",
    "language": "language",
    "product": "product",
    "created_at": "created_at",
    "source_ids": "ticket_id",
}


def is_event(data: Mapping[str, Any]) -> bool:
    kind = data.get("type")
    return (isinstance(kind, str) and kind.startswith(EVENT_PREFIX)) or "detail" in data


def parse(data: dict[str, Any], headers: Mapping[str, str]) -> Intake | Skip:
    return parse_event(data) if is_event(data) else parse_trigger(data)


def text_of(description: str) -> str:
    return html_to_text(description) if looks_like_html(description) else description


def parse_event(data: dict[str, Any]) -> Intake | Skip:
    kind = data.get("type")
    if isinstance(kind, str) and kind != TICKET_CREATED:
        return Skip(kind, f"only {TICKET_CREATED} creates a ticket")
    event = ZendeskEventIn.model_validate(data)
    detail = event.detail
    subject, body = detail.subject or "", text_of(detail.description or "")
    require_text(subject, body, "detail.description")
    # The event carries ids only; they stay with the ticket as customer attributes.
    customer = {"requester_id": detail.requester_id, "organization_id": detail.organization_id}
    fields = ticket_fields(
        detail.id,
        subject,
        body,
        customer=customer,
        created_at=parse_time(detail.created_at) or parse_time(event.time),
        source_ids={"ticket_id": detail.id},
    )
    return Intake(event.id, fields, EVENT_SOURCES)


def parse_trigger(data: dict[str, Any]) -> Intake | Skip:
    kind = data.get("event", "ticket.created")
    if isinstance(kind, str) and kind not in TRIGGER_CREATED:
        return Skip(kind, "only a ticket.created trigger body creates a ticket")
    body_in = ZendeskTriggerIn.model_validate(data)
    body = text_of(body_in.description)
    require_text(body_in.subject, body, "description")
    customer = {"name": body_in.organization, "tier": body_in.tier}
    fields = ticket_fields(
        body_in.ticket_id,
        body_in.subject,
        body,
        requester=body_in.requester,
        customer=customer,
        language=body_in.language,
        product=body_in.product,
        created_at=parse_time(body_in.created_at),
        source_ids={"ticket_id": body_in.ticket_id},
    )
    delivery = body_in.delivery_id or f"trigger:{body_in.ticket_id}:{body_in.event}"
    return Intake(delivery, fields, TRIGGER_SOURCES)
