"""What `build_systems` needs to know, as this layer defines it (the application fills it from its settings).

    config = SystemsConfig(
        timeout_s=10,
        retry=RetrySettings(max_attempts=6, max_elapsed_s=30),
        systems={"zendesk": SystemSettings(base_url="https://acme.zendesk.com",
                                           values={"email": "a@b.c", "api_token": SecretStr("...")},
                                           extra={"groups": {"billing": "123"}})},
    )
    systems = build_systems(config)      # {"zendesk": Zendesk(...)}

Each entry is validated into the adapter's own model (`ZendeskConfig`, `JiraConfig`, ... in
`tools.ticketing.base`, where every key is documented) when its adapter is built.
"""

from __future__ import annotations

from typing import Any, get_args

from pydantic import BaseModel, ConfigDict, Field

from tools.ticketing.base import RetrySettings, SystemName

SYSTEMS: tuple[SystemName, ...] = get_args(SystemName)


class SystemSettings(BaseModel):
    """One ticketing system as configured: where it is, how to authenticate, and its mappings."""

    model_config = ConfigDict(frozen=True)

    base_url: str | None = Field(default=None, description="set (here or in `extra`): the system is on")
    values: dict[str, Any] = Field(
        default_factory=dict[str, Any],
        description="single values set one by one (credentials such as email/api_token/api_key/token, "
        "YouTrack's note_group_id): override the same keys in `extra`; None means not set",
    )
    extra: dict[str, Any] = Field(
        default_factory=dict[str, Any],
        description="the rest of the adapter's config (groups, assignees, priorities, transitions, fields; "
        "any key of its config model, base_url, timeout_s and retry included)",
    )
    names: dict[str, str] = Field(
        default_factory=dict[str, str],
        description="config key -> the setting an operator fixes (e.g. email -> TRIAGE_JIRA_EMAIL), named in errors",
    )

    @property
    def enabled(self) -> bool:
        return self.base_url is not None or "base_url" in self.extra

    def adapter_values(self, timeout_s: float, retry: RetrySettings) -> dict[str, Any]:
        """The values the adapter's config model is validated from: the shared timeout and retry budget,
        overridden by `extra`, overridden by `base_url` and `values`."""
        merged: dict[str, Any] = {"timeout_s": timeout_s, "retry": retry.model_dump()}
        merged.update(self.extra)
        if self.base_url is not None:
            merged["base_url"] = self.base_url
        merged.update({k: v for k, v in self.values.items() if v is not None})
        return merged


class SystemsConfig(BaseModel):
    """Every ticketing system write-back may go to, and the budget shared by their HTTP calls."""

    model_config = ConfigDict(frozen=True)

    enabled: bool = Field(default=True, description="false: no system is built (triage only)")
    timeout_s: float = Field(default=10.0, gt=0, description="per HTTP request")
    retry: RetrySettings = Field(default_factory=RetrySettings, description="the retry budget per write-back call")
    systems: dict[str, SystemSettings] = Field(
        default_factory=dict[str, SystemSettings], description="by system name: zendesk, jira, freshdesk, youtrack"
    )
