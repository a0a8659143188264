"""Freshdesk write-back over API v2.

Auth: HTTP basic `api_key:X`. Notes: `POST /api/v2/tickets/{id}/notes` `{body, private}`; replies:
`POST /api/v2/tickets/{id}/reply` `{body}`; fields: `PUT /api/v2/tickets/{id}` (priority 1-4, status
2-5, group_id, responder_id, tags). A PUT of `tags` REPLACES the ticket's tags, so `add_tags` reads the
current tags first and writes the union (a tag added in Freshdesk between the two calls can be lost).
Rate limits answer 429 with `Retry-After` (honoured). A note or reply carries its marker as a last
line (`ref triage-...`); `find_marker` pages through `GET .../conversations` (oldest first, 100 a
page) and reads `body_text` and `body`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import httpx

from tools.http import ApiClient
from tools.ticketing.base import FreshdeskConfig, Priority, numeric_id
from tools.ticketing.plan import has_marker, with_marker

MARKER_PAGES = 10  # conversations are listed oldest first: up to 1,000 are searched for a marker


class Freshdesk:
    """`TicketingSystem` for Freshdesk."""

    name = "freshdesk"

    def __init__(self, config: FreshdeskConfig, *, transport: httpx.BaseTransport | None = None) -> None:
        self.config = config
        self.api = ApiClient(
            "freshdesk",
            config.base_url,
            auth=(config.api_key.get_secret_value(), "X"),
            timeout_s=config.timeout_s,
            policy=config.retry.policy(),
            hints={
                401: "check TRIAGE_FRESHDESK_API_KEY (Profile settings > View API key, of an agent)",
                403: "the agent whose API key is used may not edit this ticket, or the plan lacks API access",
            },
            transport=transport,
        )

    def close(self) -> None:
        self.api.close()

    def _ticket(self, external_id: str) -> str:
        return f"/api/v2/tickets/{quote(external_id, safe='')}"

    def _update(self, external_id: str, fields: dict[str, Any], what: str) -> str:
        self.api.request("PUT", self._ticket(external_id), json_body=fields)
        return f"ticket {external_id}: {what}"

    def add_note(self, external_id: str, text: str, *, marker: str | None = None) -> str:
        body = {"body": with_marker(text, marker), "private": True}
        got = self.api.request_json("POST", f"{self._ticket(external_id)}/notes", json_body=body)
        return f"note {got.get('id', '?')} on ticket {external_id}"

    def post_reply(self, external_id: str, text: str, *, marker: str | None = None) -> str:
        body = {"body": with_marker(text, marker)}
        got = self.api.request_json("POST", f"{self._ticket(external_id)}/reply", json_body=body)
        return f"reply {got.get('id', '?')} on ticket {external_id}"

    def find_marker(self, external_id: str, marker: str) -> str | None:
        for page in range(1, MARKER_PAGES + 1):
            response = self.api.request(
                "GET", f"{self._ticket(external_id)}/conversations", params={"per_page": "100", "page": str(page)}
            )
            try:
                items: object = response.json()
            except ValueError:
                return None
            if not isinstance(items, list):
                return None
            for c in items:  # pyright: ignore[reportUnknownVariableType]
                if not isinstance(c, dict):
                    continue
                text = f"{c.get('body_text') or ''} {c.get('body') or ''}"  # pyright: ignore[reportUnknownMemberType]
                if has_marker(text, marker):
                    kind = "note" if c.get("private") else "reply"  # pyright: ignore[reportUnknownMemberType]
                    return f"{kind} {c.get('id', '?')} on ticket {external_id} carries {marker}"  # pyright: ignore[reportUnknownMemberType]
            if len(items) < 100:  # pyright: ignore[reportUnknownArgumentType]
                return None
        return None

    def set_priority(self, external_id: str, priority: Priority) -> str:
        value = self.config.priorities[priority]
        return self._update(external_id, {"priority": value}, f"priority {value}")

    def set_group(self, external_id: str, group: str) -> str:
        group_id = numeric_id("freshdesk", "group", group, self.config.groups.get(group, group))
        return self._update(external_id, {"group_id": group_id}, f"group {group_id}")

    def add_tags(self, external_id: str, tags: Sequence[str]) -> str:
        got = self.api.request_json("GET", self._ticket(external_id)).get("tags")
        current = [str(t) for t in got] if isinstance(got, list) else []  # pyright: ignore[reportUnknownVariableType]
        merged = list(dict.fromkeys([*current, *(t.strip() for t in tags if t.strip())]))
        if merged == current:
            return f"ticket {external_id}: tags already present"
        return self._update(external_id, {"tags": merged}, f"tags {','.join(merged)}")

    def assign(self, external_id: str, assignee: str) -> str:
        agent_id = numeric_id("freshdesk", "assignee", assignee, self.config.assignees.get(assignee, assignee))
        return self._update(external_id, {"responder_id": agent_id}, f"responder {agent_id}")

    def resolve(self, external_id: str) -> str:
        status = self.config.resolved_status
        return self._update(external_id, {"status": status}, f"status {status}")
