"""Fake Zendesk, Jira, Freshdesk and YouTrack servers: real HTTP apps on loopback, for tests and demos.

Each one checks paths, methods, auth and body shapes the way the real API documents them, answers
with the real API's error body shapes (wrong auth 401, bad body 400/422), keeps a little ticket
state (comments, priority, tags, ...) and records every request. Failures can be injected:

    with FakeZendesk() as zd:
        zd.seed("123", tags=["vip"])
        zd.inject(429, times=2, retry_after="1")     # the next 2 requests answer 429 Retry-After: 1
        zd.inject(503)                               # then one 503
        zd.inject(None, delay_s=2)                   # then one slow (but normal) answer
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
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Self

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tools.ticketing.adf import adf_to_text
from tools.ticketing.base import (
    FreshdeskConfig,
    JiraConfig,
    RetrySettings,
    TicketingSystem,
    YouTrackConfig,
    ZendeskConfig,
)
from tools.ticketing.freshdesk import Freshdesk
from tools.ticketing.jira import Jira
from tools.ticketing.youtrack import YouTrack
from tools.ticketing.zendesk import Zendesk

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
    ) -> None:
        """The next `times` matching requests answer `status` (None: normally, after `delay_s`)."""
        hdrs = dict(headers or {})
        if retry_after is not None:
            hdrs["Retry-After"] = retry_after
        with self._lock:
            self._faults.append(Fault(status, times, hdrs, body, delay_s, path_contains))

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
    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.path_contains is None or fault.path_contains in path:
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
        fault = self._take_fault(request.url.path)
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
        return await result if isinstance(result, Awaitable) else result

    def bad_request(self, message: str, field_name: str = "") -> Response:
        return JSONResponse({"error": message, "field": field_name}, status_code=400)

    def ticket(self, ticket_id: str) -> dict[str, Any] | None:
        return self.tickets.get(ticket_id)


def _basic(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:].strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, password


def _strs(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)  # pyright: ignore[reportUnknownVariableType]


# ================================================================================================
class FakeZendesk(FakeServer):
    """Zendesk Support: `PUT /api/v2/tickets/{id}[.json]` with `{"ticket": {...}}`, `GET` the same."""

    system = "zendesk"
    PRIORITIES = ("low", "normal", "high", "urgent")
    STATUSES = ("new", "open", "pending", "hold", "solved", "closed")
    FIELDS = frozenset({"comment", "priority", "status", "group_id", "assignee_id", "additional_tags", "tags",
                        "remove_tags", "subject", "type"})  # fmt: skip

    def __init__(self, email: str = "agent@example.com", token: str = "zd-test-token") -> None:
        super().__init__()
        self.email, self.token = email, token
        self.group_ids: set[int] | None = None  # None: any group id exists
        self._audit = 1000

    def adapter(self, **overrides: Any) -> Zendesk:
        return Zendesk(ZendeskConfig.model_validate(self.config_values(**overrides)))

    @property
    def credentials(self) -> dict[str, str]:
        return {"email": self.email, "api_token": self.token}

    def new_ticket(self, ticket_id: str) -> dict[str, Any]:
        return {"id": int(ticket_id), "priority": None, "status": "new", "group_id": None, "assignee_id": None,
                "tags": [], "comments": []}  # fmt: skip

    def routes(self) -> list[Route]:
        return [
            Route("/api/v2/tickets/{ticket_id}", self.endpoint(self.update), methods=["PUT"]),
            Route("/api/v2/tickets/{ticket_id}", self.endpoint(self.show), methods=["GET"]),
        ]

    def authorised(self, request: Request) -> bool:
        return _basic(request) == (f"{self.email}/token", self.token)

    def unauthorised(self) -> Response:
        return JSONResponse({"error": "Couldn't authenticate you"}, status_code=401)

    def not_found(self, ticket_id: str) -> Response:
        return JSONResponse({"error": "RecordNotFound", "description": "Not found"}, status_code=404)

    def bad_request(self, message: str, field_name: str = "") -> Response:
        return JSONResponse({"error": "InvalidEndpoint" if not field_name else "RecordInvalid",
                             "description": message}, status_code=400)  # fmt: skip

    def invalid(self, field_name: str, message: str) -> Response:
        return JSONResponse(
            {"error": "RecordInvalid", "description": "Record validation errors",
             "details": {field_name: [{"description": message, "error": "InvalidValue"}]}},
            status_code=422,
        )  # fmt: skip

    def show(self, request: Request, body: JSON) -> Response:
        tid = request.path_params["ticket_id"].removesuffix(".json")
        ticket = self.ticket(tid)
        return JSONResponse({"ticket": ticket}) if ticket else self.not_found(tid)

    def update(self, request: Request, body: JSON) -> Response:
        tid = request.path_params["ticket_id"].removesuffix(".json")
        ticket = self.ticket(tid)
        if ticket is None:
            return self.not_found(tid)
        if not isinstance(body, dict) or not isinstance(body.get("ticket"), dict):
            return self.bad_request('the body must be {"ticket": {...}}')
        t: dict[str, Any] = body["ticket"]
        unknown = set(t) - self.FIELDS
        if unknown:
            return self.invalid(sorted(unknown)[0], "is not a ticket field this fake knows")
        if "comment" in t:
            c = t["comment"]
            if not isinstance(c, dict) or not isinstance(c.get("body") or c.get("html_body"), str):
                return self.invalid("comment", "Comment: body can't be blank")
            if "public" in c and not isinstance(c["public"], bool):
                return self.invalid("comment", "Comment: public must be true or false")
        if "priority" in t and t["priority"] not in self.PRIORITIES:
            return self.invalid("priority", f"Priority: {t['priority']} is not valid")
        if "status" in t and t["status"] not in self.STATUSES:
            return self.invalid("status", f"Status: {t['status']} is not valid")
        for key in ("group_id", "assignee_id"):
            if key in t and not (isinstance(t[key], int) and not isinstance(t[key], bool)):
                return self.invalid(key, f"{key} must be a number")
        if "group_id" in t and self.group_ids is not None and t["group_id"] not in self.group_ids:
            return self.invalid("group", "Group: is invalid")
        for key in ("additional_tags", "tags", "remove_tags"):
            if key in t and not (_strs(t[key]) or isinstance(t[key], str)):
                return self.invalid(key, f"{key} must be a list of strings")
        # apply
        if "comment" in t:
            c = t["comment"]
            ticket["comments"].append({"body": c.get("body") or c.get("html_body"), "public": c.get("public", True)})
        for key in ("priority", "status", "group_id", "assignee_id"):
            if key in t:
                ticket[key] = t[key]

        def as_list(v: str | list[str]) -> list[str]:
            return v.split() if isinstance(v, str) else v

        if "tags" in t:
            ticket["tags"] = list(dict.fromkeys(as_list(t["tags"])))
        if "additional_tags" in t:
            ticket["tags"] = list(dict.fromkeys([*ticket["tags"], *as_list(t["additional_tags"])]))
        if "remove_tags" in t:
            ticket["tags"] = [x for x in ticket["tags"] if x not in as_list(t["remove_tags"])]
        self._audit += 1
        return JSONResponse({"ticket": ticket, "audit": {"id": self._audit, "ticket_id": ticket["id"]}})


# ================================================================================================
class FakeJira(FakeServer):
    """Jira Cloud / JSM REST API v3: comment (ADF), edit issue, transitions, assignee."""

    system = "jira"

    def __init__(self, email: str = "bot@example.com", token: str = "jira-test-token") -> None:
        super().__init__()
        self.email, self.token = email, token
        self.priorities = ["Lowest", "Low", "Medium", "High", "Highest"]
        self.components: set[str] | None = None  # None: any component name exists
        self.account_ids: set[str] | None = None  # None: any account id exists
        self.transitions = [
            {"id": "11", "name": "Start progress", "to": {"name": "In Progress"}},
            {"id": "21", "name": "Resolve this issue", "to": {"name": "Resolved"}},
            {"id": "31", "name": "Close", "to": {"name": "Closed"}},
        ]
        self._comment_id = 10000

    def adapter(self, **overrides: Any) -> Jira:
        return Jira(JiraConfig.model_validate(self.config_values(**overrides)))

    @property
    def credentials(self) -> dict[str, str]:
        return {"email": self.email, "api_token": self.token}

    def new_ticket(self, ticket_id: str) -> dict[str, Any]:
        return {"key": ticket_id, "priority": "Medium", "labels": [], "components": [], "status": "Open",
                "assignee": None, "comments": [], "custom": {}}  # fmt: skip

    def routes(self) -> list[Route]:
        base = "/rest/api/3/issue/{key}"
        return [
            Route(base + "/comment", self.endpoint(self.comment), methods=["POST"]),
            Route(base, self.endpoint(self.edit), methods=["PUT"]),
            Route(base, self.endpoint(self.show), methods=["GET"]),
            Route(base + "/transitions", self.endpoint(self.list_transitions), methods=["GET"]),
            Route(base + "/transitions", self.endpoint(self.do_transition), methods=["POST"]),
            Route(base + "/assignee", self.endpoint(self.set_assignee), methods=["PUT"]),
        ]

    def authorised(self, request: Request) -> bool:
        return _basic(request) == (self.email, self.token)

    def unauthorised(self) -> Response:
        return JSONResponse(
            {"errorMessages": ["You are not authenticated. Authentication required to perform this operation."],
             "errors": {}},
            status_code=401,
        )  # fmt: skip

    def not_found(self, ticket_id: str) -> Response:
        return JSONResponse(
            {"errorMessages": ["Issue does not exist or you do not have permission to see it."], "errors": {}},
            status_code=404,
        )

    def errors(self, errors: dict[str, str] | None = None, messages: Iterable[str] = ()) -> Response:
        return JSONResponse({"errorMessages": list(messages), "errors": errors or {}}, status_code=400)

    def bad_request(self, message: str, field_name: str = "") -> Response:
        return self.errors({field_name: message} if field_name else None, [] if field_name else [message])

    @staticmethod
    def valid_adf(doc: object) -> bool:
        return (
            isinstance(doc, dict)
            and doc.get("type") == "doc"  # pyright: ignore[reportUnknownMemberType]
            and doc.get("version") == 1  # pyright: ignore[reportUnknownMemberType]
            and isinstance(doc.get("content"), list)  # pyright: ignore[reportUnknownMemberType]
        )

    def show(self, request: Request, body: JSON) -> Response:
        key = request.path_params["key"]
        issue = self.ticket(key)
        return JSONResponse({"key": key, "fields": issue}) if issue else self.not_found(key)

    def comment(self, request: Request, body: JSON) -> Response:
        key = request.path_params["key"]
        issue = self.ticket(key)
        if issue is None:
            return self.not_found(key)
        if not isinstance(body, dict) or not self.valid_adf(body.get("body")):
            return self.errors({"comment": "Comment body is not valid! It must be an Atlassian Document (ADF)."})
        if not adf_to_text(body["body"]).strip():
            return self.errors({"comment": "Comment body can not be empty!"})
        internal = False
        for prop in body.get("properties", []):
            if not (isinstance(prop, dict) and isinstance(prop.get("key"), str) and "value" in prop):
                return self.errors(messages=["Each comment property needs a key and a value."])
            if prop["key"] == "sd.public.comment":
                value = prop["value"]
                if not isinstance(value, dict) or not isinstance(value.get("internal"), bool):
                    return self.errors(messages=['sd.public.comment must be {"internal": true|false}.'])
                internal = value["internal"]
        visibility = body.get("visibility")
        if visibility is not None and not (
            isinstance(visibility, dict) and visibility.get("type") in ("group", "role") and visibility.get("value")
        ):
            return self.errors({"visibility": "Visibility type must be 'group' or 'role' with a value."})
        self._comment_id += 1
        text = adf_to_text(body["body"])
        issue["comments"].append({"id": str(self._comment_id), "text": text, "internal": internal,
                                  "visibility": visibility})  # fmt: skip
        return JSONResponse({"id": str(self._comment_id), "body": body["body"], "jsdPublic": not internal},
                            status_code=201)  # fmt: skip

    def edit(self, request: Request, body: JSON) -> Response:
        key = request.path_params["key"]
        issue = self.ticket(key)
        if issue is None:
            return self.not_found(key)
        if not isinstance(body, dict) or not set(body) <= {"fields", "update", "properties", "historyMetadata"}:
            return self.errors(messages=["Body must be an object with 'fields' and/or 'update'."])
        fields: dict[str, Any] = body.get("fields") or {}
        update: dict[str, Any] = body.get("update") or {}
        for name, value in fields.items():
            if name == "priority":
                if not isinstance(value, dict) or not (value.get("name") in self.priorities or value.get("id")):
                    return self.errors({"priority": f"The priority selected is invalid: {value!r}"})
            elif name == "components":
                if not isinstance(value, list) or not all(isinstance(c, dict) and c.get("name") for c in value):
                    return self.errors({"components": 'Components must be a list of {"name": ...}.'})
                for c in value:
                    if self.components is not None and c["name"] not in self.components:
                        return self.errors({"components": f"Component name '{c['name']}' is not valid"})
            elif name == "labels":
                if not _strs(value):
                    return self.errors({"labels": "Labels must be a list of strings."})
            elif re.fullmatch(r"customfield_\d+", name):
                if not (isinstance(value, dict) and "value" in value) and not isinstance(value, str | int | float):
                    return self.errors({name: "Specify a valid 'value' for the option."})
            else:
                return self.errors(
                    {name: f"Field '{name}' cannot be set. It is not on the appropriate screen, or unknown."}
                )
        for name, ops in update.items():
            if name != "labels":
                return self.errors({name: f"Field '{name}' cannot be set. It is not on the appropriate screen, "
                                          "or unknown."})  # fmt: skip
            if not isinstance(ops, list):
                return self.errors({"labels": "update.labels must be a list of operations."})
            for op in ops:
                if not (isinstance(op, dict) and len(op) == 1 and set(op) <= {"add", "remove", "set"}):
                    return self.errors({"labels": "Each operation is one of add, remove, set."})
                for value in op.values():
                    vals = value if isinstance(value, list) else [value]
                    for label in vals:
                        if not isinstance(label, str) or re.search(r"\s", label) or not label:
                            return self.errors({"labels": f"The label '{label}' contains spaces which is invalid."})
        # apply
        for name, value in fields.items():
            if name == "priority":
                issue["priority"] = value.get("name") or value.get("id")
            elif name == "components":
                issue["components"] = [c["name"] for c in value]
            elif name == "labels":
                issue["labels"] = list(value)
            else:
                issue["custom"][name] = value["value"] if isinstance(value, dict) else value
        for op in update.get("labels", []):
            for verb, value in op.items():
                if verb == "add":
                    issue["labels"] = list(dict.fromkeys([*issue["labels"], value]))
                elif verb == "remove":
                    issue["labels"] = [x for x in issue["labels"] if x != value]
                else:
                    issue["labels"] = list(value)
        return Response(status_code=204)

    def list_transitions(self, request: Request, body: JSON) -> Response:
        key = request.path_params["key"]
        issue = self.ticket(key)
        if issue is None:
            return self.not_found(key)
        offered = [t for t in self.transitions if t["to"]["name"] != issue["status"]]
        return JSONResponse({"expand": "transitions", "transitions": offered})

    def do_transition(self, request: Request, body: JSON) -> Response:
        key = request.path_params["key"]
        issue = self.ticket(key)
        if issue is None:
            return self.not_found(key)
        tid = body.get("transition", {}).get("id") if isinstance(body, dict) else None
        match = [t for t in self.transitions if t["id"] == tid and t["to"]["name"] != issue["status"]]
        if not match:
            return self.errors(messages=[f"Transition id '{tid}' is not valid for this issue."])
        issue["status"] = match[0]["to"]["name"]
        return Response(status_code=204)

    def set_assignee(self, request: Request, body: JSON) -> Response:
        key = request.path_params["key"]
        issue = self.ticket(key)
        if issue is None:
            return self.not_found(key)
        if not isinstance(body, dict) or "accountId" not in body:
            return self.errors(messages=["Provide an accountId (or null to unassign)."])
        account = body["accountId"]
        if account is not None and self.account_ids is not None and account not in self.account_ids:
            return self.errors({"assignee": f"User '{account}' cannot be assigned issues."})
        issue["assignee"] = account
        return Response(status_code=204)


# ================================================================================================
class FakeFreshdesk(FakeServer):
    """Freshdesk API v2: notes, reply, view and update ticket (a PUT of tags replaces them)."""

    system = "freshdesk"
    FIELDS = frozenset({"priority", "status", "group_id", "responder_id", "tags", "subject", "type"})

    def __init__(self, api_key: str = "fd-test-key") -> None:
        super().__init__()
        self.api_key = api_key
        self._id = 5000

    def adapter(self, **overrides: Any) -> Freshdesk:
        return Freshdesk(FreshdeskConfig.model_validate(self.config_values(**overrides)))

    @property
    def credentials(self) -> dict[str, str]:
        return {"api_key": self.api_key}

    def new_ticket(self, ticket_id: str) -> dict[str, Any]:
        return {"id": int(ticket_id), "priority": 1, "status": 2, "group_id": None, "responder_id": None,
                "tags": [], "conversations": []}  # fmt: skip

    def routes(self) -> list[Route]:
        base = "/api/v2/tickets/{ticket_id}"
        return [
            Route(base, self.endpoint(self.show), methods=["GET"]),
            Route(base, self.endpoint(self.update), methods=["PUT"]),
            Route(base + "/notes", self.endpoint(self.note), methods=["POST"]),
            Route(base + "/reply", self.endpoint(self.reply), methods=["POST"]),
        ]

    def authorised(self, request: Request) -> bool:
        creds = _basic(request)
        return creds is not None and creds[0] == self.api_key

    def unauthorised(self) -> Response:
        return JSONResponse(
            {"code": "invalid_credentials", "message": "You have to be logged in to perform this action."},
            status_code=401,
        )

    def not_found(self, ticket_id: str) -> Response:
        return Response(status_code=404)  # Freshdesk answers an unknown ticket with an empty 404

    def validation(self, field_name: str, message: str, code: str = "invalid_value") -> Response:
        return JSONResponse(
            {"description": "Validation failed", "errors": [{"field": field_name, "message": message, "code": code}]},
            status_code=400,
        )

    def bad_request(self, message: str, field_name: str = "") -> Response:
        return self.validation(field_name, message, "invalid_json")

    def show(self, request: Request, body: JSON) -> Response:
        tid = request.path_params["ticket_id"]
        ticket = self.ticket(tid)
        return (
            JSONResponse({k: v for k, v in ticket.items() if k != "conversations"}) if ticket else self.not_found(tid)
        )

    def update(self, request: Request, body: JSON) -> Response:
        tid = request.path_params["ticket_id"]
        ticket = self.ticket(tid)
        if ticket is None:
            return self.not_found(tid)
        if not isinstance(body, dict) or not body:
            return self.validation("", "Request body is empty or not an object", "missing_field")
        for name, value in body.items():
            if name not in self.FIELDS:
                return self.validation(name, "Unexpected/invalid field in request", "invalid_field")
            if name == "priority" and value not in (1, 2, 3, 4):
                return self.validation(name, "It should be one of these values: '1,2,3,4'")
            if name == "status" and value not in (2, 3, 4, 5):
                return self.validation(name, "It should be one of these values: '2,3,4,5'")
            if name in ("group_id", "responder_id") and not (isinstance(value, int) and not isinstance(value, bool)):
                return self.validation(name, "It should be a/an Positive Integer", "datatype_mismatch")
            if name == "tags" and not _strs(value):
                return self.validation(name, "It should be a/an Array", "datatype_mismatch")
        ticket.update(body)  # tags REPLACE, as in the real API
        return JSONResponse({k: v for k, v in ticket.items() if k != "conversations"})

    def _conversation(self, request: Request, body: JSON, *, private: bool | None) -> Response:
        tid = request.path_params["ticket_id"]
        ticket = self.ticket(tid)
        if ticket is None:
            return self.not_found(tid)
        if not isinstance(body, dict) or not isinstance(body.get("body"), str) or not body["body"].strip():
            return self.validation("body", "It should be a/an String", "missing_field")
        allowed = {"body", "private", "notify_emails", "incoming"} if private is None else {"body", "cc_emails",
                                                                                              "bcc_emails"}  # fmt: skip
        extra = set(body) - allowed
        if extra:
            return self.validation(sorted(extra)[0], "Unexpected/invalid field in request", "invalid_field")
        if private is None and "private" in body and not isinstance(body["private"], bool):
            return self.validation("private", "It should be a/an Boolean", "datatype_mismatch")
        self._id += 1
        is_private = bool(body.get("private", True)) if private is None else private
        entry = {"id": self._id, "body": body["body"], "private": is_private, "ticket_id": int(tid)}
        ticket["conversations"].append(entry)
        return JSONResponse(entry, status_code=201)

    def note(self, request: Request, body: JSON) -> Response:
        return self._conversation(request, body, private=None)

    def reply(self, request: Request, body: JSON) -> Response:
        return self._conversation(request, body, private=False)


# ================================================================================================
_BRACED = re.compile(r"\{[^}]*\}|\S+")


class FakeYouTrack(FakeServer):
    """YouTrack REST: issue comments (with LimitedVisibility) and `/api/commands`."""

    system = "youtrack"

    def __init__(self, token: str = "perm:test-token") -> None:
        super().__init__()
        self.token = token
        self.group_ids = {"3-7"}
        self.fields: dict[str, set[str] | None] = {
            "priority": {"Show-stopper", "Critical", "Major", "Normal", "Minor"},
            "state": {"Submitted", "Open", "In Progress", "Fixed", "Won't fix", "Solved"},
            "subsystem": None,  # None: any value
            "assignee": None,
        }
        self._n = 0

    def adapter(self, **overrides: Any) -> YouTrack:
        return YouTrack(YouTrackConfig.model_validate(self.config_values(**overrides)))

    @property
    def credentials(self) -> dict[str, str]:
        return {"token": self.token}

    def new_ticket(self, ticket_id: str) -> dict[str, Any]:
        self._n += 1
        return {"idReadable": ticket_id, "id": f"2-{self._n}", "fields": {}, "tags": [], "comments": []}

    def routes(self) -> list[Route]:
        return [
            Route("/api/issues/{issue_id}/comments", self.endpoint(self.comment), methods=["POST"]),
            Route("/api/commands", self.endpoint(self.command), methods=["POST"]),
        ]

    def authorised(self, request: Request) -> bool:
        return request.headers.get("authorization", "") == f"Bearer {self.token}"

    def unauthorised(self) -> Response:
        return JSONResponse(
            {"error": "Unauthorized", "error_description": "You are not logged in or the token is invalid"},
            status_code=401,
        )

    def not_found(self, ticket_id: str) -> Response:
        return JSONResponse({"error": "Not Found", "error_description": "Entity with id " + ticket_id + " not found"},
                            status_code=404)  # fmt: skip

    def bad_request(self, message: str, field_name: str = "") -> Response:
        return JSONResponse({"error": "bad_request", "error_description": message}, status_code=400)

    def find(self, ref: str) -> dict[str, Any] | None:
        return self.tickets.get(ref) or next((t for t in self.tickets.values() if t["id"] == ref), None)

    def comment(self, request: Request, body: JSON) -> Response:
        ref = request.path_params["issue_id"]
        issue = self.find(ref)
        if issue is None:
            return self.not_found(ref)
        if not isinstance(body, dict) or not isinstance(body.get("text"), str) or not body["text"].strip():
            return self.bad_request("Comment text is required")
        visibility = body.get("visibility")
        groups: list[str] = []
        if visibility is not None:
            vtype = visibility.get("$type", "") if isinstance(visibility, dict) else ""
            if vtype.rsplit(".", 1)[-1] not in ("LimitedVisibility", "UnlimitedVisibility"):
                return self.bad_request("visibility.$type must be LimitedVisibility or UnlimitedVisibility")
            for group in visibility.get("permittedGroups", []):
                gid = group.get("id") if isinstance(group, dict) else None
                if gid not in self.group_ids:
                    return self.bad_request(f"Unknown user group {gid!r} in visibility.permittedGroups")
                groups.append(gid)
        self._n += 1
        entry = {"id": f"4-{self._n}", "text": body["text"], "permittedGroups": groups, "$type": "IssueComment"}
        issue["comments"].append(entry)
        fields = request.query_params.get("fields")
        return JSONResponse({"id": entry["id"], "$type": "IssueComment"} if fields else {"$type": "IssueComment"})

    def command(self, request: Request, body: JSON) -> Response:
        if not isinstance(body, dict) or not isinstance(body.get("query"), str) or not body["query"].strip():
            return self.bad_request("Command query is required")
        refs = body.get("issues")
        if not isinstance(refs, list) or not refs:
            return self.bad_request("Command must have at least one issue (issues: [{idReadable}] or [{id}])")
        issues: list[dict[str, Any]] = []
        for ref in refs:
            key = (ref.get("idReadable") or ref.get("id")) if isinstance(ref, dict) else None
            issue = self.find(str(key)) if key else None
            if issue is None:
                return self.not_found(str(key))
            issues.append(issue)
        tokens = [t[1:-1] if t.startswith("{") else t for t in _BRACED.findall(body["query"])]
        changes: list[tuple[str, str]] = []
        i = 0
        while i < len(tokens):
            word = tokens[i].casefold()
            name = "assignee" if word == "for" else word
            if (name == "tag" or name in self.fields) and i + 1 < len(tokens):
                value = tokens[i + 1]
                allowed = self.fields.get(name) if name != "tag" else None
                if allowed is not None and value not in allowed:
                    return self.bad_request(f"Command [{tokens[i]} {value}] is invalid: unknown value {value!r}")
                changes.append((name, value))
                i += 2
                continue
            return self.bad_request(f"Command [{body['query']}] is invalid: unknown command {tokens[i]!r}")
        for issue in issues:
            for name, value in changes:
                if name == "tag":
                    issue["tags"] = list(dict.fromkeys([*issue["tags"], value]))
                else:
                    issue["fields"][name] = value
        return JSONResponse({"$type": "CommandList"})


FAKES: dict[str, type[FakeServer]] = {
    "zendesk": FakeZendesk,
    "jira": FakeJira,
    "freshdesk": FakeFreshdesk,
    "youtrack": FakeYouTrack,
}
