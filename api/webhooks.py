"""Webhook intake: verify, parse, normalise, dedupe, store, answer 202. Nothing else on this path."""

from __future__ import annotations

import json

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from api.auth import SignatureError, verify_standard
from api.deps import ServicesDep
from api.schemas import Accepted, GenericTicketIn

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
    fields = incoming.model_dump(exclude_none=True)
    ticket_id, created = await run_in_threadpool(services.store.create_or_get, "generic", delivery_id, fields)
    if created and services.worker is not None:
        services.worker.notify()
    return JSONResponse(
        Accepted(ticket_id=ticket_id, duplicate=not created).model_dump(), status_code=202 if created else 200
    )
