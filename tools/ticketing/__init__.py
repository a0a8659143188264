"""Write-back to ticketing systems: one Protocol, one adapter per system, a plan run exactly once.

    systems = build_systems(SystemsConfig(...))          # the configured ones, by name (config.py)
    report = apply(WriteBackPlan(...), systems["zendesk"], ledger)

`ledger` is any `Ledger` (the Protocol in plan.py); the service's is `agent.storage.ledger.Ledger`
(table `writebacks` next to the tickets). Fake servers for tests and demos live in
`tools.ticketing.testing` (one module per system).
"""

from __future__ import annotations

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
from tools.ticketing.config import SYSTEMS, SystemsConfig, SystemSettings
from tools.ticketing.freshdesk import Freshdesk
from tools.ticketing.jira import Jira
from tools.ticketing.plan import (
    Ledger,
    StepOutcome,
    StepRecord,
    WriteBackPlan,
    WriteBackReport,
    apply,
)
from tools.ticketing.youtrack import YouTrack
from tools.ticketing.zendesk import Zendesk

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
    "SystemSettings",
    "SystemsConfig",
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


def build_system(name: str, config: SystemsConfig) -> TicketingSystem | None:
    """The adapter for one system from the config; None if it is not configured (no base URL)."""
    if name not in SYSTEMS:
        raise WriteBackConfigError(f"unknown ticketing system {name!r}: one of {', '.join(SYSTEMS)}", system=name)
    entry = config.systems.get(name)
    if entry is None or not entry.enabled:
        return None
    values = entry.adapter_values(config.timeout_s, config.retry)
    try:
        if name == "zendesk":
            return Zendesk(ZendeskConfig.model_validate(values))
        if name == "jira":
            return Jira(JiraConfig.model_validate(values))
        if name == "freshdesk":
            return Freshdesk(FreshdeskConfig.model_validate(values))
        return YouTrack(YouTrackConfig.model_validate(values))
    except ValidationError as exc:
        missing = [entry.names.get(str(e["loc"][0]), ".".join(map(str, e["loc"]))) for e in exc.errors()]
        raise WriteBackConfigError(
            f"{name} write-back is half configured: fix {', '.join(missing)} ({exc.error_count()} error(s): "
            f"{'; '.join(str(e['msg']) for e in exc.errors())})",
            system=name,
        ) from None


def build_systems(config: SystemsConfig) -> dict[str, TicketingSystem]:
    """Every configured system, by the name its webhooks use (zendesk, jira, freshdesk, youtrack)."""
    if not config.enabled:
        return {}
    systems: dict[str, TicketingSystem] = {}
    for name in SYSTEMS:
        system = build_system(name, config)
        if system is not None:
            systems[name] = system
    return systems
