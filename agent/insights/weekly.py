"""The numbers the dashboard (`GET /dashboard/data`, api/static/dashboard/) and the weekly review
(`triage report weekly`) show, all from the same functions, so the page, the report and `GET /kpis`
never disagree:

    period = compute_kpis(engine, start, end, ...)          # exactly what /kpis answers
    weeks = weekly_trend(engine, end, 12, ...)              # one compute_kpis per ISO week (Mon 00:00 UTC)
    topics = recurring_issues(store, start, end, ...)       # agent/insights/topics.py over the period's tickets
    undone = undone_auto_resolutions(engine, start, end)    # auto-resolutions reopened / taken by a human
    changes = what_changed(current, previous_weeks)         # each trend KPI against last week and the mean

Every trend point is `compute_kpis` for its week (the same SQL as /kpis; root causes left out), so a
week's figures equal `GET /kpis?from=<week start>&to=<week end>`. The week holding `end` is cut at
`end` (`partial`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, select
from sqlalchemy.engine import Engine

from agent.domain import utcnow
from agent.insights.kpis import DURABLE_DAYS, Filters, RootCause, compute_kpis
from agent.storage.events import LifecycleRow

if TYPE_CHECKING:
    from agent.graph.sla import SlaConfig
    from agent.insights.topics import RcaDoc

WEEK = timedelta(days=7)
MAX_WEEKS = 52
TOPICS_MIN_TICKETS = 8  # fewer tickets than this make no clusters worth a look
TOPICS_MAX_TICKETS = 5000  # the newest ones; k-means on TF-IDF stays a few seconds
TOPICS_BASELINE_WEEKS = 4
_ISO_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")

# the trend's figures: (key, higher is better); the dashboard and the report plot these
TREND: tuple[tuple[str, bool], ...] = (
    ("tickets_created", False),  # fewer new tickets is the goal (root causes removed)
    ("ai_triaged_rate", True),
    ("auto_resolution_rate", True),
    ("durable_auto_resolution_rate", True),
    ("handoff_rate", False),
    ("reopen_rate", False),
    ("first_contact_resolution_rate", True),
    ("first_response_seconds_p50", False),
    ("first_response_seconds_p90", False),
    ("resolution_seconds_p50", False),
    ("resolution_seconds_p90", False),
    ("resolution_seconds_mean", False),
    ("backlog", False),
    ("csat", True),
    ("sla_adherence_rate", True),
)
COUNTS = (
    "solved",
    "reopened",
    "auto_resolved",
    "durable_auto_resolved",
    "auto_resolutions_pending_verification",
    "handoffs",
    "csat_responses",
    "first_responses",
    "resolutions",
    "assigned_to_human",
)


class PeriodError(ValueError):
    """A week or period that cannot be read; the message says what to give instead."""


def as_utc(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def week_start(at: datetime) -> datetime:
    """Monday 00:00 UTC of the ISO week holding `at`."""
    at = as_utc(at)
    day = datetime(at.year, at.month, at.day, tzinfo=UTC)
    return day - timedelta(days=day.weekday())


def week_label(at: datetime) -> str:
    """`2026-W48`: the ISO week holding `at` (UTC)."""
    year, week, _ = as_utc(at).isocalendar()
    return f"{year}-W{week:02d}"


def parse_week(spec: str) -> tuple[datetime, datetime]:
    """`YYYY-Www` -> [Monday 00:00 UTC, the next Monday). PeriodError when it is not an ISO week."""
    m = _ISO_WEEK.match(spec.strip())
    if not m:
        raise PeriodError(f"week {spec!r} is not an ISO week: give YYYY-Www, e.g. 2026-W48")
    try:
        start = datetime.fromisocalendar(int(m.group(1)), int(m.group(2)), 1).replace(tzinfo=UTC)
    except ValueError as exc:
        raise PeriodError(f"week {spec!r} does not exist ({exc}); weeks run 01 to 52 or 53") from exc
    return start, start + WEEK


@dataclass(frozen=True)
class Week:
    label: str
    start: datetime
    end: datetime  # exclusive; cut at the trend's end for the week in progress
    partial: bool


def weeks_until(end: datetime, n: int) -> list[Week]:
    """The `n` ISO weeks up to `end`, oldest first; the last one holds the instant before `end`."""
    if not 1 <= n <= MAX_WEEKS:
        raise PeriodError(f"weeks must be 1 to {MAX_WEEKS}, not {n}")
    end = as_utc(end)
    last = week_start(end - timedelta(microseconds=1))
    out: list[Week] = []
    for i in range(n - 1, -1, -1):
        start = last - WEEK * i
        stop = min(start + WEEK, end)
        out.append(Week(week_label(start), start, stop, partial=stop < start + WEEK))
    return out


def trend_point(kpis: dict[str, Any], week: Week | None = None) -> dict[str, Any]:
    """The trend's figures of one compute_kpis answer (and its SLA breach counts)."""
    sla = kpis.get("sla") or {}
    point: dict[str, Any] = {key: kpis.get(key) for key, _ in TREND}
    point.update({key: kpis.get(key) for key in COUNTS})
    point["sla_breached"] = sla.get("breached")
    point["sla_met"] = sla.get("met")
    point["sla_breaches"] = sla.get("breaches") or {}
    if week is not None:
        point.update(week=week.label, **{"from": week.start, "to": week.end}, partial=week.partial)
    return point


def weekly_trend(
    engine: Engine,
    end: datetime,
    weeks: int = 12,
    *,
    filters: Filters | None = None,
    sla: SlaConfig | None = None,
    default_tier: str = "standard",
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """One trend point per ISO week up to `end`, oldest first (each = GET /kpis for that week)."""
    now = as_utc(now) if now is not None else utcnow()
    out: list[dict[str, Any]] = []
    for week in weeks_until(end, weeks):
        kpis = compute_kpis(engine, week.start, week.end, filters=filters, sla=sla, default_tier=default_tier, now=now)
        out.append(trend_point(kpis, week))
    return out


def what_changed(current: dict[str, Any], previous: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each trend KPI of `current` against the last of `previous` and the mean of all of them, with
    whether the move is for the better (None when there is nothing to compare or it did not move)."""
    out: list[dict[str, Any]] = []
    for key, higher_better in TREND:
        now_v = current.get(key)
        before = [float(p[key]) for p in previous if p.get(key) is not None]
        last_v = previous[-1].get(key) if previous else None
        mean_v = round(sum(before) / len(before), 4) if before else None
        change = None if now_v is None or last_v is None else round(float(now_v) - float(last_v), 4)
        better = None if change is None or abs(change) < 1e-9 else (change > 0) == higher_better
        vs_mean = None if now_v is None or mean_v is None else round(float(now_v) - mean_v, 4)
        out.append(
            {
                "kpi": key,
                "value": now_v,
                "previous": last_v,
                "change": change,
                "better": better,
                "mean_before": mean_v,
                "change_vs_mean": vs_mean,
                "higher_is_better": higher_better,
            }
        )
    return out


def undone_auto_resolutions(
    engine: Engine, start: datetime, end: datetime, filters: Filters | None = None, limit: int = 50
) -> dict[str, Any]:
    """Auto-resolutions of the tickets created in [start, end) that were reopened or handed to a human
    afterwards (within DURABLE_DAYS: they are not durable), newest first."""
    L = LifecycleRow
    narrow = (filters or Filters()).conditions()
    where = [
        L.created_at >= as_utc(start),
        L.created_at < as_utc(end),
        L.auto_resolved_at.is_not(None),
        L.auto_undone_s.is_not(None),
        *narrow,
    ]
    query = (
        select(
            L.source,
            L.external_id,
            L.ticket_id,
            L.auto_resolved_at,
            L.auto_undone_s,
            L.reopens,
            L.human_assigned_at,
            L.category,
            L.linked_issue,
            L.csat,
        )
        .where(*where)
        .order_by(L.auto_resolved_at.desc())
    )
    items: list[dict[str, Any]] = []
    total = within = 0
    with engine.connect() as conn:
        for source, ext, ticket_id, at, undone_s, reopens, human_at, category, linked, csat in conn.execute(query):
            if at is None or undone_s is None:  # the query's own conditions: never here
                continue
            total += 1
            within += int(undone_s <= DURABLE_DAYS * 86400)
            if len(items) < limit:
                how = "reopened" if reopens else "reassigned_to_human" if human_at is not None else "undone"
                items.append(
                    {
                        "source": source,
                        "external_id": ext,
                        "ticket_id": ticket_id,
                        "auto_resolved_at": as_utc(at),
                        "undone_after_seconds": int(undone_s),
                        "how": how,
                        "category": category,
                        "linked_issue": linked,
                        "csat": csat,
                    }
                )
    return {"total": total, "within_durable_days": within, "durable_days": DURABLE_DAYS, "items": items}


def filter_choices(engine: Engine) -> dict[str, list[str]]:
    """The values the filters can take (what the stored tickets carry), sorted."""
    L = LifecycleRow
    out: dict[str, list[str]] = {}
    with engine.connect() as conn:
        for name, column in (
            ("tier", L.tier),
            ("queue", L.queue),
            ("category", L.category),
            ("support_tier", L.support_tier),
        ):
            rows = conn.execute(select(column).where(column.is_not(None)).distinct().order_by(column).limit(200))
            out[name] = [str(v) for (v,) in rows]
    return out


def _ticket_ids(engine: Engine, filters: Filters) -> set[str] | None:
    """Our ticket ids of the lifecycle rows the filters keep (None: no filter given)."""
    narrow = filters.conditions()
    if not narrow:
        return None
    L = LifecycleRow
    with engine.connect() as conn:
        rows = conn.execute(select(L.ticket_id).where(and_(*narrow), L.ticket_id.is_not(None)))
        return {str(v) for (v,) in rows}


def recurring_issues(
    store: Any,
    start: datetime,
    end: datetime,
    *,
    filters: Filters | None = None,
    rca_docs: Sequence[RcaDoc] = (),
    root_causes: Iterable[RootCause] = (),
) -> dict[str, Any]:
    """The recurring issues of the tickets the service stored, created in [start, end) (and the
    baseline weeks before it, for the spike check against the last 7 days up to `end`):
    agent/insights/topics.py's clusters (TF-IDF; terms, RCA link, growth, alerts), biggest first.
    {"tickets", "clusters", "alerts", "candidates", "from", "to"}; `clusters` is empty below
    TOPICS_MIN_TICKETS tickets."""
    from agent.insights.topics import TopicsConfig, analyse, recent_tickets

    start, end = as_utc(start), as_utc(end)
    since = min(start, end - WEEK * (1 + TOPICS_BASELINE_WEEKS))
    days = max(1, math.ceil((end - since).total_seconds() / 86400))
    tickets = [t for t in recent_tickets(store, days, end) if t.at < end]
    keep = _ticket_ids(store.engine, filters or Filters())
    if keep is not None:
        tickets = [t for t in tickets if t.id in keep]
    tickets = tickets[-TOPICS_MAX_TICKETS:]
    in_period = sum(1 for t in tickets if t.at >= start)
    fixed = {c.id: c for c in root_causes}
    out: dict[str, Any] = {
        "from": since,
        "to": end,
        "tickets": len(tickets),
        "tickets_in_period": in_period,
        "clusters": [],
        "alerts": [],
        "candidates": [],
    }
    if len(tickets) < TOPICS_MIN_TICKETS:
        return out
    report = analyse(
        [t.text for t in tickets],
        times=[t.at for t in tickets],
        now=end,
        rca_docs=rca_docs,
        config=TopicsConfig(baseline_weeks=TOPICS_BASELINE_WEEKS),
    )
    for c in sorted(report.clusters, key=lambda c: (-c.size, c.id)):
        rca = dict(c.rca) if c.rca else None
        if rca is not None and rca["id"] in fixed and fixed[rca["id"]].fixed_at is not None:
            rca["fixed_at"] = fixed[rca["id"]].fixed_at
        out["clusters"].append(
            {
                "id": c.id,
                "size": c.size,
                "terms": c.terms,
                "examples": c.examples,
                "rca": rca,
                "candidate": c.candidate,
                "last_week": c.last_week,
                "baseline_weekly": None if c.baseline_weekly is None else round(c.baseline_weekly, 2),
                "growth": round(c.growth, 2),
                "score": c.score,
            }
        )
    out["alerts"] = [{k: v for k, v in a.items() if k != "examples"} for a in report.alerts]
    out["candidates"] = report.candidates
    return out
