"""A fake Zendesk Support API on loopback (see `tools.ticketing.testing.common`)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tools.ticketing.base import ZendeskConfig
from tools.ticketing.testing.common import JSON, FakeServer, basic_credentials, is_str_list
from tools.ticketing.zendesk import Zendesk


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
            Route("/api/v2/tickets/{ticket_id}/comments", self.endpoint(self.list_comments), methods=["GET"]),
        ]

    def authorised(self, request: Request) -> bool:
        return basic_credentials(request) == (f"{self.email}/token", self.token)

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

    def list_comments(self, request: Request, body: JSON) -> Response:
        """List Comments: `sort_order` asc|desc, offset pagination (`page`, `per_page` up to 100)."""
        tid = request.path_params["ticket_id"].removesuffix(".json")
        ticket = self.ticket(tid)
        if ticket is None:
            return self.not_found(tid)
        order = request.query_params.get("sort_order", "asc")
        if order not in ("asc", "desc"):
            return self.bad_request("sort_order must be asc or desc", "sort_order")
        per_page = self.page_params(request, "per_page")
        page = max(1, int(request.query_params.get("page", "1") or 1))
        comments = list(ticket["comments"])
        if order == "desc":
            comments.reverse()
        chunk = comments[(page - 1) * per_page : page * per_page]
        more = page * per_page < len(comments)
        next_page = f"{self.url}/api/v2/tickets/{tid}/comments.json?page={page + 1}" if more else None
        return JSONResponse({"comments": chunk, "next_page": next_page, "count": len(comments)})

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
            if key in t and not (is_str_list(t[key]) or isinstance(t[key], str)):
                return self.invalid(key, f"{key} must be a list of strings")
        # apply
        self._audit += 1
        if "comment" in t:
            c = t["comment"]
            text = c.get("body") or c.get("html_body")
            ticket["comments"].append({"id": self._audit * 10, "body": text, "plain_body": text,
                                       "public": c.get("public", True)})  # fmt: skip
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
        return JSONResponse({"ticket": ticket, "audit": {"id": self._audit, "ticket_id": ticket["id"]}})
