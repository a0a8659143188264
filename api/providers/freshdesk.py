"""Freshdesk: automation-rule webhooks ("Trigger webhook") with the JSON body from the README.

Freshdesk neither signs webhooks nor sends a delivery id: the rule sends a shared token header
(checked in api/auth.py) and we dedupe on the ticket id and the event named in the body.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from api.providers import Intake, Skip, require_text, ticket_fields
from api.schemas import FreshdeskWebhookIn

CREATED = frozenset({"ticket_created", "ticket.created"})
SOURCES = {
    "external_id": "ticket_id",
    "subject": "subject",
    "body": "description",
    "requester": "requester",
    "customer": "company",
    "language": "language",
    "product": "product",
}


def parse(data: dict[str, Any], headers: Mapping[str, str]) -> Intake | Skip:
    kind = data.get("event", "ticket_created")
    if isinstance(kind, str) and kind not in CREATED:
        return Skip(kind, "only a ticket_created rule body creates a ticket")
    hook = FreshdeskWebhookIn.model_validate(data)
    require_text(hook.subject, hook.description, "description")
    fields = ticket_fields(
        hook.ticket_id,
        hook.subject,
        hook.description,
        requester=hook.requester,
        customer={"name": hook.company, "tier": hook.tier},
        language=hook.language,
        product=hook.product,
    )
    return Intake(f"{hook.ticket_id}:{hook.event}", fields, SOURCES)
