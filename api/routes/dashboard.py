"""`GET /dashboard/data`: everything the dashboard page (api/static/dashboard/, served at /dashboard)
shows, in one JSON answer (agent role, like /kpis):

- `period`: the KPIs of [from, to) with the filters: exactly `GET /kpis` for the same query;
- `weeks`: one point per ISO week up to `to` (`weeks` of them), each = `GET /kpis` for that week;
- `topics`: the recurring issues of the service's tickets (clusters, RCA links, spikes;
  agent/insights/topics.py), `undone`: auto-resolutions reopened or taken over by a human;
- `eval_runs`: the last eval runs side by side (the `--json` files and `--report` directories under
  `<data_dir>/runs/`, newest first; evals/compare.py's figures);
- `choices`: the values the filters can take.

`build_dashboard` is the same data for `triage report weekly` (api/cli/report.py).
"""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.encoders import jsonable_encoder

from agent.domain import utcnow
from agent.graph.routing import TeamError, cached_team
from agent.graph.sla import SlaConfig, as_utc
from agent.insights.kpis import Filters, compute_kpis, load_root_causes
from agent.insights.weekly import MAX_WEEKS, filter_choices, recurring_issues, undone_auto_resolutions, weekly_trend
from agent.settings import Settings
from agent.storage.tickets import TicketStore
from api.deps import AgentDep, ServicesDep
from api.routes.kpis import Name, When

router = APIRouter(tags=["kpis"])
DEFAULT_DAYS = 28
EVAL_RUNS = 4  # the last runs shown side by side
TOPICS_TTL_S = 120.0  # clustering is the slow part: one answer per query for this long
_topics_cache: dict[tuple[Any, ...], tuple[float, dict[str, Any]]] = {}
_topics_lock = threading.Lock()


def runs_dir(settings: Settings) -> Path:
    return settings.data_dir / "runs"


def load_eval_runs(directory: Path, limit: int = EVAL_RUNS) -> dict[str, Any]:
    """The newest `limit` eval runs under `directory` (a `--json` file, or a `--report` directory's
    metrics.json), newest first, with the figures evals/compare.py compares them by; unreadable files
    are skipped."""
    from evals.compare import RUN_FACTS, SCALARS

    found: list[tuple[float, str, Path]] = []
    if directory.is_dir():
        for path in directory.glob("*.json"):
            found.append((path.stat().st_mtime, path.stem, path))
        for path in directory.glob("*/metrics.json"):
            found.append((path.stat().st_mtime, path.parent.name, path))
    runs: list[dict[str, Any]] = []
    for mtime, name, path in sorted(found, reverse=True):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(data, dict) or not any(k in data for k, _, _ in SCALARS):
            continue
        run: dict[str, Any] = data.get("run") if isinstance(data.get("run"), dict) else {}  # pyright: ignore[reportAssignmentType]
        runs.append(
            {
                "name": name,
                "path": str(path),
                "at": datetime.fromtimestamp(mtime).astimezone(),
                "kind": data.get("kind") or ("resolve" if "auto_resolution_rate" in data else "triage"),
                "metrics": {k: data[k] for k, _, _ in SCALARS if isinstance(data.get(k), int | float)},
                "facts": {k: run[k] for k in RUN_FACTS if run.get(k) not in (None, "", {}, [])},
            }
        )
        if len(runs) >= limit:
            break
    rows = [
        {"key": key, "label": label, "higher_is_better": better, "values": [r["metrics"].get(key) for r in runs]}
        for key, label, better in SCALARS
        if any(key in r["metrics"] for r in runs)
    ]
    return {"directory": str(directory), "runs": runs, "rows": rows}


def _topics(store: TicketStore, start: datetime, end: datetime, filters: Filters, settings: Settings) -> dict[str, Any]:
    from agent.insights.topics import load_rca_docs

    key = (str(settings.db_url), start, end, tuple(sorted(filters.given().items())))
    with _topics_lock:
        hit = _topics_cache.get(key)
        if hit is not None and time.monotonic() - hit[0] < TOPICS_TTL_S:
            return hit[1]
    kb = settings.kb_path
    docs = load_rca_docs(kb) if kb.exists() else []
    out = recurring_issues(store, start, end, filters=filters, rca_docs=docs, root_causes=load_root_causes(kb))
    with _topics_lock:
        if len(_topics_cache) > 32:
            _topics_cache.clear()
        _topics_cache[key] = (time.monotonic(), out)
    return out


def sla_targets(settings: Settings) -> tuple[SlaConfig | None, str]:
    """The team file's SLA targets and default client tier; none when the file cannot be read (the
    KPIs stand without SLA targets, as /kpis; /sla/at-risk says what is wrong with the file)."""
    try:
        team = cached_team(settings.team_file)
    except TeamError:
        return None, "standard"
    return team.sla, team.default_client_tier


def build_dashboard(
    settings: Settings,
    store: TicketStore,
    start: datetime,
    end: datetime,
    *,
    filters: Filters | None = None,
    weeks: int = 12,
    topics: bool = True,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The dashboard's data (module doc); the weekly report reads the same."""
    filters = filters or Filters()
    now = now or utcnow()
    sla, default_tier = sla_targets(settings)
    causes = load_root_causes(settings.kb_path)
    engine = store.engine
    period = compute_kpis(
        engine, start, end, filters=filters, sla=sla, default_tier=default_tier, root_causes=causes, now=now
    )
    trend = weekly_trend(engine, end, weeks, filters=filters, sla=sla, default_tier=default_tier, now=now)
    return {
        "from": start,
        "to": end,
        "now": now,
        "filters": filters.given(),
        "period": period,
        "weeks": trend,
        "topics": _topics(store, start, end, filters, settings) if topics else None,
        "undone": undone_auto_resolutions(engine, start, end, filters),
        "eval_runs": load_eval_runs(runs_dir(settings)),
        "choices": filter_choices(engine),
    }


@router.get("/dashboard/data")
async def dashboard_data(
    services: ServicesDep,
    _who: AgentDep,
    start: Annotated[
        When,
        Query(alias="from", description=f"period start, inclusive (default `to` - {DEFAULT_DAYS} days)"),
    ] = None,
    end: Annotated[When, Query(alias="to", description="period end, exclusive (default now)")] = None,
    weeks: Annotated[int, Query(ge=1, le=MAX_WEEKS, description="ISO weeks in the trend, up to `to`")] = 12,
    tier: Annotated[Name, Query(description="client tier (the SLA's: standard, enterprise, ...)")] = None,
    support_tier: Annotated[Name, Query(description="L1, L2 or L3")] = None,
    queue: Name = None,
    category: Name = None,
    topics: Annotated[bool, Query(description="cluster the period's tickets into recurring issues")] = True,
) -> dict[str, Any]:
    """The dashboard's data: the period's KPIs (= GET /kpis), the weekly trend, recurring issues,
    undone auto-resolutions, the last eval runs and the filter choices."""
    end_at = as_utc(end) if end is not None else utcnow()
    start_at = as_utc(start) if start is not None else end_at - timedelta(days=DEFAULT_DAYS)
    if start_at >= end_at:
        raise HTTPException(422, detail=f"`from` ({start_at.isoformat()}) must be before `to` ({end_at.isoformat()})")
    filters = Filters(tier=tier, support_tier=support_tier, queue=queue, category=category)
    data = await run_in_threadpool(
        build_dashboard,
        services.settings,
        services.store,
        start_at,
        end_at,
        filters=filters,
        weeks=weeks,
        topics=topics,
    )
    return jsonable_encoder(data)
