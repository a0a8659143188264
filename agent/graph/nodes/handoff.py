"""handoff: route the ticket to the right queue, tier and on-shift engineer, with its SLA deadlines
and an internal note saying what the ticket is, what the AI found and why it did not resolve it.

Routing and SLA come from the team file (`settings.team_file`, agent/routing.py). Without one the
node hands off to the policy's queue as before, with a logged warning. Times: the SLA clock starts
at the ticket's creation when the ticket carries it (`created_at`), else now; who is on duty is
decided now (a ticket resumed hours later goes to whoever is on shift then). `handoff_at` takes the
clock as an argument, for tests.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from langgraph.runtime import Runtime

from agent.domain import AuditEvent, HandoffRouting, utcnow
from agent.graph.context import AgentContext
from agent.graph.routing import Routing, Team, TeamError, cached_team
from agent.graph.sla import Deadlines, as_utc
from agent.graph.state import TriageState

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
SUMMARY_CHARS = 300
_warned: set[Path] = set()


def handoff(state: TriageState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Route to a human: queue, tier, engineer, deadlines and a note (see the module doc)."""
    return handoff_at(state, runtime.context.settings.team_file)


def team_or_none(path: Path) -> tuple[Team | None, str | None]:
    """The team file (cached), or None and why (logged once per file): a handoff must never fail
    because routing is not set up; `triage coverage check` reports a bad file loudly."""
    try:
        return cached_team(path), None
    except TeamError as exc:
        if path not in _warned:
            _warned.add(path)
            missing = not path.exists()
            log.log(
                logging.WARNING if missing else logging.ERROR,
                "%s; handoffs go to the policy's queue with no engineer or SLA deadlines",
                exc,
            )
        return None, str(exc)


def created_at(state: TriageState) -> datetime | None:
    """When the SLA clock starts: the ticket's creation in its own system, else when we received it."""
    ticket = state["ticket"]
    value = ticket.created_at or ticket.received_at
    return as_utc(value) if value is not None else None


def handoff_at(state: TriageState, team_file: Path | None, clock: Clock = utcnow) -> dict[str, Any]:
    """The node's work with an injectable clock; `team_file` None: no routing (the old behaviour)."""
    triage = state["triage"]
    decision = state["decision"]
    team, problem = team_or_none(team_file) if team_file is not None else (None, "no team file configured")
    if team is None:
        lines = [
            f"AI triage handed this ticket to queue '{decision.queue}'.",
            f"Why: {decision.reason}",
            *_found(state),
        ]
        return {
            "handoff_note": "\n".join(lines),
            "audit": [
                AuditEvent(
                    node="handoff", event="routed", detail={"queue": decision.queue, "routing": f"off: {problem}"}
                )
            ],
        }

    now = as_utc(clock())
    start = created_at(state) or now
    ticket = state["ticket"]
    routing = team.route(triage, decision, ticket.customer, now)
    due = team.deadlines(triage.priority.value, routing.client_tier, start)
    engineer = routing.engineer or "nobody (no one on duty, no fallback on-call configured)"
    lines = [
        f"AI triage handed this ticket to queue '{routing.queue}' ({routing.tier}), assigned to {engineer}"
        f"{f' <{routing.engineer_email}>' if routing.engineer_email else ''}.",
        f"Ticket: {_summary(state)}",
        f"Customer: {routing.client or 'unknown'} ({routing.client_tier})",
        f"Why the AI did not resolve it: {decision.reason}",
        *_found(state),
        f"Routing: {routing.why}",
        _sla_line(due, team, routing),
    ]
    record = routing_record(routing, due)
    return {
        "handoff_note": "\n".join(lines),
        "routing": record,
        "audit": [
            AuditEvent(
                node="handoff",
                event="routed",
                detail=record.model_dump(
                    mode="json",
                    include={
                        "queue",
                        "tier",
                        "engineer",
                        "rule",
                        "client_tier",
                        "first_response_due",
                        "resolution_due",
                    },
                ),
            )
        ],
    }


AUDITED = {"queue", "tier", "engineer", "rule", "client_tier", "first_response_due", "resolution_due"}


def routing_record(routing: Routing, due: Deadlines) -> HandoffRouting:
    """The `routing` result of a handoff: where it went, why, and its SLA deadlines."""
    return HandoffRouting(
        **routing.model_dump(),
        priority=due.priority,
        sla_started_at=due.started_at,
        first_response_due=due.first_response_due,
        resolution_due=due.resolution_due,
    )


def _found(state: TriageState) -> list[str]:
    """What the AI found: triage, the known issue, the closest knowledge."""
    triage = state["triage"]
    decision = state["decision"]
    hits = state.get("hits", [])
    lines = [
        f"Triage: category {triage.category.value} ({triage.category.confidence:.2f}), "
        f"priority {triage.priority.value}, language {triage.language.value}, "
        f"sentiment {triage.sentiment.value}, risk {', '.join(triage.risk.value) or 'none'}"
    ]
    if decision.linked_issue:
        lines.append(f"Known issue: {decision.linked_issue}")
    found = "\n".join(f"- {h.doc_id} {h.title} (match {h.score:.2f})" for h in hits[:3]) or "- nothing relevant"
    return [*lines, "Closest knowledge:", found]


def _summary(state: TriageState) -> str:
    """The start of the redacted ticket text on one line (never the raw text: it may hold PII)."""
    text = state.get("text")
    if text is None:
        text = "(text not available)"
    flat = re.sub(r"\s+", " ", re.sub(r"\s*\n\s*\n\s*", " — ", text.strip(), count=1))  # subject — body
    return flat if len(flat) <= SUMMARY_CHARS else flat[: SUMMARY_CHARS - 3].rstrip() + "..."


def _when(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _sla_line(due: Deadlines, team: Team, routing: Routing) -> str:
    line = (
        f"SLA ({routing.client_tier}, {due.priority}): first response by {_when(due.first_response_due)}, "
        f"resolution by {_when(due.resolution_due)}"
    )
    eng = team.engineer(routing.engineer) if routing.engineer else None
    if eng is not None:
        local = due.first_response_due.astimezone(ZoneInfo(eng.timezone))
        line += f" (first response {local:%a %H:%M} {eng.timezone} for {eng.name})"
    return line
