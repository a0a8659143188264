"""`GET /kpis`: the support KPIs for the tickets created in a period (agent/insights/kpis.py has the
definitions), filtered by client tier, support tier, queue and category."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.encoders import jsonable_encoder
from pydantic import AfterValidator

from agent.domain import utcnow
from agent.graph.routing import TeamError, cached_team
from agent.graph.sla import EARLIEST, LATEST, as_utc, check_window
from agent.insights.kpis import Filters, compute_kpis, load_root_causes
from api.deps import AgentDep, ServicesDep

router = APIRouter(tags=["kpis"])
DEFAULT_DAYS = 30


def _in_window(at: datetime | None) -> datetime | None:
    return check_window(at, "the time", end=True) if at is not None else None


When = Annotated[datetime | None, AfterValidator(_in_window)]
Name = Annotated[str | None, Query(max_length=64)]


@router.get("/kpis")
async def kpis(
    services: ServicesDep,
    _who: AgentDep,
    start: Annotated[
        When,
        Query(
            alias="from",
            description=f"period start, inclusive (ISO 8601 date or time, UTC; default `to` - "
            f"{DEFAULT_DAYS} days; {EARLIEST:%Y-%m-%d} to {LATEST:%Y-%m-%d})",
        ),
    ] = None,
    end: Annotated[When, Query(alias="to", description="period end, exclusive (default now)")] = None,
    tier: Annotated[Name, Query(description="client tier (the SLA's: standard, enterprise, ...)")] = None,
    support_tier: Annotated[Name, Query(description="L1, L2 or L3")] = None,
    queue: Name = None,
    category: Name = None,
) -> dict[str, Any]:
    """The KPIs of the tickets created in [from, to) in their own systems (agent/insights/kpis.py)."""
    end_at = as_utc(end) if end is not None else utcnow()
    start_at = as_utc(start) if start is not None else end_at - timedelta(days=DEFAULT_DAYS)
    if start_at >= end_at:
        raise HTTPException(422, detail=f"`from` ({start_at.isoformat()}) must be before `to` ({end_at.isoformat()})")
    settings = services.settings
    try:
        team = cached_team(settings.team_file)
    except TeamError:
        team = None  # the KPIs stand without SLA targets; /sla/at-risk says what is wrong with the file
    filters = Filters(tier=tier, support_tier=support_tier, queue=queue, category=category)
    result = await run_in_threadpool(
        compute_kpis,
        services.store.engine,
        start_at,
        end_at,
        filters=filters,
        sla=team.sla if team is not None else None,
        default_tier=team.default_client_tier if team is not None else "standard",
        root_causes=load_root_causes(settings.kb_path),
    )
    return jsonable_encoder(result)
