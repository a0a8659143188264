"""Zendesk Support write-back: everything is one `PUT /api/v2/tickets/{id}` with a partial ticket.

Auth: HTTP basic `{email}/token:{api_token}`. Comments: `comment {body, public}` (public false is an
internal note). Tags go in `additional_tags` (added to the ticket's tags; `tags` would replace them).
Zendesk answers 409 when two updates to a ticket collide; its docs say to retry, so 409 is transient here.
A note or reply carries its marker as a last line (`ref triage-...`; the plain `body` keeps it as
sent); `find_marker` reads the ticket's newest comments (`GET .../comments?sort_order=desc`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import httpx

from tools.http import ApiClient
from tools.ticketing.base import Priority, ZendeskConfig, numeric_id
from tools.ticketing.plan import has_marker, with_marker

MARKER_SCAN = 300  # newest comments searched for a marker (three pages of 100)


class Zendesk:
    """`TicketingSystem` for Zendesk Support (API v2)."""

    name = "zendesk"

    def __init__(self, config: ZendeskConfig, *, transport: httpx.BaseTransport | None = None) -> None:
        self.config = config
        self.api = ApiClient(
            "zendesk",
            config.base_url,
            auth=(f"{config.email}/token", config.api_token.get_secret_value()),
            timeout_s=config.timeout_s,
            policy=config.retry.policy(extra_retry_statuses=frozenset({409})),
            hints={
                401: "check TRIAGE_ZENDESK_EMAIL and TRIAGE_ZENDESK_API_TOKEN (Admin Center > Apps and "
                "integrations > Zendesk API: token access enabled, token active, the email is an agent's)",
                403: "the agent behind TRIAGE_ZENDESK_EMAIL may not edit this ticket: check its role and group access",
            },
            transport=transport,
        )

    def close(self) -> None:
        self.api.close()

    def _update(self, external_id: str, ticket: dict[str, Any]) -> str:
        path = f"/api/v2/tickets/{quote(external_id, safe='')}"
        # a PUT carrying a comment adds one each time it is applied: not idempotent (tools/http.py)
        body = self.api.request_json("PUT", path, json_body={"ticket": ticket}, idempotent="comment" not in ticket)
        audit = body.get("audit")
        audit = audit.get("id") if isinstance(audit, dict) else None  # pyright: ignore[reportUnknownMemberType]
        return f"ticket {external_id} updated" + (f" (audit {audit})" if audit else "")

    def add_note(self, external_id: str, text: str, *, marker: str | None = None) -> str:
        return self._update(external_id, {"comment": {"body": with_marker(text, marker), "public": False}})

    def post_reply(self, external_id: str, text: str, *, marker: str | None = None) -> str:
        return self._update(external_id, {"comment": {"body": with_marker(text, marker), "public": True}})

    def find_marker(self, external_id: str, marker: str) -> str | None:
        path = f"/api/v2/tickets/{quote(external_id, safe='')}/comments"
        for page in range(1, MARKER_SCAN // 100 + 1):
            got = self.api.request_json(
                "GET", path, params={"sort_order": "desc", "per_page": "100", "page": str(page)}
            )
            comments = got.get("comments")
            if not isinstance(comments, list):
                return None
            for c in comments:  # pyright: ignore[reportUnknownVariableType]
                if not isinstance(c, dict):
                    continue
                text = " ".join(str(c.get(k) or "") for k in ("body", "plain_body", "html_body"))  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType]
                if has_marker(text, marker):
                    kind = "reply" if c.get("public") else "note"  # pyright: ignore[reportUnknownMemberType]
                    return f"{kind} {c.get('id', '?')} on ticket {external_id} carries {marker}"  # pyright: ignore[reportUnknownMemberType]
            if not got.get("next_page") or len(comments) < 100:  # pyright: ignore[reportUnknownArgumentType]
                return None
        return None

    def set_priority(self, external_id: str, priority: Priority) -> str:
        return self._update(external_id, {"priority": self.config.priorities[priority]})

    def set_group(self, external_id: str, group: str) -> str:
        group_id = numeric_id("zendesk", "group", group, self.config.groups.get(group, group))
        return self._update(external_id, {"group_id": group_id})

    def add_tags(self, external_id: str, tags: Sequence[str]) -> str:
        # a Zendesk tag is one word: spaces would split it into several tags
        clean = [re.sub(r"\s+", "_", t.strip()) for t in tags if t.strip()]
        return self._update(external_id, {"additional_tags": clean})

    def assign(self, external_id: str, assignee: str) -> str:
        user_id = numeric_id("zendesk", "assignee", assignee, self.config.assignees.get(assignee, assignee))
        return self._update(external_id, {"assignee_id": user_id})

    def resolve(self, external_id: str) -> str:
        return self._update(external_id, {"status": self.config.resolved_status})
