"""A fake Jira Cloud / Jira Service Management REST API v3 on loopback (see `tools.ticketing.testing.common`)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tools.ticketing.adf import adf_to_text
from tools.ticketing.base import JiraConfig
from tools.ticketing.jira import Jira
from tools.ticketing.testing.common import JSON, FakeServer, basic_credentials, is_str_list


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
            Route(base + "/comment", self.endpoint(self.list_comments), methods=["GET"]),
            Route(base, self.endpoint(self.edit), methods=["PUT"]),
            Route(base, self.endpoint(self.show), methods=["GET"]),
            Route(base + "/transitions", self.endpoint(self.list_transitions), methods=["GET"]),
            Route(base + "/transitions", self.endpoint(self.do_transition), methods=["POST"]),
            Route(base + "/assignee", self.endpoint(self.set_assignee), methods=["PUT"]),
        ]

    def authorised(self, request: Request) -> bool:
        return basic_credentials(request) == (self.email, self.token)

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
                                  "visibility": visibility, "body": body["body"]})  # fmt: skip
        return JSONResponse({"id": str(self._comment_id), "body": body["body"], "jsdPublic": not internal},
                            status_code=201)  # fmt: skip

    def list_comments(self, request: Request, body: JSON) -> Response:
        """Get comments: `orderBy` created|-created, `startAt`, `maxResults` (up to 100); ADF bodies."""
        key = request.path_params["key"]
        issue = self.ticket(key)
        if issue is None:
            return self.not_found(key)
        order = request.query_params.get("orderBy", "created")
        if order.lstrip("+-") != "created":
            return self.errors(messages=[f"orderBy {order!r} is not supported: created or -created"])
        try:
            start = max(0, int(request.query_params.get("startAt", "0")))
        except ValueError:
            return self.errors(messages=["startAt must be a number"])
        size = self.page_params(request, "maxResults", 50)
        comments = list(issue["comments"])
        if order.startswith("-"):
            comments.reverse()
        chunk = [{"id": c["id"], "body": c["body"], "jsdPublic": not c["internal"]}
                 for c in comments[start : start + size]]  # fmt: skip
        return JSONResponse({"startAt": start, "maxResults": size, "total": len(comments), "comments": chunk})

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
                if not is_str_list(value):
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
