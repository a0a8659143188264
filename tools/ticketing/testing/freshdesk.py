"""A fake Freshdesk API v2 on loopback (see `tools.ticketing.testing.common`)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tools.ticketing.base import FreshdeskConfig
from tools.ticketing.freshdesk import Freshdesk
from tools.ticketing.testing.common import JSON, FakeServer, basic_credentials, is_str_list


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
            Route(base + "/conversations", self.endpoint(self.conversations), methods=["GET"]),
        ]

    def authorised(self, request: Request) -> bool:
        creds = basic_credentials(request)
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
            if name == "tags" and not is_str_list(value):
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

    def conversations(self, request: Request, body: JSON) -> Response:
        """List conversations of a ticket: oldest first, `page`/`per_page` (up to 100); body and body_text."""
        tid = request.path_params["ticket_id"]
        ticket = self.ticket(tid)
        if ticket is None:
            return self.not_found(tid)
        per_page = self.page_params(request, "per_page", 30)
        try:
            page = max(1, int(request.query_params.get("page", "1")))
        except ValueError:
            return self.validation("page", "It should be a/an Positive Integer", "datatype_mismatch")
        chunk = ticket["conversations"][(page - 1) * per_page : page * per_page]
        return JSONResponse([{**c, "body_text": c["body"]} for c in chunk])

    def note(self, request: Request, body: JSON) -> Response:
        return self._conversation(request, body, private=None)

    def reply(self, request: Request, body: JSON) -> Response:
        return self._conversation(request, body, private=False)
