"""The shared machinery of the fake ticketing servers: a real HTTP app on loopback (uvicorn in a thread,
random free port) that records every request, injects faults and keeps a little ticket state.

One fake per system lives beside this module (`zendesk`, `jira`, `freshdesk`, `youtrack`; all four in
`tools.ticketing.testing.FAKES`), and the fake PayFlow backend (`tools.actions.testing`) is built on it
too. Each fake checks paths, methods, auth and body shapes the way the real API documents them and
answers with the real API's error body shapes (wrong auth 401, bad body 400/422). Failures can be
injected:

    with FakeZendesk() as zd:
        zd.seed("123", tags=["vip"])
        zd.inject(429, times=2, retry_after="1")     # the next 2 requests answer 429 Retry-After: 1
        zd.inject(503)                               # then one 503
        zd.inject(None, delay_s=2)                   # then one slow (but normal) answer
        zd.inject(None, hold_s=30, path_contains="/tickets/123")  # applied at once, answered 30 s later
                                                     # (a crash between "the system has it" and our record)
        Zendesk(ZendeskConfig(base_url=zd.url, **zd.credentials)).add_note("123", "hi")
        assert zd.accepted("PUT")[-1].body["ticket"]["comment"]["public"] is False

`requests` holds every request received (injected failures and rejections included), `calls` only
those the fake accepted (2xx).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Self

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tools.ticketing.base import RetrySettings, TicketingSystem

JSON = Any

# Retry waits shrunk for tests: backoff in milliseconds, server-asked waits capped at 2 s.
FAST_RETRY = RetrySettings(
    max_attempts=4, max_elapsed_s=5.0, backoff_initial_s=0.01, backoff_max_s=0.05, jitter_s=0.01, max_server_wait_s=2.0
)
Handler = Callable[[Request, JSON], Awaitable[Response] | Response]


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: JSON
    status: int = 0
    at: float = field(default_factory=time.monotonic)


@dataclass
class Fault:
    """One injected answer: `status` None means answer normally (after `delay_s`)."""

    status: int | None = 503
    times: int = 1
    headers: dict[str, str] = field(default_factory=dict[str, str])
    body: JSON = None
    delay_s: float = 0.0
    path_contains: str | None = None
    hold_s: float = 0.0  # after the request was applied: wait this long before answering
    method: str | None = None


class FakeServer:
    """Common machinery: uvicorn on 127.0.0.1 (random free port) in a thread, recording, faults."""

    system = "fake"

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.tickets: dict[str, dict[str, Any]] = {}
        self._faults: deque[Fault] = deque()
        self._lock = threading.Lock()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # -- to override ------------------------------------------------------------------------
    def routes(self) -> list[Route]:
        raise NotImplementedError

    def authorised(self, request: Request) -> bool:
        raise NotImplementedError

    def unauthorised(self) -> Response:
        return JSONResponse({"error": "Unauthorized"}, status_code=401)

    def not_found(self, ticket_id: str) -> Response:
        return JSONResponse({"error": "Not found", "id": ticket_id}, status_code=404)

    def new_ticket(self, ticket_id: str) -> dict[str, Any]:
        return {"id": ticket_id, "comments": [], "tags": []}

    @property
    def credentials(self) -> dict[str, str]:
        """Config fields that authenticate against this fake (merge into the system's config)."""
        raise NotImplementedError

    def config_values(self, **overrides: Any) -> dict[str, Any]:
        """Config fields for an adapter pointed at this fake, with FAST_RETRY waits."""
        return {"base_url": self.url, "timeout_s": 3.0, "retry": FAST_RETRY, **self.credentials, **overrides}

    def adapter(self, **overrides: Any) -> TicketingSystem:
        """The real adapter for this system, configured against this fake."""
        raise NotImplementedError

    # -- test API -------------------------------------------------------------------------------
    def seed(self, ticket_id: str, **fields: Any) -> dict[str, Any]:
        ticket = {**self.new_ticket(ticket_id), **fields}
        self.tickets[ticket_id] = ticket
        return ticket

    def inject(
        self,
        status: int | None = 503,
        *,
        times: int = 1,
        retry_after: str | None = None,
        headers: dict[str, str] | None = None,
        body: JSON = None,
        delay_s: float = 0.0,
        path_contains: str | None = None,
        hold_s: float = 0.0,
        method: str | None = None,
    ) -> None:
        """The next `times` matching requests answer `status` (None: normally, after `delay_s`; with
        `hold_s`, applied at once and answered `hold_s` later). `method` narrows the match (e.g. POST)."""
        hdrs = dict(headers or {})
        if retry_after is not None:
            hdrs["Retry-After"] = retry_after
        with self._lock:
            self._faults.append(Fault(status, times, hdrs, body, delay_s, path_contains, hold_s, method))

    @property
    def calls(self) -> list[Recorded]:
        return [r for r in self.requests if 200 <= r.status < 300]

    def accepted(self, method: str | None = None, path_contains: str = "") -> list[Recorded]:
        return [r for r in self.calls if (method is None or r.method == method) and path_contains in r.path]

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self._faults.clear()

    # -- serving ----------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def app(self) -> Starlette:
        return Starlette(routes=self.routes())

    def start(self) -> Self:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = int(sock.getsockname()[1])
        config = uvicorn.Config(self.app(), log_level="warning", lifespan="off", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"fake {self.system} server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # -- request plumbing -------------------------------------------------------------------------
    def _take_fault(self, path: str, method: str = "") -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if (fault.path_contains is None or fault.path_contains in path) and (
                    fault.method is None or fault.method == method
                ):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def endpoint(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            raw = await request.body()
            try:
                body: JSON = json.loads(raw) if raw else None
                bad_json = False
            except (json.JSONDecodeError, UnicodeDecodeError):
                body, bad_json = raw.decode("utf-8", "replace"), True
            record = Recorded(request.method, request.url.path, dict(request.query_params), dict(request.headers), body)
            with self._lock:
                self.requests.append(record)
            response = await self._answer(request, handler, body, bad_json)
            record.status = response.status_code
            return response

        return run

    async def _answer(self, request: Request, handler: Handler, body: JSON, bad_json: bool) -> Response:
        fault = self._take_fault(request.url.path, request.method)
        if fault is not None:
            if fault.delay_s:
                await asyncio.sleep(fault.delay_s)
            if fault.status is not None:
                payload = fault.body if fault.body is not None else {"error": f"injected {fault.status}"}
                return JSONResponse(payload, status_code=fault.status, headers=fault.headers)
        if not self.authorised(request):
            return self.unauthorised()
        if request.method in ("POST", "PUT"):
            ctype = request.headers.get("content-type", "")
            if bad_json or not ctype.startswith("application/json"):
                return self.bad_request("body must be JSON with Content-Type: application/json")
        result = handler(request, body)
        response = await result if isinstance(result, Awaitable) else result
        if fault is not None and fault.hold_s:
            await asyncio.sleep(fault.hold_s)
        return response

    def page_params(self, request: Request, size_key: str, default: int = 100) -> int:
        """A page size from the query (clamped to 1..100, as the real APIs do)."""
        try:
            return max(1, min(100, int(request.query_params.get(size_key, default))))
        except ValueError:
            return default

    def bad_request(self, message: str, field_name: str = "") -> Response:
        return JSONResponse({"error": message, "field": field_name}, status_code=400)

    def ticket(self, ticket_id: str) -> dict[str, Any] | None:
        return self.tickets.get(ticket_id)


def basic_credentials(request: Request) -> tuple[str, str] | None:
    """(user, password) of an `Authorization: Basic` header; None when absent or malformed."""
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:].strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, password


def is_str_list(value: object) -> bool:
    """A list of strings (a JSON body field)."""
    return isinstance(value, list) and all(isinstance(v, str) for v in value)  # pyright: ignore[reportUnknownVariableType]
