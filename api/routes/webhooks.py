"""Webhook intake: verify, parse, normalise, dedupe, store, answer 202. Nothing else on this path.

`/webhooks/generic` takes Standard Webhooks deliveries of our own ticket JSON (or of lifecycle events:
a body with `kind`, or `events`); `/webhooks/{zendesk|jira|freshdesk|youtrack}` take each system's own
webhooks (api/providers/): "created" makes a ticket, an update (status, comment, reassignment,
priority, satisfaction) is stored as lifecycle events (agent/storage/events.py) for the KPIs, once.
"""

from __future__ import annotations

import inspect
import json
import math
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from itertools import accumulate
from typing import Any, cast

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, SecretStr, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from agent.domain import TicketEvent, utcnow
from agent.settings import Settings
from agent.storage.events import EventStore
from agent.storage.intake_batch import IntakeWriter, Pending, store_one
from agent.storage.tickets import prepare_ticket
from api.deps import Services
from api.providers import Intake, Parser, PayloadError, freshdesk, jira, lifecycle, youtrack, zendesk
from api.schemas import Accepted, GenericTicketIn, Ignored
from tools.signing import SignatureError, check_token, verify_hub, verify_standard, verify_zendesk

router = APIRouter(tags=["webhooks"])


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refusing (413) anything over `limit` bytes without reading it all."""
    declared = (request.headers.get("content-length") or "").strip()
    # ASCII digits only ('²'.isdigit() is true), and no int() of thousands of digits (a ValueError)
    if declared.isascii() and declared.isdigit() and (len(declared) > 18 or int(declared) > limit):
        size = declared if len(declared) <= 18 else f"a {len(declared)}-digit number of"
        raise HTTPException(413, detail=f"body is {size} bytes; the limit is {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, detail=f"body exceeds the {limit}-byte limit")
        chunks.append(chunk)
    return b"".join(chunks)


# Limits on what a JSON body may hold, checked before (depth) or while (numbers) it is parsed, so that
# nothing absurd reaches json's recursion, int()'s 4300-digit guard or the database.
MAX_JSON_DEPTH = 100  # nested arrays/objects; a Jira ADF description nests ~4 levels per list level
MAX_NUMBER_CHARS = 100  # characters of one number literal (a 64-bit id has 20)

# a JSON string, or an unterminated one up to the end: never fails once it starts at a quote, and
# never backtracks (possessive), so the scan is linear whatever the body holds
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*+"?', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_DEPTH_STEP = [0] * 256
for _b in b"[{":
    _DEPTH_STEP[_b] = 1
for _b in b"]}":
    _DEPTH_STEP[_b] = -1
# text PostgreSQL cannot store (NUL) or no encoder can write (a lone UTF-16 surrogate, e.g. an emoji cut
# in half by a sender's truncation); replaced by U+FFFD, the Unicode replacement character
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")


class _Refused(ValueError):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def json_depth(body: bytes) -> int:
    """How deep arrays/objects nest in a JSON text (brackets inside strings do not count), in linear
    time without recursion, so it is safe on any input. Exact for valid JSON; for invalid JSON never
    less than the depth json.loads would reach before it finds the error."""
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    return max(accumulate(_DEPTH_STEP[b] for b in brackets), default=0)


def _number_text(text: str) -> None:
    if len(text) > MAX_NUMBER_CHARS:
        raise _Refused(
            422,
            f"body holds a number {len(text)} characters long; at most {MAX_NUMBER_CHARS} are accepted "
            "(send long ids as strings)",
        )


def _int(text: str) -> int:
    _number_text(text)
    return int(text)


def _float(text: str) -> float:
    _number_text(text)
    value = float(text)
    if math.isinf(value):
        raise _Refused(422, f"body holds the number {text}, beyond the range of a 64-bit float (about 1.8e308)")
    return value


def _constant(name: str) -> object:
    raise _Refused(400, f"body is not valid JSON: {name} is not a JSON number (RFC 8259)")


def _clean(value: object) -> object:
    """The parsed body with every unstorable character in strings (keys too) replaced by U+FFFD.
    Depth is bounded by MAX_JSON_DEPTH, so the recursion is too."""
    if isinstance(value, str):
        return _UNSTORABLE.sub("\ufffd", value) if _UNSTORABLE.search(value) else value
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    return value


def parse_json(body: bytes) -> dict[str, object]:
    """The body as a JSON object: 400 when it is not JSON (or not an object), 422 when it is JSON
    beyond our limits (nesting over MAX_JSON_DEPTH, a number over MAX_NUMBER_CHARS characters or out
    of float range). NUL characters and lone surrogates in strings become U+FFFD."""
    try:
        text = body.decode("utf-8-sig")  # JSON is UTF-8 (RFC 8259); a byte order mark is tolerated
    except UnicodeDecodeError as exc:
        raise HTTPException(400, detail=f"body is not valid JSON: it is not UTF-8 text ({exc})") from exc
    # scanning the bytes is safe now: UTF-8 never puts a quote, backslash or bracket inside a character.
    # A body with no more opening brackets than the limit (the usual case, counted in C) cannot nest deeper.
    depth = json_depth(body) if body.count(b"[") + body.count(b"{") > MAX_JSON_DEPTH else 0
    if depth > MAX_JSON_DEPTH:
        raise HTTPException(
            422, detail=f"body nests arrays/objects {depth} levels deep; at most {MAX_JSON_DEPTH} are accepted"
        )
    try:
        data = json.loads(text, parse_int=_int, parse_float=_float, parse_constant=_constant)
    except _Refused as exc:
        raise HTTPException(exc.status, detail=exc.detail) from exc
    except json.JSONDecodeError as exc:
        raise HTTPException(400, detail=f"body is not valid JSON: {exc}") from exc
    except RecursionError as exc:  # not reachable after json_depth; kept so it can never become a 500
        raise HTTPException(422, detail=f"body nests too deeply; at most {MAX_JSON_DEPTH} levels") from exc
    if not isinstance(data, dict):
        raise HTTPException(400, detail="body must be a JSON object")
    if "\\u" not in text:  # valid UTF-8 holds no surrogate and JSON no raw NUL: only a \u escape makes one
        return cast(dict[str, object], data)
    return cast(dict[str, object], _clean(data))


def validation_detail(exc: ValidationError) -> list[dict[str, str]]:
    return [{"field": ".".join(map(str, e["loc"])), "problem": e["msg"]} for e in exc.errors()]


@router.post(
    "/webhooks/generic",
    status_code=202,
    response_model=Accepted,
    responses={200: {"model": Accepted, "description": "redelivery: the ticket already exists"}},
)
async def generic_webhook(request: Request) -> JSONResponse:
    """Standard Webhooks delivery (webhook-id / webhook-timestamp / webhook-signature)."""
    services = app_services(request)
    s = services.settings
    body = await read_body(request, s.max_body_bytes)
    if s.webhook_secret is None:
        raise HTTPException(503, detail="TRIAGE_WEBHOOK_SECRET is not configured; run `triage init`")
    try:
        delivery_id = verify_standard(s.webhook_secret.get_secret_value(), request.headers, body, s.webhook_tolerance_s)
    except SignatureError as exc:
        raise HTTPException(401, detail=str(exc)) from exc
    data = parse_json(body)
    if lifecycle.is_generic_event(data):
        try:
            events = lifecycle.generic_events(data, delivery_id, utcnow())
        except ValidationError as exc:
            raise _invalid(validation_detail(exc)) from exc
        return await store_events(services, events)
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
    return await store_ticket(
        services, "generic", delivery_id, incoming.model_dump(exclude_none=True), writer=intake_writer(request)
    )


def app_services(request: Request) -> Services:
    """The app's services, read directly rather than through a FastAPI dependency: the signed intake
    routes take nothing else, and resolving a dependency costs FastAPI ~0.15 ms of CPU per request
    (its cache key unwraps the callable every time), about a tenth of an intake request."""
    return request.app.state.services


def intake_writer(request: Request) -> IntakeWriter | None:
    """This app's group-commit writer (api/app.py starts it), None outside a running app."""
    return getattr(request.app.state, "intake", None)


async def store_ticket(
    services: Services,
    source: str,
    delivery_id: str,
    fields: dict[str, Any],
    *,
    external_scope: str = "",
    writer: IntakeWriter | None = None,
) -> JSONResponse:
    """Create the ticket (202) or, for a redelivery, answer the original ticket id (200), once the
    transaction that stored (or found) it has committed. `external_scope`: whose external ids these
    are, when one source has several senders (API keys). With `writer` the ticket shares a transaction
    with the other deliveries in flight (agent/storage/intake_batch.py); the ticket, its audit event
    and its lifecycle `created` event (the ticket's own created time, else our receipt; for the KPIs)
    are stored together either way."""
    new = prepare_ticket(source, delivery_id, fields, external_scope=external_scope)
    item = Pending(new, lifecycle.created_from_fields(source, new.ticket_id, fields, new.received_at))
    if writer is not None:
        ticket_id, created = await writer.submit(item)
    else:
        ticket_id, created = await run_in_threadpool(store_one, services.store, item)
    if created and services.worker is not None:
        services.worker.notify()
    # Accepted's shape, without building the model (the route's response_model documents it)
    return JSONResponse({"ticket_id": ticket_id, "duplicate": not created}, status_code=202 if created else 200)


class EventsAccepted(BaseModel):
    """Lifecycle events stored (202), or all of them already stored before (200, a redelivery)."""

    events: int  # in the delivery
    new: int  # stored now (the rest were stored before)
    duplicate: bool
    tickets: list[str]  # the external ids they belong to


async def store_events(services: Services, events: list[TicketEvent]) -> JSONResponse:
    flags = await run_in_threadpool(EventStore(services.store).record, events)
    new = sum(flags)
    out = EventsAccepted(
        events=len(events), new=new, duplicate=new == 0, tickets=sorted({e.external_id for e in events})
    )
    return JSONResponse(out.model_dump(), status_code=202 if new else 200)


# ---- ticketing systems -------------------------------------------------------------------------

Verifier = Callable[[Settings, str, Mapping[str, str], bytes], None]
EventParser = Callable[[dict[str, Any], Mapping[str, str], datetime], list[TicketEvent] | None]


@dataclass(frozen=True)
class Provider:
    parse: Parser
    verify: Verifier
    secret: Callable[[Settings], str | None]
    unconfigured: str  # the 503 detail: which setting, and where its value comes from
    events: EventParser  # lifecycle updates (None: not one we read)


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


PROVIDERS: dict[str, Provider] = {
    "zendesk": Provider(
        zendesk.parse,
        lambda s, secret, h, b: verify_zendesk(secret, h, b, s.zendesk_tolerance_s),
        lambda s: _secret(s.zendesk_webhook_secret),
        "TRIAGE_ZENDESK_WEBHOOK_SECRET is not configured: copy the webhook's signing secret from Zendesk "
        "(Admin Center > Apps and integrations > Webhooks > your webhook > Signing secret > Reveal secret)",
        zendesk.parse_events,
    ),
    "jira": Provider(
        jira.parse,
        lambda _s, secret, h, b: verify_hub(secret, h, b),
        lambda s: _secret(s.jira_webhook_secret),
        "TRIAGE_JIRA_WEBHOOK_SECRET is not configured: set it to the Secret of the Jira webhook "
        "(Jira settings > System > WebHooks > your webhook > Secret)",
        jira.parse_events,
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
        freshdesk.parse_events,
    ),
    "youtrack": Provider(
        youtrack.parse,
        lambda s, secret, h, _b: check_token(
            h, s.youtrack_token_header, secret, env_name="TRIAGE_YOUTRACK_WEBHOOK_TOKEN"
        ),
        lambda s: _secret(s.youtrack_webhook_token),
        "TRIAGE_YOUTRACK_WEBHOOK_TOKEN is not configured: set it to the webhook token of the YouTrack "
        "Webhook Triggers app (Administration > Apps > Webhook Triggers > Settings)",
        youtrack.parse_events,
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
            "description": "a redelivery (the original ticket id or, for lifecycle events, {events, new: 0, "
            "duplicate: true}); or, for an event we do not read, {ignored: true, event, detail}",
        },
        404: {"description": "unknown provider"},
    },
)
async def provider_webhook(provider: str, request: Request) -> JSONResponse:
    """A ticketing system's own webhook: zendesk, jira, freshdesk or youtrack (README: what to configure)."""
    spec = PROVIDERS.get(provider)
    if spec is None:
        known = ", ".join(["generic", *PROVIDERS])
        raise HTTPException(404, detail=f"unknown webhook provider {provider!r}; known: {known}")
    services = app_services(request)
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
        try:
            events = spec.events(data, request.headers, utcnow())
        except ValidationError as exc:
            raise _invalid(validation_detail(exc)) from exc
        except PayloadError as exc:
            raise _invalid([{"field": exc.field, "problem": exc.problem}]) from exc
        if events:
            return await store_events(services, events)
        reason = f"{parsed.reason}, and it is no lifecycle update this service reads"
        return JSONResponse(
            Ignored(event=parsed.event, detail=f"accepted and ignored: {reason}").model_dump(), status_code=200
        )
    try:
        fields = GenericTicketIn.model_validate(parsed.fields).model_dump(exclude_none=True)
    except ValidationError as exc:
        problems = validation_detail(exc)
        for p in problems:
            head, _, rest = p["field"].partition(".")
            p["field"] = parsed.sources.get(head, head) + (f".{rest}" if rest else "")
        raise _invalid(problems) from exc
    return await store_ticket(services, provider, parsed.delivery_id, fields, writer=intake_writer(request))


# ---- the fast path ------------------------------------------------------------------------------

_PROVIDER_PREFIX = "/webhooks/"


class SignedIntakeRoutes:
    """Pure ASGI: `POST /webhooks/generic` and `POST /webhooks/{provider}` handed straight to their
    handlers above, in front of FastAPI's router (api/app.py adds it inside our other middleware, so
    the header limits, security headers and intake counters still apply). The routes stay declared
    on `router` (OpenAPI, the role test) and FastAPI still answers every other path and method.

    Why: these routes take no FastAPI dependency or parameter validation (the signature is checked in
    the handler), yet FastAPI's routing, dependency solving and exception middleware cost about as
    much CPU as the handler itself (~0.1 ms a request). An HTTPException a handler raises is answered
    by the app's own handler for it (the same `{"error", "detail"}` shape); any other exception
    propagates to Starlette's ServerErrorMiddleware exactly as before."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        path = get_route_path(scope)
        if path == "/webhooks/generic":
            handler: Callable[[Request], Awaitable[Response]] = generic_webhook
        elif path.startswith(_PROVIDER_PREFIX) and "/" not in (name := path[len(_PROVIDER_PREFIX) :]) and name:
            handler = partial(provider_webhook, name)
        else:
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive, send)
        try:
            response = await handler(request)
        except StarletteHTTPException as exc:
            response = await _handled(request, exc)
        await response(scope, receive, send)


async def _handled(request: Request, exc: StarletteHTTPException) -> Response:
    """The response the app's exception handler for `exc` gives (as Starlette's ExceptionMiddleware
    would look it up: by status code, then by class along the MRO)."""
    handlers: Mapping[Any, Callable[..., Any]] = getattr(request.app, "exception_handlers", {})
    handler = handlers.get(exc.status_code)
    if handler is None:
        handler = next((handlers[c] for c in type(exc).__mro__ if c in handlers), None)
    if handler is None:
        raise exc
    response = handler(request, exc)
    return await response if inspect.isawaitable(response) else response


def get_route_path(scope: Scope) -> str:
    """The path a route matches against: `scope["path"]` without the app's `root_path` (as Starlette's
    router computes it)."""
    path: str = scope["path"]
    root = scope.get("root_path", "")
    if not root or not path.startswith(root):
        return path
    if path == root:
        return ""
    return path[len(root) :] if path[len(root)] == "/" else path
