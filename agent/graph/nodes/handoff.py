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
from agent.graph.notes import note_text
from agent.graph.risk.notes import careful_notes, model_kinds
from agent.graph.routing import Routing, Team, TeamError, cached_team
from agent.graph.sla import Deadlines, as_utc
from agent.graph.state import TriageState

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
SUMMARY_CHARS = 300
_warned: set[Path] = set()


def handoff(state: TriageState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Route to a human: queue, tier, engineer, deadlines and a note (see the module doc)."""
    settings = runtime.context.settings
    return handoff_at(state, settings.team_file, lang=settings.team_language)


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


def handoff_at(state: TriageState, team_file: Path | None, clock: Clock = utcnow, lang: str = "en") -> dict[str, Any]:
    """The node's work with an injectable clock; `team_file` None: no routing (the old behaviour);
    `lang`: the team's language, which the note is written in (agent/graph/notes.py)."""
    triage = state["triage"]
    decision = state["decision"]
    team, problem = team_or_none(team_file) if team_file is not None else (None, "no team file configured")
    if team is None:
        lines = [
            note_text("handoff_queue", lang, queue=decision.queue),
            note_text("why", lang, reason=decision.reason),
            *_found(state, lang),
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
    engineer = routing.engineer or note_text("nobody", lang)
    if routing.engineer_email:
        engineer += f" <{routing.engineer_email}>"
    lines = [
        note_text("handoff_assigned", lang, queue=routing.queue, tier=routing.tier, engineer=engineer),
        note_text("ticket", lang, summary=_summary(state)),
        note_text("customer", lang, client=routing.client or note_text("unknown", lang), tier=routing.client_tier),
        note_text("why_not_resolved", lang, reason=decision.reason),
        *_found(state, lang),
        note_text("routing", lang, why=routing.why),
        _sla_line(due, team, routing, lang),
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


def _found(state: TriageState, lang: str = "en") -> list[str]:
    """What the AI found: triage, the known issue, the closest knowledge."""
    triage = state["triage"]
    decision = state["decision"]
    hits = state.get("hits", [])
    lines = [
        note_text(
            "found_triage",
            lang,
            category=triage.category.value,
            confidence=f"{triage.category.confidence:.2f}",
            priority=triage.priority.value,
            language=triage.language.value,
            sentiment=triage.sentiment.value,
            risk=", ".join(triage.risk.value) or note_text("none", lang),
        )
    ]
    if decision.linked_issue:
        lines.append(note_text("known_issue", lang, doc=decision.linked_issue))
    careful = careful_notes(model_kinds(state.get("audit", [])), triage.risk.value)
    lines += [note_text("careful", lang, note=note) for note in careful]
    match = note_text("match", lang)
    found = "\n".join(f"- {h.doc_id} {h.title} ({match} {h.score:.2f})" for h in hits[:3])
    return [*lines, note_text("closest", lang), found or note_text("nothing_relevant", lang)]


def _summary(state: TriageState) -> str:
    """The start of the redacted ticket text on one line (never the raw text: it may hold PII)."""
    text = state.get("text")
    if text is None:
        text = "(text not available)"
    flat = re.sub(r"\s+", " ", re.sub(r"\s*\n\s*\n\s*", " — ", text.strip(), count=1))  # subject — body
    return flat if len(flat) <= SUMMARY_CHARS else flat[: SUMMARY_CHARS - 3].rstrip() + "..."


def _when(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _sla_line(due: Deadlines, team: Team, routing: Routing, lang: str = "en") -> str:
    line = note_text(
        "sla",
        lang,
        tier=routing.client_tier,
        priority=due.priority,
        first=_when(due.first_response_due),
        resolution=_when(due.resolution_due),
    )
    eng = team.engineer(routing.engineer) if routing.engineer else None
    if eng is not None:
        local = due.first_response_due.astimezone(ZoneInfo(eng.timezone))
        line += note_text("sla_local", lang, local=f"{local:%a %H:%M}", zone=eng.timezone, name=eng.name)
    return line
