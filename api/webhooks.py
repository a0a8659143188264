"""Webhook intake: verify, parse, normalise, dedupe, store, answer 202. Nothing else on this path.

`/webhooks/generic` takes Standard Webhooks deliveries of our own ticket JSON;
`/webhooks/{zendesk|jira|freshdesk|youtrack}` take each system's own webhooks (api/providers/).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import SecretStr, ValidationError

from agent.settings import Settings
from api.auth import SignatureError, check_token, verify_hub, verify_standard, verify_zendesk
from api.deps import Services, ServicesDep
from api.providers import Intake, Parser, PayloadError, freshdesk, jira, youtrack, zendesk
from api.schemas import Accepted, GenericTicketIn, Ignored

router = APIRouter(tags=["webhooks"])


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refusing (413) anything over `limit` bytes without reading it all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, detail=f"body is {declared} bytes; the limit is {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, detail=f"body exceeds the {limit}-byte limit")
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json(body: bytes) -> dict[str, object]:
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise HTTPException(400, detail=f"body is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise HTTPException(400, detail="body must be a JSON object")
    return data


def validation_detail(exc: ValidationError) -> list[dict[str, str]]:
    return [{"field": ".".join(map(str, e["loc"])), "problem": e["msg"]} for e in exc.errors()]


@router.post(
    "/webhooks/generic",
    status_code=202,
    response_model=Accepted,
    responses={200: {"model": Accepted, "description": "redelivery: the ticket already exists"}},
)
async def generic_webhook(request: Request, services: ServicesDep) -> JSONResponse:
    """Standard Webhooks delivery (webhook-id / webhook-timestamp / webhook-signature)."""
    s = services.settings
    body = await read_body(request, s.max_body_bytes)
    if s.webhook_secret is None:
        raise HTTPException(503, detail="TRIAGE_WEBHOOK_SECRET is not configured; run `triage init`")
    try:
        delivery_id = verify_standard(s.webhook_secret.get_secret_value(), request.headers, body, s.webhook_tolerance_s)
    except SignatureError as exc:
        raise HTTPException(401, detail=str(exc)) from exc
    data = parse_json(body)
    try:
        incoming = GenericTicketIn.model_validate(data)
    except ValidationError as exc:
        missing = [d["field"] for d in validation_detail(exc) if d["problem"] == "Field required"]
        raise HTTPException(
            422,
            detail={
                "message": "missing field(s): " + ", ".join(missing) if missing else "invalid field(s)",
                "errors": validation_detail(exc),
            },
        ) from exc
    return await store_ticket(services, "generic", delivery_id, incoming.model_dump(exclude_none=True))


async def store_ticket(services: Services, source: str, delivery_id: str, fields: dict[str, Any]) -> JSONResponse:
    """Create the ticket (202) or, for a redelivery, answer the original ticket id (200)."""
    ticket_id, created = await run_in_threadpool(services.store.create_or_get, source, delivery_id, fields)
    if created and services.worker is not None:
        services.worker.notify()
    return JSONResponse(
        Accepted(ticket_id=ticket_id, duplicate=not created).model_dump(), status_code=202 if created else 200
    )


# ---- ticketing systems -------------------------------------------------------------------------

Verifier = Callable[[Settings, str, Mapping[str, str], bytes], None]


@dataclass(frozen=True)
class Provider:
    parse: Parser
    verify: Verifier
    secret: Callable[[Settings], str | None]
    unconfigured: str  # the 503 detail: which setting, and where its value comes from


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


PROVIDERS: dict[str, Provider] = {
    "zendesk": Provider(
        zendesk.parse,
        lambda s, secret, h, b: verify_zendesk(secret, h, b, s.zendesk_tolerance_s),
        lambda s: _secret(s.zendesk_webhook_secret),
        "TRIAGE_ZENDESK_WEBHOOK_SECRET is not configured: copy the webhook's signing secret from Zendesk "
        "(Admin Center > Apps and integrations > Webhooks > your webhook > Signing secret > Reveal secret)",
    ),
    "jira": Provider(
        jira.parse,
        lambda _s, secret, h, b: verify_hub(secret, h, b),
        lambda s: _secret(s.jira_webhook_secret),
        "TRIAGE_JIRA_WEBHOOK_SECRET is not configured: set it to the Secret of the Jira webhook "
        "(Jira settings > System > WebHooks > your webhook > Secret)",
    ),
    "freshdesk": Provider(
        freshdesk.parse,
        lambda s, secret, h, _b: check_token(
            h, s.freshdesk_token_header, secret, allow_basic=True, env_name="TRIAGE_FRESHDESK_WEBHOOK_TOKEN"
        ),
        lambda s: _secret(s.freshdesk_webhook_token),
        "TRIAGE_FRESHDESK_WEBHOOK_TOKEN is not configured: set a random token (e.g. `openssl rand -hex 32`) "
        "and send it from the Freshdesk rule in the header named by TRIAGE_FRESHDESK_TOKEN_HEADER (default "
        "X-Triage-Token)",
    ),
    "youtrack": Provider(
        youtrack.parse,
        lambda s, secret, h, _b: check_token(
            h, s.youtrack_token_header, secret, env_name="TRIAGE_YOUTRACK_WEBHOOK_TOKEN"
        ),
        lambda s: _secret(s.youtrack_webhook_token),
        "TRIAGE_YOUTRACK_WEBHOOK_TOKEN is not configured: set it to the webhook token of the YouTrack "
        "Webhook Triggers app (Administration > Apps > Webhook Triggers > Settings)",
    ),
}


def _invalid(problems: list[dict[str, str]]) -> HTTPException:
    fields = sorted({p["field"] for p in problems})
    return HTTPException(
        422, detail={"message": "invalid or missing field(s): " + ", ".join(fields), "errors": problems}
    )


@router.post(
    "/webhooks/{provider}",
    status_code=202,
    response_model=Accepted,
    responses={
        200: {
            "model": Accepted,
            "description": "a redelivery (the original ticket id); or, for an event that creates no ticket "
            "(e.g. an update), {ignored: true, event, detail}",
        },
        404: {"description": "unknown provider"},
    },
)
async def provider_webhook(provider: str, request: Request, services: ServicesDep) -> JSONResponse:
    """A ticketing system's own webhook: zendesk, jira, freshdesk or youtrack (README: what to configure)."""
    spec = PROVIDERS.get(provider)
    if spec is None:
        known = ", ".join(["generic", *PROVIDERS])
        raise HTTPException(404, detail=f"unknown webhook provider {provider!r}; known: {known}")
    s = services.settings
    body = await read_body(request, s.max_body_bytes)
    secret = spec.secret(s)
    if not secret:
        raise HTTPException(503, detail=spec.unconfigured)
    try:
        spec.verify(s, secret, request.headers, body)
    except SignatureError as exc:
        raise HTTPException(401, detail=str(exc)) from exc
    data = parse_json(body)
    try:
        parsed = spec.parse(data, request.headers)
    except ValidationError as exc:
        raise _invalid(validation_detail(exc)) from exc
    except PayloadError as exc:
        raise _invalid([{"field": exc.field, "problem": exc.problem}]) from exc
    if not isinstance(parsed, Intake):
        return JSONResponse(
            Ignored(event=parsed.event, detail=f"accepted and ignored: {parsed.reason}").model_dump(), status_code=200
        )
    try:
        fields = GenericTicketIn.model_validate(parsed.fields).model_dump(exclude_none=True)
    except ValidationError as exc:
        problems = validation_detail(exc)
        for p in problems:
            head, _, rest = p["field"].partition(".")
            p["field"] = parsed.sources.get(head, head) + (f".{rest}" if rest else "")
        raise _invalid(problems) from exc
    return await store_ticket(services, provider, parsed.delivery_id, fields)
