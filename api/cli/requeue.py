"""`triage requeue`: failed tickets back to the queue (agent/storage/requeue.py)."""

from __future__ import annotations

from typing import Annotated

import typer

from agent.settings import get_settings


def requeue_cmd(
    error_contains: Annotated[
        str | None,
        typer.Option(help="requeue the failed tickets whose error contains this text (transient or not)"),
    ] = None,
    dry_run: Annotated[bool, typer.Option(help="list them, change nothing")] = False,
) -> None:
    """Give failed tickets another run once the cause is gone: by default those failed by a transient
    error (LLM or Chroma server down, database unreachable) after their attempts ran out. Each resumes
    from its checkpoint; running workers pick them up."""
    from agent.storage import open_database
    from agent.storage.requeue import requeue, select_failed

    store = open_database(get_settings().db_url)
    chosen = select_failed(store, error_contains=error_contains)
    what = f"with {error_contains!r} in the error" if error_contains else "failed by a transient error"
    if not chosen:
        typer.echo(f"no failed ticket {what}")
        return
    for t in chosen:
        typer.echo(f"{t.id}: {t.error[:160]}")
    if dry_run:
        typer.echo(f"{len(chosen)} failed ticket(s) {what} (dry run: none requeued)")
        return
    done = requeue(store, [t.id for t in chosen], f"triage requeue: {what}")
    typer.echo(f"requeued {len(done)} of {len(chosen)} failed ticket(s) {what}")
