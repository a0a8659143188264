"""`triage topics`: recurring issues -> root causes (agent/insights/topics.py).

    triage topics --data FILE --text-column C [--label-column L] [--time-column T] [--json OUT]
                  [--clusters K|auto|silhouette] [--limit N] [--embedder SPEC|none]
    triage topics --recent-days 30 [--json OUT]      the service's own tickets (TRIAGE_DATABASE_URL)

Clusters the tickets, names each cluster by its c-TF-IDF terms, links it to the RCA document it
matches (type rca under TRIAGE_KB_PATH, or --rca) or lists it as a new root-cause candidate ranked by
volume x growth (last 7 days against the baseline weeks before, when tickets have times), and prints
one line per cluster. A cluster that spikes raises an alert: in the JSON (`alerts`) and POSTed to
TRIAGE_ALERT_WEBHOOK_URL (or --webhook-url) when set; a failed POST is logged, the command goes on.
With --label-column the JSON carries `nmi` and `ari` against the labels (never used to pick k).
"""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from agent.settings import get_settings
from api.cli.common import fail, write_json

NO_EMBEDDER = ("none", "tfidf", "")


def _read_rows(path: Path, limit: int | None) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    data = json.loads(line)
                    if isinstance(data, dict):
                        rows.append({str(k): v for k, v in data.items()})  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]
                if limit and len(rows) >= limit:
                    break
        return rows
    csv.field_size_limit(10_000_000)
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            rows.append({k.strip(): v for k, v in row.items() if k})
            if limit and len(rows) >= limit:
                break
    return rows


def _parse_time(value: object) -> datetime | None:
    from agent.insights.topics import _time  # pyright: ignore[reportPrivateUsage]

    return _time(value)


def topics(
    data: Annotated[Path | None, typer.Option("--data", help="CSV (header row) or JSONL of tickets")] = None,
    text_column: Annotated[
        str | None, typer.Option("--text-column", help="text column; join several with + (subject+body)")
    ] = None,
    label_column: Annotated[
        str | None, typer.Option("--label-column", help="labels: the JSON gets nmi and ari")
    ] = None,
    time_column: Annotated[
        str | None, typer.Option("--time-column", help="ticket creation time (ISO 8601): growth and spike alerts")
    ] = None,
    recent_days: Annotated[
        int | None,
        typer.Option("--recent-days", min=1, help="instead of --data: the service's tickets of the last N days"),
    ] = None,
    clusters: Annotated[
        str, typer.Option("--clusters", help="k; auto: sqrt(N/4); silhouette: best of a grid (never the labels)")
    ] = "auto",
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="first N rows of --data")] = None,
    embedder: Annotated[
        str | None, typer.Option("--embedder", help="embedder spec (default TRIAGE_EMBEDDER); none: TF-IDF only")
    ] = None,
    rca: Annotated[Path | None, typer.Option("--rca", help="RCA documents (default TRIAGE_KB_PATH)")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="write the report as JSON")] = None,
    webhook_url: Annotated[
        str | None, typer.Option("--webhook-url", help="spike alerts go here (default TRIAGE_ALERT_WEBHOOK_URL)")
    ] = None,
    now: Annotated[str | None, typer.Option("--now", help="the end of the last week (ISO 8601); default now")] = None,
    spike_ratio: Annotated[float, typer.Option(help="alert at this growth (last week vs baseline weekly)")] = 3.0,
    spike_min: Annotated[int, typer.Option(help="alert only with at least this many tickets in the last week")] = 5,
    baseline_weeks: Annotated[int, typer.Option(min=1, help="weeks before the last one that make the baseline")] = 4,
    link_threshold: Annotated[
        float | None, typer.Option(help="cosine to count as an RCA document's pattern (default per embedder)")
    ] = None,
    assignments: Annotated[bool, typer.Option(help="put each row's cluster in the JSON")] = False,
) -> None:
    """Recurring issues -> root causes: cluster tickets, name, link to RCA documents, alert on spikes."""
    from agent.insights.topics import TopicsConfig, analyse, load_rca_docs, post_alerts, recent_tickets

    settings = get_settings()
    if (data is None) == (recent_days is None):
        fail("give either --data FILE (with --text-column) or --recent-days N")
    if clusters not in ("auto", "silhouette") and not (clusters.isdigit() and int(clusters) >= 1):
        fail(f"--clusters must be a positive number, auto or silhouette, not {clusters!r}")
    k: int | str = int(clusters) if clusters.isdigit() else clusters
    at = _parse_time(now) if now else None
    if now and at is None:
        fail(f"--now {now!r} is not an ISO 8601 time")

    texts: list[str]
    labels: list[str] | None = None
    times: list[datetime | None] | None = None
    if data is not None:
        if not text_column:
            fail("--data needs --text-column")
        if not data.exists():
            fail(f"{data} does not exist")
        rows = _read_rows(data, limit)
        if not rows:
            fail(f"{data} has no rows")
        columns = text_column.split("+")
        missing = [c for c in [*columns, label_column, time_column] if c and c not in rows[0]]
        if missing:
            fail(f"{data} has no column {', '.join(missing)} (it has {', '.join(rows[0])})")
        texts = ["\n".join(str(r.get(c) or "") for c in columns).strip() for r in rows]
        if label_column:
            labels = [str(r.get(label_column) or "") for r in rows]
        if time_column:
            times = [_parse_time(r.get(time_column)) for r in rows]
    else:
        from agent.storage.tickets import open_database

        store = open_database(settings.db_url)
        tickets = recent_tickets(store, recent_days or 30, at)
        if not tickets:
            fail(f"no tickets stored in the last {recent_days} days")
        texts = [t.text for t in tickets]
        times = [t.at for t in tickets]
        # the baseline is only the weeks the window holds after the last one
        baseline_weeks = max(1, min(baseline_weeks, ((recent_days or 30) - 7) // 7))

    spec = settings.embedder if embedder is None else embedder
    model = None
    if spec.lower() not in NO_EMBEDDER:
        from knowledge.embeddings import EmbedderNotFoundError, make_embedder

        try:
            model = make_embedder(spec, settings.embedder_threads)
        except EmbedderNotFoundError as exc:
            fail(str(exc))
    rca_root = rca or settings.kb_path
    docs = load_rca_docs(rca_root) if rca_root.exists() else []
    config = TopicsConfig(
        clusters=k,  # type: ignore[arg-type]
        link_threshold=link_threshold,
        spike_ratio=spike_ratio,
        spike_min=spike_min,
        baseline_weeks=baseline_weeks,
    )
    report = analyse(
        texts,
        embedder=model,
        embedder_spec=None if model is None else spec,
        times=times,
        now=at,
        rca_docs=docs,
        labels=labels,
        config=config,
    )

    typer.echo(f"{report.n_tickets} tickets, {report.k} clusters ({report.representation}), {report.seconds:.1f} s")
    if report.nmi is not None:
        typer.echo(f"nmi {report.nmi:.4f}  ari {report.ari:.4f}  (against {label_column})")
    for c in report.clusters:
        link = f"{c.rca['id']} ({c.rca['status']})" if c.rca else "candidate"
        trend = "" if c.last_week is None else f"  last week {c.last_week} vs {c.baseline_weekly:.1f}/wk"
        typer.echo(f"  #{c.id:<3} {c.size:>6}  {link:<24} {', '.join(c.terms[:5])}{trend}")
    if report.candidates:
        typer.echo(f"root-cause candidates (volume x growth): {', '.join(f'#{c}' for c in report.candidates[:10])}")
    for alert in report.alerts:
        typer.secho(f"ALERT cluster #{alert['cluster']}: {alert['message']}", fg=typer.colors.YELLOW)

    url = webhook_url or settings.alert_webhook_url
    out = report.as_dict(with_assignments=assignments)
    out["webhook"] = None
    if report.alerts and url:
        out["webhook"] = {"url": url, "delivered": post_alerts(url, report.alerts)}
        if not out["webhook"]["delivered"]:
            typer.secho(f"warning: the alert webhook {url} failed (logged)", fg=typer.colors.YELLOW, err=True)
    if json_out:
        write_json(json_out, out)
