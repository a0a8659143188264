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
from datetime import datetime
from typing import Any, cast

from agent.domain import LifecycleKind, TicketEvent
from api.providers import Intake, PayloadError, Skip, lifecycle, parse_time, require_text, ticket_fields
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


# ---- lifecycle: event webhooks (ticket under `detail`, the change under `event`, time in `time`) ------

STATUS_CHANGED = "zen:event-type:ticket.status_changed"
COMMENT_ADDED = "zen:event-type:ticket.comment_added"
AGENT_ASSIGNMENT = "zen:event-type:ticket.agent_assignment_changed"
GROUP_ASSIGNMENT = "zen:event-type:ticket.group_assignment_changed"
PRIORITY_CHANGED = "zen:event-type:ticket.priority_changed"
LIFECYCLE_EVENTS = frozenset({STATUS_CHANGED, COMMENT_ADDED, AGENT_ASSIGNMENT, GROUP_ASSIGNMENT, PRIORITY_CHANGED})


def parse_events(data: dict[str, Any], headers: Mapping[str, str], now: datetime) -> list[TicketEvent] | None:
    """Zendesk lifecycle: the event webhooks above (status, public/private comments and who wrote
    them, agent and group reassignment, priority), or a trigger's rule body (api/providers/lifecycle.py:
    e.g. satisfaction, which has no event type). Every event also carries `detail.created_at`."""
    if not is_event(data):
        return lifecycle.rule_events(data, "zendesk", now)
    kind = data.get("type")
    if kind not in LIFECYCLE_EVENTS:
        return None
    detail = data.get("detail")
    if not isinstance(detail, dict):
        raise PayloadError("detail", "a ticket event needs the ticket in `detail` (an object)")
    detail = cast(dict[str, Any], detail)
    ext = lifecycle.ticket_id(detail.get("id"), "detail.id")
    change_raw = data.get("event")
    change: dict[str, Any] = cast(dict[str, Any], change_raw) if isinstance(change_raw, dict) else {}
    at = lifecycle.when(data.get("time"), now)
    event_id = lifecycle.text(data.get("id"))
    out = lifecycle.created("zendesk", ext, detail.get("created_at"), now)

    def add(kind_: LifecycleKind, **fields: Any) -> None:
        out.append(lifecycle.event("zendesk", ext, kind_, at, event_id, **fields))

    if kind == STATUS_CHANGED:
        status = lifecycle.status_of(change.get("current")) or lifecycle.status_of(detail.get("status"))
        if status is None:
            raise PayloadError("event.current", "a status change needs the new status")
        add("status", status=status, previous=lifecycle.text(change.get("previous")))
    elif kind == COMMENT_ADDED:
        raw = change.get("comment")
        comment: dict[str, Any] = cast(dict[str, Any], raw) if isinstance(raw, dict) else {}
        author_raw = comment.get("author")
        author: dict[str, Any] = cast(dict[str, Any], author_raw) if isinstance(author_raw, dict) else {}
        staff = author.get("is_staff")
        public = comment.get("is_public")
        add(
            "comment",
            public=public if isinstance(public, bool) else True,
            actor="agent" if staff is True else "customer" if staff is False else None,
        )
    elif kind in (AGENT_ASSIGNMENT, GROUP_ASSIGNMENT):
        current = lifecycle.text(change.get("current"))
        key = "assignee" if kind == AGENT_ASSIGNMENT else "group"
        add(
            "assigned",
            to_human=current is not None and current != "0",
            previous=lifecycle.text(change.get("previous")),
            attributes={key: current or ""},
        )
    elif kind == PRIORITY_CHANGED:
        priority = lifecycle.priority_of(change.get("current"))
        if priority is None:
            return out or None
        add("priority", priority=priority, previous=lifecycle.text(change.get("previous")))
    return out
