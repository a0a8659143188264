"""Write-back to ticketing systems: one Protocol, one adapter per system, an idempotency ledger.

    systems = build_systems(settings)                    # the configured ones, by name
    ledger = Ledger(store.engine)                        # table `writebacks` next to the tickets
    report = apply(WriteBackPlan(...), systems["zendesk"], ledger)

Fake servers for tests and demos live in `tools.ticketing.fake_servers`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from tools.http import (
    PermanentWriteBackError,
    RetryPolicy,
    TransientWriteBackError,
    WriteBackConfigError,
    WriteBackError,
)
from tools.ticketing.base import (
    FreshdeskConfig,
    JiraConfig,
    Priority,
    RetrySettings,
    SystemName,
    TicketingSystem,
    YouTrackConfig,
    ZendeskConfig,
)
from tools.ticketing.freshdesk import Freshdesk
from tools.ticketing.jira import Jira
from tools.ticketing.ledger import (
    Ledger,
    StepOutcome,
    StepRecord,
    WriteBackPlan,
    WriteBackReport,
    apply,
)
from tools.ticketing.youtrack import YouTrack
from tools.ticketing.zendesk import Zendesk

if TYPE_CHECKING:
    from agent.settings import Settings

__all__ = [
    "Freshdesk",
    "FreshdeskConfig",
    "Jira",
    "JiraConfig",
    "Ledger",
    "PermanentWriteBackError",
    "Priority",
    "RetryPolicy",
    "RetrySettings",
    "StepOutcome",
    "StepRecord",
    "SystemName",
    "TicketingSystem",
    "TransientWriteBackError",
    "WriteBackConfigError",
    "WriteBackError",
    "WriteBackPlan",
    "WriteBackReport",
    "YouTrack",
    "YouTrackConfig",
    "Zendesk",
    "ZendeskConfig",
    "apply",
    "build_system",
    "build_systems",
]

# settings field -> config field, per system (the URL field comes first: it switches the system on)
_FLAT: dict[str, dict[str, str]] = {
    "zendesk": {"zendesk_url": "base_url", "zendesk_email": "email", "zendesk_api_token": "api_token"},
    "jira": {"jira_url": "base_url", "jira_email": "email", "jira_api_token": "api_token"},
    "freshdesk": {"freshdesk_url": "base_url", "freshdesk_api_key": "api_key"},
    "youtrack": {"youtrack_url": "base_url", "youtrack_token": "token", "youtrack_note_group_id": "note_group_id"},
}


def _config_dict(name: str, settings: Settings) -> dict[str, Any] | None:
    flat = _FLAT[name]
    url_field = next(iter(flat))
    extra = dict(settings.writeback.get(name, {}))
    if getattr(settings, url_field) is None and "base_url" not in extra:
        return None
    values: dict[str, Any] = {
        "timeout_s": settings.writeback_timeout_s,
        "retry": {"max_attempts": settings.writeback_max_attempts, "max_elapsed_s": settings.writeback_max_elapsed_s},
    }
    values.update(extra)
    for setting, key in flat.items():
        value = getattr(settings, setting)
        if value is not None:
            values[key] = value
    return values


def build_system(name: str, settings: Settings) -> TicketingSystem | None:
    """The adapter for one system from the settings; None if its URL is not set."""
    values = _config_dict(name, settings)
    if values is None:
        return None
    try:
        if name == "zendesk":
            return Zendesk(ZendeskConfig.model_validate(values))
        if name == "jira":
            return Jira(JiraConfig.model_validate(values))
        if name == "freshdesk":
            return Freshdesk(FreshdeskConfig.model_validate(values))
        if name == "youtrack":
            return YouTrack(YouTrackConfig.model_validate(values))
    except ValidationError as exc:
        names = {v: k for k, v in _FLAT[name].items()}
        missing = [
            f"TRIAGE_{names[str(e['loc'][0])].upper()}" if str(e["loc"][0]) in names else ".".join(map(str, e["loc"]))
            for e in exc.errors()
        ]
        raise WriteBackConfigError(
            f"{name} write-back is half configured: fix {', '.join(missing)} ({exc.error_count()} error(s): "
            f"{'; '.join(str(e['msg']) for e in exc.errors())})",
            system=name,
        ) from None
    raise WriteBackConfigError(f"unknown ticketing system {name!r}: one of {', '.join(_FLAT)}", system=name)


def build_systems(settings: Settings) -> dict[str, TicketingSystem]:
    """Every configured system, by the name its webhooks use (zendesk, jira, freshdesk, youtrack)."""
    if not settings.writeback_enabled:
        return {}
    systems: dict[str, TicketingSystem] = {}
    for name in _FLAT:
        system = build_system(name, settings)
        if system is not None:
            systems[name] = system
    return systems
