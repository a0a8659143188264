"""What every ticketing system can do for us (one Protocol) and how each one is configured.

Every method is one logical write to the system's REST API, retried per `tools.http.RetryPolicy`,
and returns a short summary of what the system answered (kept in the write-back ledger). Failures
raise `tools.http.WriteBackError` subclasses: transient (retry later), permanent (a 4xx: fix the
configuration or the data), config (the call cannot be built from the settings).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from tools.http import RetryPolicy, WriteBackConfigError

Priority = Literal["low", "normal", "high", "urgent"]
SystemName = Literal["zendesk", "jira", "freshdesk", "youtrack"]


@runtime_checkable
class TicketingSystem(Protocol):
    """One ticketing system's write-back API. `external_id` is the system's own ticket id or key."""

    @property
    def name(self) -> str: ...

    def add_note(self, external_id: str, text: str) -> str:
        """An internal note, visible to agents only."""
        ...

    def post_reply(self, external_id: str, text: str) -> str:
        """A public reply the requester sees."""
        ...

    def set_priority(self, external_id: str, priority: Priority) -> str: ...

    def set_group(self, external_id: str, group: str) -> str:
        """Route to a group/queue, named as the policy names it (mapped per system)."""
        ...

    def add_tags(self, external_id: str, tags: Sequence[str]) -> str:
        """Add tags/labels, keeping the ones the ticket already has."""
        ...

    def assign(self, external_id: str, assignee: str) -> str:
        """Assign to an agent, named as we name them (mapped per system) or by the system's own id."""
        ...

    def resolve(self, external_id: str) -> str:
        """Move the ticket to its resolved/solved state."""
        ...

    def close(self) -> None: ...


class RetrySettings(BaseModel):
    """The retry budget of one system (`tools.http.RetryPolicy` as configuration)."""

    model_config = ConfigDict(extra="forbid")

    max_attempts: int = Field(default=6, ge=1)
    max_elapsed_s: float = Field(default=30.0, gt=0)
    backoff_initial_s: float = Field(default=0.5, ge=0)
    backoff_max_s: float = Field(default=8.0, ge=0)
    jitter_s: float = Field(default=0.5, ge=0)
    max_server_wait_s: float = Field(default=30.0, ge=0)

    def policy(self, extra_retry_statuses: frozenset[int] = frozenset()) -> RetryPolicy:
        return RetryPolicy(
            max_attempts=self.max_attempts,
            max_elapsed_s=self.max_elapsed_s,
            backoff_initial_s=self.backoff_initial_s,
            backoff_max_s=self.backoff_max_s,
            jitter_s=self.jitter_s,
            max_server_wait_s=self.max_server_wait_s,
            retry_statuses=RetryPolicy().retry_statuses | extra_retry_statuses,
        )


class SystemConfig(BaseModel):
    """Shared by every system: where it is, how patient to be, and how our names map to its ids."""

    model_config = ConfigDict(extra="forbid")

    base_url: str = Field(description="e.g. https://acme.zendesk.com (no trailing /api)")
    timeout_s: float = Field(default=10.0, gt=0)
    retry: RetrySettings = Field(default_factory=RetrySettings)
    groups: dict[str, str] = Field(
        default_factory=dict[str, str], description="our queue name -> the system's group id / queue value"
    )
    assignees: dict[str, str] = Field(
        default_factory=dict[str, str], description="our assignee name -> the system's user id / account id / login"
    )

    @field_validator("base_url")
    @classmethod
    def _url(cls, v: str) -> str:
        v = v.strip().rstrip("/")
        if not re.match(r"^https?://[^/\s]+", v):
            raise ValueError(f"base_url must be an http(s) URL such as https://acme.example.com, got {v!r}")
        return v


def numeric_id(system: str, kind: str, key: str, value: str) -> int:
    """A system id that must be a number (Zendesk/Freshdesk group and user ids)."""
    try:
        return int(value)
    except ValueError:
        raise WriteBackConfigError(
            f"{system}: {kind} {key!r} has no numeric {system} id: add it to the {system} `{kind}s` mapping "
            f"(e.g. {kind}s = {{ {key!r} = 123 }} under [writeback.{system}] in triage.toml)",
            system=system,
        ) from None


class ZendeskConfig(SystemConfig):
    email: str = Field(description="the agent's email; the API token authenticates as this agent")
    api_token: SecretStr
    priorities: dict[Priority, str] = Field(
        default_factory=lambda: {"low": "low", "normal": "normal", "high": "high", "urgent": "urgent"}
    )
    resolved_status: str = "solved"


class JiraConfig(SystemConfig):
    email: str
    api_token: SecretStr
    service_management: bool = Field(
        default=True, description="JSM: notes are internal comments (sd.public.comment internal=true)"
    )
    note_visibility_role: str | None = Field(
        default=None, description="plain Jira (not JSM): restrict notes to this project role, e.g. Developers"
    )
    priorities: dict[Priority, str] = Field(
        default_factory=lambda: {"low": "Low", "normal": "Medium", "high": "High", "urgent": "Highest"}
    )
    group_field: str = Field(
        default="components",
        description="where a queue goes: 'components' (sets the component) or a custom field id "
        "(customfield_10050, a single-select: {'value': ...})",
    )
    resolve_transitions: list[str] = Field(
        default_factory=lambda: ["Resolve this issue", "Resolve issue", "Resolve", "Resolved", "Done"],
        description="transition names (or target status names) tried in order, case-insensitive",
    )


class FreshdeskConfig(SystemConfig):
    api_key: SecretStr
    priorities: dict[Priority, int] = Field(default_factory=lambda: {"low": 1, "normal": 2, "high": 3, "urgent": 4})
    resolved_status: int = 4  # 2 open, 3 pending, 4 resolved, 5 closed


class YouTrackConfig(SystemConfig):
    token: SecretStr = Field(description="a permanent token (perm:...)")
    priority_field: str = "Priority"
    priorities: dict[Priority, str] = Field(
        default_factory=lambda: {"low": "Minor", "normal": "Normal", "high": "Major", "urgent": "Critical"}
    )
    group_field: str = Field(default="Subsystem", description="the custom field a queue is written to")
    resolve_command: str = "State Fixed"
    note_group_id: str | None = Field(
        default=None,
        description="the id of the user group internal notes are visible to (GET /api/groups?fields=id,name)",
    )
