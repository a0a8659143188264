"""A fake YouTrack REST API on loopback (see `tools.ticketing.testing.common`)."""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tools.ticketing.base import YouTrackConfig
from tools.ticketing.testing.common import JSON, FakeServer
from tools.ticketing.youtrack import YouTrack

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
            Route("/api/issues/{issue_id}/comments", self.endpoint(self.list_comments), methods=["GET"]),
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

    def list_comments(self, request: Request, body: JSON) -> Response:
        """An issue's comments, oldest first: only the `fields` asked for, `$top`/`$skip` paging."""
        ref = request.path_params["issue_id"]
        issue = self.find(ref)
        if issue is None:
            return self.not_found(ref)
        fields = [f for f in request.query_params.get("fields", "").split(",") if f] or ["$type"]
        try:
            skip = max(0, int(request.query_params.get("$skip", "0")))
            top = int(request.query_params.get("$top", "-1"))
        except ValueError:
            return self.bad_request("$top and $skip must be numbers")
        comments = issue["comments"][skip:] if top < 0 else issue["comments"][skip : skip + top]
        return JSONResponse([{"$type": "IssueComment", **{f: c.get(f) for f in fields}} for c in comments])

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
