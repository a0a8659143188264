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

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

from agent.domain import TicketEvent
from api.providers import Intake, Skip, lifecycle, parse_time, require_text, ticket_fields
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


# ---- lifecycle: update rules ("Trigger webhook" in a Ticket updates rule) -------------------------------

# the Freshdesk API's numbers, in case a rule sends {{ticket.status}} unrendered as an id
STATUS_IDS = {"2": "open", "3": "pending", "4": "solved", "5": "closed", "6": "pending", "7": "on_hold"}
_CHANGE = re.compile(r"\{\s*(\w+)\s*:\s*\{\s*from\s*:(.*?),\s*to\s*:(.*?)\}\s*\}", re.DOTALL)
_FLAG = re.compile(r"\{\s*(\w+)\s*:\s*([^{}]*?)\s*\}")


def parse_events(data: dict[str, Any], headers: Mapping[str, str], now: datetime) -> list[TicketEvent] | None:
    """Freshdesk lifecycle: the rule body of api/providers/lifecycle.py (README: one rule per kind of
    update), or the legacy body's `triggered_event` ("{status:{from:Open,to:Resolved}}",
    "{priority:{from:Low,to:High}}", "{responder_id:{from:...,to:...}}", "{reply_sent:sent}",
    "{customer_feedback:...}"). Freshdesk sends no event id: a content hash dedupes (with the time
    when the body carries one)."""
    if isinstance(data.get(LEGACY), dict):
        return _legacy_events(cast(dict[str, Any], data[LEGACY]), now)
    status = lifecycle.text(data.get("status"))
    if status in STATUS_IDS:
        data = {**data, "status": STATUS_IDS[status]}
    return lifecycle.rule_events(data, "freshdesk", now)


def _legacy_events(inner: dict[str, Any], now: datetime) -> list[TicketEvent] | None:
    trigger = lifecycle.text(inner.get("triggered_event"), 2000)
    if not trigger or "created" in trigger.lower():
        return None
    ext = lifecycle.ticket_id(inner.get("ticket_id"), f"{LEGACY}.ticket_id")
    at = lifecycle.when(inner.get("ticket_updated_at") or inner.get("time"), now)
    out = lifecycle.created("freshdesk", ext, inner.get("ticket_created_at"), now)
    for name, before, after in _CHANGE.findall(trigger):
        name = name.lower()
        before, after = before.strip(), after.strip()
        if name in ("status", "ticket_status"):
            status = STATUS_IDS.get(after) or lifecycle.status_of(after)
            if status:
                out.append(
                    lifecycle.event("freshdesk", ext, "status", at, None, status=status, previous=before or None)
                )
        elif name in ("priority", "ticket_priority") and (priority := lifecycle.priority_of(after)):
            out.append(lifecycle.event("freshdesk", ext, "priority", at, None, priority=priority))
        elif name in ("responder_id", "group_id", "agent", "group"):
            key = "group" if "group" in name else "assignee"
            out.append(
                lifecycle.event("freshdesk", ext, "assigned", at, None, to_human=bool(after), attributes={key: after})
            )
    for name, value in _FLAG.findall(_CHANGE.sub("", trigger)):
        name = name.lower()
        if name in ("reply_sent", "note_type") and value.strip().lower() != "private":
            out.append(lifecycle.event("freshdesk", ext, "comment", at, None, public=True, actor="agent"))
        elif name in ("customer_reply", "customer_replied"):
            out.append(lifecycle.event("freshdesk", ext, "comment", at, None, public=True, actor="customer"))
        elif name in ("customer_feedback", "satisfaction") and (rating := lifecycle.rating_of(value)):
            out.append(lifecycle.event("freshdesk", ext, "satisfaction", at, None, rating=rating))
    return out if any(e.kind != "created" for e in out) else None
