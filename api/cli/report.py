"""`triage report weekly [--out DIR] [--week YYYY-Www | --from DATE --to DATE]`: the weekly
performance review (agent/insights/report.py) as weekly.md, a self-contained weekly.html (plots
inline) and weekly.json, from the same data as the dashboard (api/routes/dashboard.py) and GET /kpis:
the period against the `--previous` periods of the same length before it, what changed, volumes and
bounces, the top recurring issues, SLA breaches, auto-resolutions undone, root causes fixed and the
last eval runs (<data_dir>/runs/). Default: the last full ISO week (Monday to Monday, UTC).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from agent.settings import Settings, get_settings
from api.cli.common import fail

app = typer.Typer(help="Reports: the weekly performance review.", no_args_is_help=True)
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def _when(value: str, option: str) -> datetime:
    try:
        at = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        fail(f"{option} {value!r} is not a date or time (ISO 8601, e.g. 2026-11-23)")
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    if not EARLIEST <= at <= LATEST:
        fail(f"{option} {value!r} is outside {EARLIEST:%Y} to {LATEST:%Y}")
    return at


def period_of(week: str | None, start: str | None, end: str | None, now: datetime) -> tuple[datetime, datetime]:
    """The review's period from the options (exits with a message on a bad one)."""
    from agent.insights.weekly import PeriodError, parse_week, week_start

    if week and (start or end):
        fail("give either --week or --from/--to, not both")
    if week:
        try:
            return parse_week(week)
        except PeriodError as exc:
            fail(str(exc))
    if start or end:
        if not (start and end):
            fail("--from and --to go together (the period is [from, to))")
        s, e = _when(start, "--from"), _when(end, "--to")
        if s >= e:
            fail(f"--from ({s.isoformat()}) must be before --to ({e.isoformat()})")
        return s, e
    this_monday = week_start(now)
    return this_monday - timedelta(days=7), this_monday


def _label(start: datetime, end: datetime) -> str:
    from agent.insights.weekly import week_label, week_start

    if end - start == timedelta(days=7) and week_start(start) == start:
        return week_label(start)
    last = end - timedelta(microseconds=1)
    return f"{start:%Y-%m-%d} to {last:%Y-%m-%d}"


def weekly_review(
    settings: Settings,
    start: datetime,
    end: datetime,
    *,
    filters: Any = None,
    previous: int = 4,
    weeks: int = 8,
    topics: bool = True,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The review's data (agent/insights/report.py's shape): the dashboard's data for the period,
    plus the `previous` periods of the same length before it and what changed against them."""
    from agent.domain import utcnow
    from agent.insights.kpis import Filters, compute_kpis
    from agent.insights.weekly import trend_point, what_changed
    from agent.storage import open_database
    from api.routes.dashboard import build_dashboard, sla_targets

    filters = filters or Filters()
    now = now or utcnow()
    store = open_database(settings.db_url)
    try:
        data = build_dashboard(settings, store, start, end, filters=filters, weeks=weeks, topics=topics, now=now)
        sla, default_tier = sla_targets(settings)
        length = end - start
        before: list[dict[str, Any]] = []
        labels: list[str] = []
        for i in range(previous, 0, -1):
            s, e = start - length * i, start - length * (i - 1)
            kpis = compute_kpis(store.engine, s, e, filters=filters, sla=sla, default_tier=default_tier, now=now)
            before.append(trend_point(kpis) | {"from": s, "to": e})
            labels.append(_label(s, e))
    finally:
        store.engine.dispose()
    label = _label(start, end)
    return {
        **data,
        "title": f"Weekly performance review: {label}",
        "label": label,
        "current": data["period"],
        "previous": before,
        "previous_labels": labels,
        "changes": what_changed(trend_point(data["period"]), before),
    }


@app.command("weekly")
def weekly(
    out: Annotated[
        Path | None,
        typer.Option("--out", help="write weekly.md, weekly.html, weekly.json here (default reports/weekly-<period>)"),
    ] = None,
    week: Annotated[
        str | None, typer.Option("--week", help="an ISO week, YYYY-Www (default the last full week)")
    ] = None,
    start: Annotated[
        str | None, typer.Option("--from", help="period start, inclusive (ISO 8601 date or time, UTC)")
    ] = None,
    end: Annotated[str | None, typer.Option("--to", help="period end, exclusive")] = None,
    previous: Annotated[int, typer.Option(min=1, max=12, help="periods of the same length to compare with")] = 4,
    weeks: Annotated[int, typer.Option(min=1, max=52, help="ISO weeks in the trend plots, up to the period's end")] = 8,
    tier: Annotated[str | None, typer.Option(help="client tier only")] = None,
    support_tier: Annotated[str | None, typer.Option(help="L1, L2 or L3 only")] = None,
    queue: Annotated[str | None, typer.Option(help="one queue only")] = None,
    category: Annotated[str | None, typer.Option(help="one category only")] = None,
    topics: Annotated[bool, typer.Option(help="cluster the period's tickets into recurring issues")] = True,
) -> None:
    """The weekly performance review: markdown + self-contained HTML (plots inline) + JSON."""
    from fastapi.encoders import jsonable_encoder

    from agent.domain import utcnow
    from agent.insights.kpis import Filters
    from agent.insights.report import write_review

    for name, value in (
        ("--tier", tier),
        ("--support-tier", support_tier),
        ("--queue", queue),
        ("--category", category),
    ):
        if value is not None and not 0 < len(value) <= 64:
            fail(f"{name} must be 1 to 64 characters")
    settings = get_settings()
    s, e = period_of(week, start, end, utcnow())
    filters = Filters(tier=tier, support_tier=support_tier, queue=queue, category=category)
    review = weekly_review(settings, s, e, filters=filters, previous=previous, weeks=weeks, topics=topics)
    directory = out or Path("reports") / f"weekly-{review['label'].replace(' ', '_')}"
    paths = write_review(review, directory, encode=jsonable_encoder)
    c = review["current"]
    typer.echo(f"{review['title']}: {c['tickets_created']} new tickets, backlog {c['backlog']}")
    for kind, path in paths.items():
        typer.echo(f"  {kind:<8} {path}")
