"""Ticket intake with an API key (role `webhook`), for senders that cannot sign Standard Webhooks.

`POST /intake/tickets` takes the same JSON as `/webhooks/generic`. The `Idempotency-Key` header (else
the ticket's external_id) is the dedupe key, per API key: a resend answers the original ticket id (200).
Tickets get source `api` (no write-back: the sender reads the result at GET /tickets/{id} with an
agent key, or the ticket comes in through its own system's webhook instead).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from api.deps import ServicesDep, WebhookDep
from api.routes.webhooks import intake_writer, parse_json, read_body, store_ticket, validation_detail
from api.schemas import Accepted, GenericTicketIn

router = APIRouter(tags=["webhooks"])


@router.post(
    "/intake/tickets",
    status_code=202,
    response_model=Accepted,
    responses={200: {"model": Accepted, "description": "a resend: the ticket already exists"}},
)
async def intake_ticket(
    request: Request,
    services: ServicesDep,
    who: WebhookDep,
    idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
) -> JSONResponse:
    """A new ticket from a key with the webhook (or admin) role; answered 202 with its id."""
    body = await read_body(request, services.settings.max_body_bytes)
    try:
        incoming = GenericTicketIn.model_validate(parse_json(body))
    except ValidationError as exc:
        raise HTTPException(422, detail={"message": "invalid field(s)", "errors": validation_detail(exc)}) from exc
    # scoped by key, so two senders never dedupe against each other; the intake audit event shows it.
    # Never cut short (two long keys sharing a prefix would dedupe as one): the store hashes an id
    # longer than its column (agent/tickets.py delivery_key).
    delivery_id = f"{who.key_id or who.name}:{idempotency_key or 'external:' + incoming.external_id}"
    # the external id is deduplicated per key too: two senders may both have a ticket "123"
    return await store_ticket(
        services,
        "api",
        delivery_id,
        incoming.model_dump(exclude_none=True),
        external_scope=who.key_id or who.name,
        writer=intake_writer(request),
    )
