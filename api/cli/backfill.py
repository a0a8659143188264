"""`triage backfill --file EXPORT [--source zendesk]`: past tickets from an export as lifecycle events,
so the KPIs (GET /kpis) start with a baseline.

One row per ticket, CSV (a header row) or JSONL; any missing column is simply not known:

    external_id (or id, ticket_id)   the ticket's id in its system (required)
    created_at                       when it was created there (required)
    first_response_at                its first public reply by an agent
    first_solved_at, solved_at       its first and its last solve (solved_at alone: solved once)
    reopened_at                      when it was (first) reopened
    closed_at                        when it was closed
    assigned_at                      when it was first assigned to a human
    satisfaction (or csat)           good / bad, 1-5, or Freshdesk's 103..-103
    tier, support_tier, priority, category, queue, linked_issue

Times are read like the webhooks' (ISO 8601, no zone = UTC; epoch seconds or milliseconds). Each
event's key is `backfill:<field>:<external_id>`: importing the same file again stores nothing new.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from agent.settings import get_settings
from api.cli.common import fail

ID_COLUMNS = ("external_id", "id", "ticket_id")
ATTRIBUTE_COLUMNS = ("tier", "support_tier", "category", "queue", "linked_issue")
BATCH = 500


class BackfillError(ValueError):
    """A row that cannot be imported; the message names the line and the column."""


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, row) from a .csv (header row) or a .jsonl file."""
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        with path.open(encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    data: object = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise BackfillError(f"{path}:{n}: not JSON ({exc})") from exc
                if not isinstance(data, dict):
                    raise BackfillError(f"{path}:{n}: a row must be a JSON object")
                yield n, {str(k): v for k, v in data.items()}  # pyright: ignore[reportUnknownVariableType]
        return
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for n, row in enumerate(csv.DictReader(fh), 2):
            yield n, {k.strip(): v for k, v in row.items() if k}


def row_events(row: Mapping[str, Any], source: str, where: str) -> list[Any]:
    """The lifecycle events (agent.domain.TicketEvent) of one export row (module doc)."""
    from agent.domain import TicketEvent
    from api.providers import parse_time
    from api.providers.lifecycle import priority_of, rating_of

    ext = next((str(row[c]).strip() for c in ID_COLUMNS if row.get(c) not in (None, "")), None)
    if not ext or len(ext) > 255:
        raise BackfillError(f"{where}: no usable ticket id (one of {', '.join(ID_COLUMNS)}, at most 255 characters)")

    def when(column: str) -> datetime | None:
        value = row.get(column)
        if value in (None, ""):
            return None
        got = parse_time(value)
        if got is None:
            raise BackfillError(f"{where}: {column} {value!r} is not a time (ISO 8601 or epoch, years 1970-2200)")
        return got

    created = when("created_at")
    if created is None:
        raise BackfillError(f"{where}: created_at is missing")
    attributes = {c: str(row[c]).strip()[:255] for c in ATTRIBUTE_COLUMNS if row.get(c) not in (None, "")}

    def ev(name: str, kind: str, at: datetime, **fields: Any) -> TicketEvent:
        return TicketEvent(source=source, external_id=ext, kind=kind, at=at,  # type: ignore[arg-type]
                           event_id=f"backfill:{name}:{ext}", **fields)  # fmt: skip

    out = [ev("created", "created", created, actor="system", attributes=attributes,
              priority=priority_of(row.get("priority")))]  # fmt: skip
    if (first := when("first_response_at")) is not None:
        out.append(ev("first_response", "comment", first, public=True, actor="agent"))
    solved, first_solved, reopened = when("solved_at"), when("first_solved_at"), when("reopened_at")
    if reopened is not None:
        before = first_solved or (reopened - timedelta(seconds=1))  # it was solved before it was reopened
        out.append(ev("first_solved", "status", min(before, reopened), status="solved", actor="agent"))
        out.append(ev("reopened", "status", reopened, status="open", actor="customer"))
    elif first_solved is not None and solved is not None and first_solved != solved:
        out.append(ev("first_solved", "status", first_solved, status="solved", actor="agent"))
    if solved is not None:
        out.append(ev("solved", "status", solved, status="solved", actor="agent"))
    if (closed := when("closed_at")) is not None:
        out.append(ev("closed", "status", closed, status="closed", actor="system"))
    if (assigned := when("assigned_at")) is not None:
        out.append(ev("assigned", "assigned", assigned, to_human=True))
    if (rating := rating_of(row.get("satisfaction", row.get("csat")))) is not None:
        out.append(ev("satisfaction", "satisfaction", solved or closed or created, rating=rating))
    return out


def import_export(path: Path, source: str, url: str) -> dict[str, int]:
    """Import an export into the database at `url`: {tickets, events, new}. Raises BackfillError."""
    from agent.storage import open_database
    from agent.storage.events import EventStore

    store = open_database(url)
    events = EventStore(store)
    totals = {"tickets": 0, "events": 0, "new": 0}
    batch: list[Any] = []

    def flush() -> None:
        totals["new"] += sum(events.record(batch))
        totals["events"] += len(batch)
        batch.clear()

    try:
        for n, row in read_rows(path):
            batch.extend(row_events(row, source, f"{path}:{n}"))
            totals["tickets"] += 1
            if len(batch) >= BATCH:
                flush()
        flush()
    finally:
        store.engine.dispose()
    return totals


def backfill(
    file: Annotated[Path, typer.Option("--file", help="the export: .csv (header row) or .jsonl, one ticket a row")],
    source: Annotated[
        str,
        typer.Option(
            help="the system the tickets are from: zendesk, jira, freshdesk, youtrack, "
            "generic (their ids must match what its webhooks send)"
        ),
    ] = "generic",
) -> None:
    """Import past tickets (created, first response, solved, reopened, satisfaction, tier, priority,
    category) as lifecycle events so the KPIs start with a baseline; running it again adds nothing."""
    if not file.is_file():
        fail(f"{file} is not a file")
    if not source.strip() or len(source) > 32:
        fail("--source must be a name of at most 32 characters")
    try:
        totals = import_export(file, source.strip(), get_settings().db_url)
    except (BackfillError, OSError, UnicodeDecodeError) as exc:
        fail(str(exc))
    typer.echo(f"{totals['tickets']} ticket(s), {totals['events']} event(s): {totals['new']} new, "
               f"{totals['events'] - totals['new']} already stored")  # fmt: skip
