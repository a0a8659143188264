"""`triage prune`: bounded growth, checkpoint side (agent/runtime/assembly.py `prune_checkpoints`)."""

from __future__ import annotations

from typing import Annotated

import typer

from agent.settings import get_settings
from api.cli.common import fail


def prune(
    older_than: Annotated[
        float | None,
        typer.Option(
            "--older-than", help="days since a ticket finished; default TRIAGE_CHECKPOINT_RETENTION_DAYS", min=0
        ),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="count what would go, delete nothing")] = False,
) -> None:
    """Delete the LangGraph checkpoints of tickets finished (done, handed off, failed) longer ago than
    the retention period, on SQLite or PostgreSQL, and print what was removed. Tickets awaiting review,
    queued, in flight or with a failed write-back keep theirs; results and audit trails stay."""
    from agent.runtime.assembly import prune_checkpoints
    from agent.storage import open_database

    s = get_settings()
    days = s.checkpoint_retention_days if older_than is None else older_than
    if days != days or days == float("inf"):  # NaN or infinity: not a number of days
        fail(f"--older-than must be a finite number of days, not {days}")
    store = open_database(s.db_url)
    try:
        report = prune_checkpoints(s, store.engine, older_than_days=days, dry_run=dry_run)
    finally:
        store.engine.dispose()
    verb = "would remove" if report.dry_run else "removed"
    typer.echo(
        f"{verb} {report.checkpoints} checkpoint(s) and {report.writes} pending write(s) of {report.tickets} "
        f"ticket(s) finished before {report.cutoff.isoformat(timespec='seconds')} (older than {days:g} days)"
    )
