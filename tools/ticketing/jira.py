"""Jira Cloud / Jira Service Management write-back over REST API v3.

Auth: HTTP basic `email:api_token`. Comments: `POST /rest/api/3/issue/{key}/comment` with an Atlassian
Document Format body; in JSM a comment is internal when it carries the entity property
`sd.public.comment` = `{"internal": true}`. Fields: `PUT /rest/api/3/issue/{key}` (`fields.priority.name`,
`update.labels[].add`, components or a custom field for the queue). Resolve: the transition id is looked
up by name with `GET .../transitions`, then `POST .../transitions`. Assignee: `PUT .../assignee` with
`accountId`. Rate limits answer 429 with `Retry-After` and `X-RateLimit-Reset` (both honoured).
A note or reply carries its marker as its last ADF paragraph (`ref triage-...`); `find_marker`
reads the issue's newest comments (`GET .../comment?orderBy=-created`) and their ADF text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import httpx

from tools.http import ApiClient, WriteBackConfigError
from tools.ticketing.adf import adf_to_text, text_to_adf
from tools.ticketing.base import JiraConfig, Priority
from tools.ticketing.plan import has_marker, with_marker

MARKER_SCAN = 300  # newest comments searched for a marker (three pages of 100)


class Jira:
    """`TicketingSystem` for Jira Cloud and Jira Service Management."""

    name = "jira"

    def __init__(self, config: JiraConfig, *, transport: httpx.BaseTransport | None = None) -> None:
        self.config = config
        self.api = ApiClient(
            "jira",
            config.base_url,
            auth=(config.email, config.api_token.get_secret_value()),
            timeout_s=config.timeout_s,
            policy=config.retry.policy(),
            hints={
                401: "check TRIAGE_JIRA_EMAIL and TRIAGE_JIRA_API_TOKEN (an API token from "
                "id.atlassian.com > Security > API tokens, for the account with that email)",
                403: "the Jira account lacks a project permission (Add Comments, Edit Issues, Transition "
                "Issues, Assign Issues) or is not a JSM agent",
                404: "check TRIAGE_JIRA_URL (https://<site>.atlassian.net) and the issue key; the account must be "
                "able to browse the project",
            },
            transport=transport,
        )

    def close(self) -> None:
        self.api.close()

    def _issue(self, key: str) -> str:
        return f"/rest/api/3/issue/{quote(key, safe='')}"

    def _comment(self, key: str, text: str, *, internal: bool) -> str:
        body: dict[str, Any] = {"body": text_to_adf(text)}
        if self.config.service_management:
            body["properties"] = [{"key": "sd.public.comment", "value": {"internal": internal}}]
        elif internal and self.config.note_visibility_role:
            body["visibility"] = {"type": "role", "value": self.config.note_visibility_role}
        got = self.api.request_json("POST", f"{self._issue(key)}/comment", json_body=body)
        return f"comment {got.get('id', '?')} on {key}" + (" (internal)" if internal else "")

    def _edit(self, key: str, body: dict[str, Any], what: str) -> str:
        self.api.request("PUT", self._issue(key), json_body=body)
        return f"{key}: {what}"

    def add_note(self, external_id: str, text: str, *, marker: str | None = None) -> str:
        return self._comment(external_id, with_marker(text, marker), internal=True)

    def post_reply(self, external_id: str, text: str, *, marker: str | None = None) -> str:
        return self._comment(external_id, with_marker(text, marker), internal=False)

    def find_marker(self, external_id: str, marker: str) -> str | None:
        for start in range(0, MARKER_SCAN, 100):
            got = self.api.request_json(
                "GET",
                f"{self._issue(external_id)}/comment",
                params={"orderBy": "-created", "maxResults": "100", "startAt": str(start)},
            )
            comments = got.get("comments")
            if not isinstance(comments, list):
                return None
            for c in comments:  # pyright: ignore[reportUnknownVariableType]
                if isinstance(c, dict) and has_marker(adf_to_text(c.get("body")), marker):  # pyright: ignore[reportUnknownMemberType]
                    return f"comment {c.get('id', '?')} on {external_id} carries {marker}"  # pyright: ignore[reportUnknownMemberType]
            total = got.get("total")
            if len(comments) < 100 or (isinstance(total, int) and start + 100 >= total):  # pyright: ignore[reportUnknownArgumentType]
                return None
        return None

    def set_priority(self, external_id: str, priority: Priority) -> str:
        name = self.config.priorities[priority]
        return self._edit(external_id, {"fields": {"priority": {"name": name}}}, f"priority {name}")

    def set_group(self, external_id: str, group: str) -> str:
        value = self.config.groups.get(group, group)
        field = self.config.group_field
        if field == "components":
            body: dict[str, Any] = {"fields": {"components": [{"name": value}]}}
        else:
            body = {"fields": {field: {"value": value}}}
        return self._edit(external_id, body, f"{field} {value}")

    def add_tags(self, external_id: str, tags: Sequence[str]) -> str:
        # Jira labels cannot contain spaces
        labels = [re.sub(r"\s+", "_", t.strip()) for t in tags if t.strip()]
        return self._edit(
            external_id, {"update": {"labels": [{"add": label} for label in labels]}}, f"labels +{','.join(labels)}"
        )

    def assign(self, external_id: str, assignee: str) -> str:
        account_id = self.config.assignees.get(assignee, assignee)
        self.api.request("PUT", f"{self._issue(external_id)}/assignee", json_body={"accountId": account_id})
        return f"{external_id}: assigned to {account_id}"

    def transition(self, external_id: str, names: Sequence[str]) -> str:
        """Apply the first available transition whose name (or target status name) is in `names`."""
        got = self.api.request_json("GET", f"{self._issue(external_id)}/transitions")
        offered = got.get("transitions")
        available: list[dict[str, Any]] = (
            [t for t in offered if isinstance(t, dict)]  # pyright: ignore[reportUnknownVariableType]
            if isinstance(offered, list)
            else []
        )
        wanted = [n.casefold() for n in names]
        for name in wanted:
            for t in available:
                to = t.get("to")
                to_name = str(to.get("name", "")) if isinstance(to, dict) else ""
                if name in (str(t.get("name", "")).casefold(), to_name.casefold()):
                    self.api.request(
                        "POST", f"{self._issue(external_id)}/transitions", json_body={"transition": {"id": t["id"]}}
                    )
                    return f"{external_id}: transition {t.get('name')} ({t['id']})"
        names_offered = ", ".join(f"{t.get('name')!r}" for t in available) or "none"
        raise WriteBackConfigError(
            f"jira: none of the transitions {list(names)} is available on {external_id} (offered: {names_offered}); "
            "set `resolve_transitions` under [writeback.jira] in triage.toml to your workflow's names",
            system="jira",
            method="GET",
            endpoint=f"{self._issue(external_id)}/transitions",
        )

    def resolve(self, external_id: str) -> str:
        return self.transition(external_id, self.config.resolve_transitions)
