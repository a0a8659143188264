"""Freshdesk write-back over API v2.

Auth: HTTP basic `api_key:X`. Notes: `POST /api/v2/tickets/{id}/notes` `{body, private}`; replies:
`POST /api/v2/tickets/{id}/reply` `{body}`; fields: `PUT /api/v2/tickets/{id}` (priority 1-4, status
2-5, group_id, responder_id, tags). A PUT of `tags` REPLACES the ticket's tags, so `add_tags` reads the
current tags first and writes the union (a tag added in Freshdesk between the two calls can be lost).
Rate limits answer 429 with `Retry-After` (honoured).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import httpx

from tools.http import ApiClient
from tools.ticketing.base import FreshdeskConfig, Priority, numeric_id


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

    def add_note(self, external_id: str, text: str) -> str:
        got = self.api.request_json(
            "POST", f"{self._ticket(external_id)}/notes", json_body={"body": text, "private": True}
        )
        return f"note {got.get('id', '?')} on ticket {external_id}"

    def post_reply(self, external_id: str, text: str) -> str:
        got = self.api.request_json("POST", f"{self._ticket(external_id)}/reply", json_body={"body": text})
        return f"reply {got.get('id', '?')} on ticket {external_id}"

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
