"""Write-back wiring: the configured ticketing systems and their ledger, running a plan into the
`WriteBack` stored with a ticket, and retrying a failed write-back later.

The graph node (`agent.graph.nodes.write_back`) decides *what* to write; this module runs it and keeps
the ticket's status honest: a ticket whose write-back failed is `writeback_failed` (its triage result
intact) until `retry_writeback` re-applies the stored plan. The ledger, keyed by (ticket id, step),
skips every step already done, so a retry never posts a reply twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy.engine import Engine

from agent.domain import TicketResult, TicketStatus, WriteBack
from agent.graph.nodes.write_back import run_plan, writeback_event
from agent.graph.result import failure_text, ticket_status
from agent.storage import ledger as stored_ledger
from agent.storage.db import make_engine
from agent.storage.lease import Heartbeat
from tools.ticketing import (
    Ledger,
    RetrySettings,
    SystemsConfig,
    SystemSettings,
    TicketingSystem,
    build_systems,
)

if TYPE_CHECKING:
    from agent.settings import Settings
    from agent.storage.tickets import TicketStore


# settings field -> the adapter's config key, per system (the URL field comes first: it switches the system on)
_FLAT: dict[str, dict[str, str]] = {
    "zendesk": {"zendesk_url": "base_url", "zendesk_email": "email", "zendesk_api_token": "api_token"},
    "jira": {"jira_url": "base_url", "jira_email": "email", "jira_api_token": "api_token"},
    "freshdesk": {"freshdesk_url": "base_url", "freshdesk_api_key": "api_key"},
    "youtrack": {"youtrack_url": "base_url", "youtrack_token": "token", "youtrack_note_group_id": "note_group_id"},
}


def systems_config(settings: Settings) -> SystemsConfig:
    """The ticketing systems' write-back config (tools' own model) from the settings: per system the
    TRIAGE_<SYSTEM>_* values and its `[writeback.<system>]` table, and the shared timeout and retry budget."""
    systems: dict[str, SystemSettings] = {}
    for name, flat in _FLAT.items():
        url_field, *value_fields = flat
        systems[name] = SystemSettings(
            base_url=getattr(settings, url_field),
            values={flat[f]: getattr(settings, f) for f in value_fields},
            extra=dict(settings.writeback.get(name, {})),
            names={key: f"TRIAGE_{field.upper()}" for field, key in flat.items()},
        )
    return SystemsConfig(
        enabled=settings.writeback_enabled,
        timeout_s=settings.writeback_timeout_s,
        retry=RetrySettings(
            max_attempts=settings.writeback_max_attempts, max_elapsed_s=settings.writeback_max_elapsed_s
        ),
        systems=systems,
    )


def open_writeback(settings: Settings, engine: Engine | None = None) -> tuple[dict[str, TicketingSystem], Ledger]:
    """The configured systems (by source name) and the ledger on the ticket store's database.

    Pass the ticket store's engine to share its connection pool; without one the ledger opens the same
    database from `settings.db_url` (SQLite or PostgreSQL, migrated to the current schema). Raises
    `WriteBackConfigError` when a system is half configured.
    """
    systems = build_systems(systems_config(settings))
    return systems, stored_ledger.Ledger(engine if engine is not None else make_engine(settings.db_url))


# ---- retry ----------------------------------------------------------------------------------------
RetryRefusal = Literal["not_found", "not_failed", "busy", "not_configured", "no_plan"]


class RetryRefused(Exception):
    """The retry was not attempted (unknown ticket, nothing failed, already running, system not set up)."""

    def __init__(self, message: str, reason: RetryRefusal) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class RetryOutcome:
    ticket_id: str
    status: TicketStatus
    writeback: WriteBack


def retry_writeback(
    store: TicketStore,
    ticketing: Mapping[str, TicketingSystem],
    ledger: Ledger,
    ticket_id: str,
    *,
    lease_s: float = 15.0,
    by: Mapping[str, Any] | None = None,
) -> RetryOutcome:
    """Re-apply the stored write-back plan of a `writeback_failed` ticket; steps already done are skipped.

    Holds the ticket's lease while it runs (renewed by a heartbeat), so two retries of one ticket
    never run at once. The triage result is kept; only its `writeback` part, the status and the
    error change, and the audit trail says what happened. Raises `RetryRefused` when there is
    nothing (or no way) to retry.
    """
    row = store.get(ticket_id)
    if row is None:
        raise RetryRefused(f"no ticket {ticket_id!r}", "not_found")
    if row["status"] != "writeback_failed":
        raise RetryRefused(
            f"ticket {ticket_id} is {row['status']!r}: only a writeback_failed ticket has a write-back to retry",
            "not_failed",
        )
    result = TicketResult.stored(row["result"])
    previous = result.writeback if result is not None else None
    if result is None or previous is None or previous.plan is None:
        raise RetryRefused(f"ticket {ticket_id} has no stored write-back plan to re-apply", "no_plan")
    plan = previous.plan
    system = ticketing.get(previous.system or "")
    if system is None:
        raise RetryRefused(
            f"{previous.system} write-back is not configured on this server: set TRIAGE_"
            f"{(previous.system or '').upper()}_URL and its credentials, then retry",
            "not_configured",
        )
    owner = f"writeback-retry-{uuid.uuid4().hex[:8]}"
    if not store.lock_writeback(ticket_id, owner, lease_s):
        raise RetryRefused(f"ticket {ticket_id} changed or is being retried right now; try again shortly", "busy")
    try:
        # the lease is renewed while the plan runs (each call may retry for up to its time budget)
        with Heartbeat(store, ticket_id, owner, lease_s, lease_s / 3):
            writeback = run_plan(plan, system, ledger, runs=previous.runs + 1)
    except BaseException:
        store.unlock_writeback(ticket_id, owner)
        raise
    status = ticket_status(result.decision.action, writeback, result.review.action if result.review else None)
    extra: dict[str, Any] = {"by": dict(by)} if by else {}  # who asked for the retry (name, role, key id)
    event = writeback_event(writeback, node="writeback_retry", run=writeback.runs, **extra)
    stored = result.model_copy(update={"writeback": writeback}).model_dump(mode="json")
    store.finish_writeback(ticket_id, owner, status, stored, [event], failure_text(writeback))
    return RetryOutcome(ticket_id, status, writeback)
