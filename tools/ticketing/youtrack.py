"""YouTrack write-back over its REST API (`/api`).

Auth: `Authorization: Bearer perm:...` (a permanent token). Comments: `POST /api/issues/{id}/comments`
`{text}`; an internal note restricts `visibility` to one user group (`LimitedVisibility`,
`permittedGroups`). Fields, tags, assignee and state: `POST /api/commands` with the same command
syntax as the UI (`Priority Critical`, `tag {needs review}`, `Assignee jane`, `State Fixed`) and the
issue by `idReadable` (ABC-12) or database `id` (2-17). A note or reply carries its marker as a last
line (`ref triage-...`, plain Markdown text); `find_marker` pages through
`GET /api/issues/{id}/comments?fields=id,text` (`$top`/`$skip`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import quote

import httpx

from tools.http import ApiClient, WriteBackConfigError
from tools.ticketing.base import Priority, YouTrackConfig
from tools.ticketing.plan import has_marker, with_marker

MARKER_PAGES = 10  # comments are listed oldest first: up to 1,000 are searched for a marker


def command_value(value: str) -> str:
    """A value as a YouTrack command token: multi-word values go in braces."""
    value = value.strip()
    return f"{{{value}}}" if re.search(r"\s", value) else value


class YouTrack:
    """`TicketingSystem` for YouTrack (Cloud and Server)."""

    name = "youtrack"

    def __init__(self, config: YouTrackConfig, *, transport: httpx.BaseTransport | None = None) -> None:
        self.config = config
        self.api = ApiClient(
            "youtrack",
            config.base_url,
            headers={"authorization": f"Bearer {config.token.get_secret_value()}"},
            timeout_s=config.timeout_s,
            policy=config.retry.policy(),
            hints={
                401: "check TRIAGE_YOUTRACK_TOKEN (Profile > Account Security > Tokens: a permanent token "
                "with the YouTrack scope)",
                403: "the token's user lacks Update Issue / Add Comment permission in this project",
                404: "check TRIAGE_YOUTRACK_URL (https://<name>.youtrack.cloud, or the Server URL incl. any "
                "/youtrack path) and the issue id",
            },
            transport=transport,
        )

    def close(self) -> None:
        self.api.close()

    @staticmethod
    def _issue_ref(external_id: str) -> dict[str, str]:
        return {"id": external_id} if re.fullmatch(r"\d+-\d+", external_id) else {"idReadable": external_id}

    def _comment(self, external_id: str, body: dict[str, object], what: str) -> str:
        path = f"/api/issues/{quote(external_id, safe='')}/comments"
        got = self.api.request_json("POST", path, json_body=body, params={"fields": "id"})
        return f"{what} {got.get('id', '?')} on {external_id}"

    def command(self, external_id: str, query: str) -> str:
        """Apply one command (UI syntax) to the issue."""
        # a command sets fields: applying it twice changes nothing more (retried like a PUT)
        self.api.request(
            "POST",
            "/api/commands",
            json_body={"query": query, "issues": [self._issue_ref(external_id)]},
            idempotent=True,
        )
        return f"{external_id}: {query}"

    def add_note(self, external_id: str, text: str, *, marker: str | None = None) -> str:
        group = self.config.note_group_id
        if not group:
            raise WriteBackConfigError(
                "youtrack: internal notes need the id of the group that may read them: set "
                "TRIAGE_YOUTRACK_NOTE_GROUP_ID (find it with GET /api/groups?fields=id,name)",
                system="youtrack",
            )
        visibility = {"$type": "LimitedVisibility", "permittedGroups": [{"id": group}]}
        body = {"text": with_marker(text, marker), "visibility": visibility}
        return self._comment(external_id, body, "internal comment")

    def post_reply(self, external_id: str, text: str, *, marker: str | None = None) -> str:
        return self._comment(external_id, {"text": with_marker(text, marker)}, "comment")

    def find_marker(self, external_id: str, marker: str) -> str | None:
        path = f"/api/issues/{quote(external_id, safe='')}/comments"
        for page in range(MARKER_PAGES):
            params = {"fields": "id,text", "$top": "100", "$skip": str(page * 100)}
            response = self.api.request("GET", path, params=params)
            try:
                items: object = response.json()
            except ValueError:
                return None
            if not isinstance(items, list):
                return None
            for c in items:  # pyright: ignore[reportUnknownVariableType]
                if isinstance(c, dict) and has_marker(str(c.get("text") or ""), marker):  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType]
                    return f"comment {c.get('id', '?')} on {external_id} carries {marker}"  # pyright: ignore[reportUnknownMemberType]
            if len(items) < 100:  # pyright: ignore[reportUnknownArgumentType]
                return None
        return None

    def set_priority(self, external_id: str, priority: Priority) -> str:
        value = self.config.priorities[priority]
        return self.command(external_id, f"{self.config.priority_field} {command_value(value)}")

    def set_group(self, external_id: str, group: str) -> str:
        value = self.config.groups.get(group, group)
        return self.command(external_id, f"{self.config.group_field} {command_value(value)}")

    def add_tags(self, external_id: str, tags: Sequence[str]) -> str:
        # `tag X` adds a tag and leaves the others alone
        query = " ".join(f"tag {command_value(t)}" for t in tags if t.strip())
        return self.command(external_id, query) if query else f"{external_id}: no tags"

    def assign(self, external_id: str, assignee: str) -> str:
        login = self.config.assignees.get(assignee, assignee)
        return self.command(external_id, f"Assignee {command_value(login)}")

    def resolve(self, external_id: str) -> str:
        return self.command(external_id, self.config.resolve_command)
