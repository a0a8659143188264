"""The support KPIs over the lifecycle summary (`ticket_lifecycle`, agent/storage/events.py), in SQL.

    compute_kpis(engine, start, end, sla=team.sla, root_causes=load_root_causes(kb_path))

The cohort is the tickets CREATED in [start, end) in their own system (`created_at`: the created
event's time; our intake's receipt only when the system never said), narrowed by client tier,
support tier, queue and category. Times count from that creation, in whole seconds. Every rate is
None when its denominator is 0. Definitions (the README table says where each follows Zendesk or
ServiceNow):

- tickets_created: tickets of the cohort.
- ai_triaged_rate: share of them this service triaged (a stored triage result).
- auto_resolution_rate: share solved by this service itself (an auto-resolution that was sent, no human
  in the loop).
- durable_auto_resolution_rate: share auto-resolved and neither reopened nor reassigned to a human
  within DURABLE_DAYS (7) of the auto-resolution, counted once those 7 days have passed (ServiceNow's
  durable resolution; Zendesk verifies its automated resolutions 72 h later);
  `auto_resolutions_pending_verification` are the younger ones.
- reopen_rate: share of the solved tickets reopened at least once (solved or closed, then back to open,
  pending or on hold).
- first_contact_resolution_rate: share of the solved tickets solved with exactly one public reply
  (by an agent or this service) and never reopened (Zendesk's one-touch, plus ServiceNow's no reopen).
- first_response_seconds_p50/_p90: creation -> first public reply by an agent or this service
  (Zendesk's first reply time), over the tickets that have one; linear interpolation between ranks.
- resolution_seconds_p50/_p90: creation -> the last solve of the tickets solved now (Zendesk's full
  resolution time; MTTR is its mean, `resolution_seconds_mean`).
- backlog: tickets created before `end` (any time) and not solved or closed at `end` (new, open,
  pending, on hold: Zendesk's unsolved tickets).
- sla_adherence_rate: per client tier x priority (agent/graph/sla.py targets, calendar time), of the
  tickets whose SLA outcome is known, the share that met both targets: first response (a solve
  without a reply counts as the response, as Zendesk's SLA does) and resolution. Breach reasons:
  first_response_late, first_response_missing (none and past due), resolution_late,
  resolution_missing (unsolved past due). Tickets not yet due are `in_progress`.
- handoff_rate: share of the AI-triaged tickets this service handed to a human queue.
- csat: good / (good + bad) satisfaction ratings (Zendesk's CSAT; five-point scales: 4-5 good).
- root_causes: per RCA document (knowledge base, type rca): status, fix date (front matter
  `fixed_at`, else "fixed in release X (15 October 2025)" in its text), tickets linked to it
  (the decision's linked_issue) in the cohort and ever, and new linked tickets in the
  ROOT_CAUSE_WINDOW_DAYS (28) before and after the fix.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from sqlalchemy import DateTime, Integer, String, and_, case, func, literal, not_, or_, select, union_all
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement

from agent.domain import TicketEvent, utcnow
from agent.storage.events import EventRow, LifecycleRow, fold

if TYPE_CHECKING:
    from agent.graph.sla import SlaConfig

DURABLE_DAYS = 7
ROOT_CAUSE_WINDOW_DAYS = 28
L = LifecycleRow


@dataclass(frozen=True)
class RootCause:
    id: str
    title: str
    status: str  # open | workaround | fixed
    fixed_at: datetime | None = None


@dataclass(frozen=True)
class Filters:
    tier: str | None = None  # client tier (the SLA's)
    support_tier: str | None = None  # L1 | L2 | L3
    queue: str | None = None
    category: str | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        pairs = ((L.tier, self.tier), (L.support_tier, self.support_tier), (L.queue, self.queue),
                 (L.category, self.category))  # fmt: skip
        return [column == value for column, value in pairs if value is not None]

    def given(self) -> dict[str, str]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def _utc(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def percentile(sorted_values: Sequence[int], q: float) -> float | None:
    """The q-quantile, linear interpolation between closest ranks (PostgreSQL's percentile_cont)."""
    if not sorted_values:
        return None
    pos = q * (len(sorted_values) - 1)
    low = math.floor(pos)
    high = min(low + 1, len(sorted_values) - 1)
    return round(sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (pos - low), 1)


def _durations(engine: Engine, where: Sequence[ColumnElement[bool]]) -> tuple[list[int], list[int]]:
    """First-response and resolution seconds of the cohort, sorted (two integer columns: one scan)."""
    query = select(L.first_response_s, L.resolution_s).where(
        *where, or_(L.first_response_s.is_not(None), L.resolution_s.is_not(None))
    )
    first: list[int] = []
    resolution: list[int] = []
    with engine.connect() as conn:
        for fr, res in conn.execute(query):
            if fr is not None:
                first.append(int(fr))
            if res is not None:
                resolution.append(int(res))
    first.sort()
    resolution.sort()
    return first, resolution


def _created_column(engine: Engine, start: datetime | None, end: datetime) -> Any:
    """`created_at`, or on SQLite the same value through coalesce() (which the planner cannot use the
    index for) when the period holds more than an eighth of the tickets: a scan then beats a
    million random reads through the index. PostgreSQL's planner makes that choice itself."""
    if engine.dialect.name != "sqlite":
        return L.created_at
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(L)).scalar_one()
        where = [L.created_at < end] if start is None else [L.created_at >= start, L.created_at < end]
        inside = conn.execute(select(func.count()).select_from(L).where(*where)).scalar_one()
    return func.coalesce(L.created_at, L.created_at) if inside * 8 > total else L.created_at


def compute_kpis(
    engine: Engine,
    start: datetime,
    end: datetime,
    *,
    filters: Filters | None = None,
    sla: SlaConfig | None = None,
    default_tier: str = "standard",
    root_causes: Iterable[RootCause] = (),
    now: datetime | None = None,
) -> dict[str, Any]:
    """Every KPI for the tickets created in [start, end) (module doc: the definitions)."""
    start, end = _utc(start), _utc(end)
    now = _utc(now) if now is not None else utcnow()
    filters = filters or Filters()
    narrow = filters.conditions()
    created_at = _created_column(engine, start, end)
    cohort = [created_at >= start, created_at < end, *narrow]
    verified_before = now - timedelta(days=DURABLE_DAYS)
    durable_s = DURABLE_DAYS * 86400
    auto = L.auto_resolved_at.is_not(None)
    undone_late = or_(L.auto_undone_s.is_(None), L.auto_undone_s > durable_s)
    solved = L.first_solved_at.is_not(None)
    query = select(
        func.count(),
        _count(L.ai_triaged.is_(True)),
        _count(auto),
        _count(and_(auto, L.auto_resolved_at <= verified_before, undone_late)),
        _count(and_(auto, L.auto_resolved_at > verified_before, L.auto_undone_s.is_(None))),
        _count(solved),
        _count(and_(solved, L.reopens > 0)),
        _count(and_(solved, L.reopens == 0, L.replies == 1)),
        _count(and_(L.ai_triaged.is_(True), L.action == "handoff")),
        _count(L.csat == "good"),
        _count(L.csat.is_not(None)),
        func.count(L.first_response_s),
        func.count(L.resolution_s),
        func.avg(L.resolution_s),
        _count(L.human_assigned_at.is_not(None)),
    ).where(*cohort)
    with engine.connect() as conn:
        row = conn.execute(query).one()
    counts = [int(v or 0) for v in (*row[:13], row[14])]
    created, triaged, auto_n, durable, pending, solved_n, reopened, fcr, handoffs, good, rated = counts[:11]
    responded, resolved, to_human = counts[11:]
    resolution_mean = row[13]
    first_response, resolution = _durations(engine, cohort)
    sla_out = _sla(engine, cohort, created_at, sla, default_tier, now) if sla is not None else None
    return {
        "from": start,
        "to": end,
        "now": now,
        "filters": filters.given(),
        "tickets_created": int(created),
        "ai_triaged": triaged,
        "ai_triaged_rate": _rate(triaged, created),
        "auto_resolved": auto_n,
        "auto_resolution_rate": _rate(auto_n, created),
        "durable_auto_resolved": durable,
        "auto_resolutions_pending_verification": pending,
        "durable_auto_resolution_rate": _rate(durable, created),
        "solved": solved_n,
        "reopened": reopened,
        "reopen_rate": _rate(reopened, solved_n),
        "first_contact_resolved": fcr,
        "first_contact_resolution_rate": _rate(fcr, solved_n),
        "first_responses": responded,
        "first_response_seconds_p50": percentile(first_response, 0.5),
        "first_response_seconds_p90": percentile(first_response, 0.9),
        "resolutions": resolved,
        "resolution_seconds_p50": percentile(resolution, 0.5),
        "resolution_seconds_p90": percentile(resolution, 0.9),
        "resolution_seconds_mean": round(float(resolution_mean), 1) if resolution_mean is not None else None,
        "backlog": backlog(engine, end, narrow),
        "sla_adherence_rate": sla_out["adherence_rate"] if sla_out else None,
        "sla": sla_out,
        "handoffs": handoffs,
        "handoff_rate": _rate(handoffs, triaged),
        "assigned_to_human": to_human,
        "csat": _rate(good, rated),
        "csat_responses": rated,
        "root_causes": _root_causes(engine, root_causes, start, end, narrow, now),
    }


def backlog(engine: Engine, at: datetime, narrow: Sequence[ColumnElement[bool]] = ()) -> int:
    """Tickets created before `at` and not solved or closed at `at`. The summary row answers for every
    ticket reopened at most once (solved then iff its current solve, or its one solve-to-reopen span,
    covers `at`); one reopened more often and solved before `at` is replayed from its events."""
    at = _utc(at)
    solved_now = and_(L.solved_at.is_not(None), L.solved_at <= at)
    solved_before_reopen = and_(L.reopens == 1, L.first_solved_at <= at, L.last_reopened_at > at)
    unsure = and_(L.reopens > 1, L.first_solved_at <= at, not_(solved_now))
    created_at = _created_column(engine, None, at)
    base = [created_at < at, *narrow]
    with engine.connect() as conn:
        plain = conn.execute(
            select(func.count()).where(*base, not_(solved_now), not_(solved_before_reopen), not_(unsure))
        ).scalar_one()
        keys = conn.execute(select(L.source, L.external_id).where(*base, unsure)).all()
        still_open = 0
        for source, external_id in keys:
            rows = conn.execute(
                select(EventRow.data)
                .where(EventRow.source == source, EventRow.external_id == external_id, EventRow.at <= at)
                .order_by(EventRow.at, EventRow.id)
            ).scalars().all()  # fmt: skip
            if fold(TicketEvent.model_validate(r) for r in rows).solved_at is None:
                still_open += 1
    return int(plain) + still_open


def _sla(
    engine: Engine,
    cohort: Sequence[ColumnElement[bool]],
    created_at: Any,
    sla: SlaConfig,
    default_tier: str,
    now: datetime,
) -> dict[str, Any]:
    tier = func.coalesce(L.tier, default_tier)
    priority = func.coalesce(L.priority, "normal")
    cells = [(t, p, target) for t, by_priority in sla.targets.items() for p, target in by_priority.items()]
    if not cells:
        return {"adherence_rate": None, "cells": [], "breaches": {}}
    # the targets as a small table joined on (tier, priority): one lookup per ticket, not a CASE per use
    stamp = DateTime(timezone=True)
    rows = [
        select(
            literal(t, String).label("t_tier"),
            literal(p, String).label("t_priority"),
            literal(int(c.first_response.total_seconds()), Integer).label("fr"),
            literal(int(c.resolution.total_seconds()), Integer).label("res"),
            literal(now - c.first_response, stamp).label("fr_cut"),
            literal(now - c.resolution, stamp).label("res_cut"),
        )
        for t, p, c in cells
    ]
    targets = union_all(*rows).subquery("sla_targets")
    response = func.coalesce(L.first_response_s, L.resolution_s)
    fr_late = response > targets.c.fr
    fr_missing = and_(response.is_(None), created_at < targets.c.fr_cut)
    res_late = L.resolution_s > targets.c.res
    res_missing = and_(L.resolution_s.is_(None), created_at < targets.c.res_cut)
    breached = or_(fr_late, fr_missing, res_late, res_missing)
    targeted = targets.c.fr.is_not(None)
    joined = L.__table__.outerjoin(targets, and_(targets.c.t_tier == tier, targets.c.t_priority == priority))
    query = (
        select(
            tier,
            priority,
            func.count(),
            _count(and_(targeted, L.resolution_s.is_not(None), not_(breached))),
            _count(and_(targeted, breached)),
            _count(and_(targeted, fr_late)),
            _count(and_(targeted, fr_missing)),
            _count(and_(targeted, res_late)),
            _count(and_(targeted, res_missing)),
            _count(targeted),
        )
        .select_from(joined)
        .where(*cohort)
        .group_by(tier, priority)
        .order_by(tier, priority)
    )
    reasons = ("first_response_late", "first_response_missing", "resolution_late", "resolution_missing")
    out_cells: list[dict[str, Any]] = []
    total = dict.fromkeys(reasons, 0)
    met_all = breached_all = 0
    with engine.connect() as conn:
        for t, p, n, met, bad, *rest in conn.execute(query).all():
            counts = [int(v or 0) for v in rest]
            has_target = counts.pop()
            met, bad = int(met or 0), int(bad or 0)
            met_all, breached_all = met_all + met, breached_all + bad
            for reason, value in zip(reasons, counts, strict=True):
                total[reason] += value
            out_cells.append({
                "tier": t, "priority": p, "tickets": int(n), "has_target": has_target > 0, "met": met,
                "breached": bad, "in_progress": (has_target - met - bad) if has_target else 0,
                "adherence_rate": _rate(met, met + bad), "breaches": dict(zip(reasons, counts, strict=True)),
            })  # fmt: skip
    return {"adherence_rate": _rate(met_all, met_all + breached_all), "met": met_all, "breached": breached_all,
            "breaches": total, "cells": out_cells}  # fmt: skip


def _root_causes(
    engine: Engine,
    causes: Iterable[RootCause],
    start: datetime,
    end: datetime,
    narrow: Sequence[ColumnElement[bool]],
    now: datetime,
) -> list[dict[str, Any]]:
    causes = list(causes)
    in_window = and_(L.created_at >= start, L.created_at < end)
    window = timedelta(days=ROOT_CAUSE_WINDOW_DAYS)
    with engine.connect() as conn:
        linked = {
            issue: (int(n_all), int(n_window or 0))
            for issue, n_all, n_window in conn.execute(
                select(L.linked_issue, func.count(), _count(in_window))
                .where(L.linked_issue.is_not(None), *narrow)
                .group_by(L.linked_issue)
            ).all()
        }
        out: list[dict[str, Any]] = []
        known = {c.id for c in causes}
        for cause in causes:
            n_all, n_window = linked.get(cause.id, (0, 0))
            item: dict[str, Any] = {
                "id": cause.id, "title": cause.title, "status": cause.status,
                "fixed": cause.status == "fixed", "fixed_at": cause.fixed_at,
                "tickets_linked": n_all, "tickets_linked_in_period": n_window,
            }  # fmt: skip
            if cause.fixed_at is not None:
                fixed = _utc(cause.fixed_at)
                after_end = min(fixed + window, now)

                def count(lo: datetime, hi: datetime, issue: str = cause.id) -> int:
                    where = [L.linked_issue == issue, L.created_at >= lo, L.created_at < hi, *narrow]
                    return int(conn.execute(select(func.count()).where(*where)).scalar_one())

                days_after = max(0.0, (after_end - fixed).total_seconds() / 86400)
                before, after = count(fixed - window, fixed), count(fixed, after_end) if days_after else 0
                item.update(
                    window_days=ROOT_CAUSE_WINDOW_DAYS,
                    new_tickets_before_fix=before,
                    new_tickets_after_fix=after,
                    days_observed_after_fix=round(days_after, 1),
                    per_week_before_fix=round(before / ROOT_CAUSE_WINDOW_DAYS * 7, 2),
                    per_week_after_fix=round(after / days_after * 7, 2) if days_after else None,
                )
            out.append(item)
        for issue, (n_all, n_window) in sorted(linked.items()):
            if issue not in known:  # linked to a document the knowledge base no longer has
                out.append({"id": issue, "title": None, "status": "unknown", "fixed": False, "fixed_at": None,
                            "tickets_linked": n_all, "tickets_linked_in_period": n_window})  # fmt: skip
    return out


# ---- root causes from the knowledge base -------------------------------------------------------------

_FRONT = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)
_FIXED_IN = re.compile(r"fixed in (?:release )?[\w.\-]+ \((\d{1,2} [A-Z][a-z]+ \d{4})\)", re.IGNORECASE)


def _fixed_at(front: dict[str, Any], body: str) -> datetime | None:
    given = front.get("fixed_at")
    if isinstance(given, datetime):
        return _utc(given)
    if given is not None and hasattr(given, "isoformat"):  # a YAML date
        return datetime.fromisoformat(given.isoformat()).replace(tzinfo=UTC)
    if isinstance(given, str):
        try:
            return _utc(datetime.fromisoformat(given))
        except ValueError:
            pass
    if m := _FIXED_IN.search(body):
        try:
            return datetime.strptime(m.group(1), "%d %B %Y").replace(tzinfo=UTC)
        except ValueError:
            return None
    return None


def load_root_causes(kb_path: Path) -> list[RootCause]:
    """The RCA documents (front matter `type: rca`) of a knowledge base folder, sorted by id;
    unreadable files are skipped (`triage kb ingest` reports them)."""
    out: list[RootCause] = []
    paths = [kb_path] if kb_path.is_file() else sorted(kb_path.rglob("*.md")) if kb_path.exists() else []
    for path in paths:
        try:
            raw = path.read_text(encoding="utf-8").replace("\r\n", "\n")
        except OSError:
            continue
        m = _FRONT.match(raw)
        if not m:
            continue
        try:
            front = yaml.safe_load(m.group(1)) or {}
        except yaml.YAMLError:
            continue
        if not isinstance(front, dict) or front.get("type") != "rca" or not front.get("id"):
            continue
        meta: dict[str, Any] = {str(k): v for k, v in front.items()}  # pyright: ignore[reportUnknownVariableType]
        status = str(meta.get("status") or "open")
        fixed_at = _fixed_at(meta, raw[m.end() :]) if status == "fixed" or meta.get("fixed_at") else None
        out.append(RootCause(str(meta["id"]), str(meta.get("title") or meta["id"]), status, fixed_at))
    return sorted(out, key=lambda c: c.id)
