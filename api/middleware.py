"""Small ASGI middleware: bounds on request headers and URLs, and security headers on responses.

Pure ASGI (no BaseHTTPMiddleware), so request and response bodies stream through untouched.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agent.metrics import count_intake_source, intake_source

# what every response carries: no MIME sniffing, no Referer leaving the service
COMMON_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}

# The review page (api/static/review/) loads one script and one style sheet from its own origin and
# calls the API on it; no inline script or style, nothing from elsewhere, never framed.
REVIEW_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
REVIEW_HEADERS = {**COMMON_HEADERS, "Content-Security-Policy": REVIEW_CSP, "X-Frame-Options": "DENY"}


async def _refuse(send: Send, status: int, error: str, detail: str) -> None:
    """Answer in the app's error shape without reading the request body (so the connection closes)."""
    body = json.dumps({"error": error, "detail": detail}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class RequestLimits:
    """Refuse, before any route sees it, a request whose headers (names + values, plus 4 bytes a line
    for ': ' and CRLF) add up to more than `max_bytes` (431), or whose path or query holds a NUL
    character (%00; 400: no id or filter has one, and PostgreSQL refuses NUL in text)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            size = sum(len(name) + len(value) + 4 for name, value in scope["headers"])
            if size > self.max_bytes:
                detail = (
                    f"the request headers are {size} bytes; the limit is {self.max_bytes} "
                    "(TRIAGE_MAX_HEADER_BYTES): send fewer or shorter headers"
                )
                await _refuse(send, 431, "headers_too_large", detail)
                return
            if "\x00" in scope["path"] or b"%00" in scope["query_string"]:
                await _refuse(send, 400, "bad_request", "the URL holds a NUL character (%00); no path or query has one")
                return
        await self.app(scope, receive, send)


class ResponseHeaders:
    """Add `headers` to every HTTP response of `app` that does not set them itself."""

    def __init__(self, app: ASGIApp, headers: Mapping[str, str]) -> None:
        self.app = app
        self.headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers += [(k, v) for k, v in self.headers if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class StaticFilesWithHeaders(StaticFiles):
    """StaticFiles whose responses carry `headers` (still a StaticFiles, for whoever looks for one)."""

    def __init__(self, *, headers: Mapping[str, str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._with_headers = ResponseHeaders(super().__call__, headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._with_headers(scope, receive, send)


class IntakeMetrics:
    """Count every intake request (webhooks and /intake/tickets) by source and result, from the status
    the app answered with, including the ones refused before a route ran (agent/metrics.py)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        source = intake_source(scope.get("path", "")) if scope["type"] == "http" else None
        if source is None:
            await self.app(scope, receive, send)
            return
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            count_intake_source(source, status)
