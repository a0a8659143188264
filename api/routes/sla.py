"""SLA and routing endpoints: tickets at risk of breaching their deadlines, and who is on duty.

Both read the team file (`TRIAGE_TEAM_FILE`, agent/routing.py) and take an optional `at` (ISO 8601;
default now) to ask "as of" another moment.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import AfterValidator, BaseModel, ValidationError
from sqlalchemy import select

from agent.domain import TicketResult, utcnow
from agent.graph.routing import Team, TeamError, cached_team
from agent.graph.shifts import TIERS, Tier
from agent.graph.sla import EARLIEST, LATEST, Deadlines, RiskState, as_utc, check_window
from agent.storage.tickets import TicketRow, TicketStore
from api.deps import AgentDep, ServicesDep

router = APIRouter(tags=["sla"])

# statuses whose SLA clock has stopped: auto-resolved (done) or never triaged (failed: no result)
CLOSED = ("done", "failed", "received", "processing")


def _in_window(at: datetime | None) -> datetime | None:
    # the shift and deadline arithmetic is defined from 1970 to 2200 (agent/sla.py); outside it, 422
    return check_window(at, "at") if at is not None else None


At = Annotated[
    datetime | None,
    AfterValidator(_in_window),
    Query(description=f"the moment to evaluate (ISO 8601, {EARLIEST:%Y-%m-%d} to {LATEST:%Y-%m-%d} UTC); default now"),
]


class AtRiskTicket(BaseModel):
    ticket_id: str
    external_id: str
    source: str
    status: str
    state: RiskState
    deadline: Literal["first_response", "resolution"]  # the deadline `state` and `minutes_left` are about
    due: datetime
    minutes_left: int  # negative: minutes overdue
    first_response_due: datetime
    resolution_due: datetime
    priority: str
    client: str | None
    client_tier: str
    queue: str
    tier: str
    engineer: str | None


class AtRiskOut(BaseModel):
    at: datetime
    at_risk_share: float
    tickets: list[AtRiskTicket]  # most urgent first (fewest minutes left; breached first)


class OnDutyEngineer(BaseModel):
    name: str
    email: str | None
    queues: list[str]
    tiers: list[str]
    languages: list[str]
    timezone: str
    shift_ends: datetime | None


class OnDutyOut(BaseModel):
    at: datetime
    queue: str | None
    tier: str | None
    engineers: list[OnDutyEngineer]  # file order (the first is who a new handoff would get)
    fallback_on_call: str | None


def _team(services: ServicesDep) -> Team:
    try:
        return cached_team(services.settings.team_file)
    except TeamError as exc:
        raise HTTPException(503, detail=str(exc)) from exc


def _open_rows(store: TicketStore) -> list[dict[str, Any]]:
    with store.session() as s:
        rows = s.execute(
            select(TicketRow.id, TicketRow.external_id, TicketRow.source, TicketRow.status, TicketRow.result).where(
                TicketRow.status.not_in(CLOSED)
            )
        ).all()
    return [{"id": r[0], "external_id": r[1], "source": r[2], "status": r[3], "result": r[4]} for r in rows]


def at_risk_tickets(rows: list[dict[str, Any]], team: Team, now: datetime) -> list[AtRiskTicket]:
    """Open tickets whose result carries SLA deadlines (`result.routing`) and that are at risk or
    breached at `now`, most urgent first. The service does not see human replies yet, so the first
    response counts as not given (the worse of the two deadlines)."""
    out: list[AtRiskTicket] = []
    for row in rows:
        try:
            result = TicketResult.stored(row["result"])
        except ValidationError:
            continue  # a result from an older version: no usable deadlines
        routing = result.routing if result is not None else None
        if routing is None:
            continue
        due = Deadlines(
            priority=routing.priority,
            client_tier=routing.client_tier,
            started_at=routing.sla_started_at,
            first_response_due=routing.first_response_due,
            resolution_due=routing.resolution_due,
        )
        risk = team.sla.at_risk(due, now, responded=False)
        if risk.state == "ok":
            continue
        out.append(
            AtRiskTicket(
                ticket_id=row["id"],
                external_id=row["external_id"],
                source=row["source"],
                status=row["status"],
                state=risk.state,
                deadline=risk.deadline,
                due=risk.due,
                minutes_left=risk.minutes_left,
                first_response_due=due.first_response_due,
                resolution_due=due.resolution_due,
                priority=due.priority,
                client=routing.client,
                client_tier=due.client_tier,
                queue=routing.queue,
                tier=routing.tier,
                engineer=routing.engineer,
            )
        )
    out.sort(key=lambda t: (t.minutes_left, t.due, t.ticket_id))
    return out


@router.get("/sla/at-risk", response_model=AtRiskOut)
async def sla_at_risk(services: ServicesDep, _who: AgentDep, at: At = None) -> AtRiskOut:
    """Handed-off tickets not yet resolved whose first-response or resolution deadline is near (less
    than `at_risk_share` of the window left) or past, most urgent first."""
    team = _team(services)
    now = as_utc(at) if at is not None else utcnow()
    rows = await run_in_threadpool(_open_rows, services.store)
    return AtRiskOut(at=now, at_risk_share=team.sla.at_risk_share, tickets=at_risk_tickets(rows, team, now))


@router.get("/routing/on-duty", response_model=OnDutyOut)
async def on_duty(
    services: ServicesDep,
    _who: AgentDep,
    queue: Annotated[str | None, Query(description="a queue; default every queue")] = None,
    tier: Annotated[Tier | None, Query(description="L1, L2 or L3; default every tier")] = None,
    language: Annotated[str | None, Query(description="put engineers speaking it first")] = None,
    at: At = None,
) -> OnDutyOut:
    """Who is on shift now (or `at`), for a queue and/or tier."""
    team = _team(services)
    if queue is not None and queue not in team.queues:
        raise HTTPException(404, detail=f"unknown queue {queue!r}; queues: {', '.join(team.queues)}")
    now = as_utc(at) if at is not None else utcnow()
    engineers = [
        e for e in team.on_shift(now) if (queue is None or queue in e.queues) and (tier is None or tier in e.tiers)
    ]
    if language:
        engineers.sort(key=lambda e: language not in e.languages)
    return OnDutyOut(
        at=now,
        queue=queue,
        tier=tier,
        engineers=[
            OnDutyEngineer(
                name=e.name,
                email=e.email,
                queues=e.queues,
                tiers=[t for t in TIERS if t in e.tiers],
                languages=e.languages,
                timezone=e.timezone,
                shift_ends=e.shift_end(now),
            )
            for e in engineers
        ],
        fallback_on_call=team.fallback_on_call,
    )
