"""`triage export-feedback`: review verdicts as an eval dataset and training history."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from agent.settings import get_settings
from api.cli.common import fail


def export_feedback_cmd(
    out: Annotated[Path, typer.Option(help="eval dataset (ticket JSONL with gold outcome and docs)")] = Path(
        "data/feedback/eval.jsonl"
    ),
    history: Annotated[Path | None, typer.Option(help="also write labelled history for `triage train --data`")] = Path(
        "data/feedback/history.jsonl"
    ),
    since: Annotated[str | None, typer.Option(help="only verdicts from this date on (YYYY-MM-DD)")] = None,
) -> None:
    """Every approval, edit and rejection of a suggested reply, as an eval dataset and training history."""
    from datetime import UTC, datetime

    from agent.storage import open_database
    from agent.storage.reviews import ReviewStore
    from evals.feedback import export_feedback, undone_auto_resolutions

    start = None
    if since:
        try:
            start = datetime.fromisoformat(since).replace(tzinfo=UTC)
        except ValueError:
            fail(f"--since {since!r} is not a date; use YYYY-MM-DD")
    store = open_database(get_settings().db_url)
    reviews = ReviewStore(store).all()
    undone = undone_auto_resolutions(store, start)
    n_eval, n_hist = export_feedback(reviews, out, history, start, undone)
    typer.echo(
        f"wrote {n_eval} tickets to {out}: {n_eval - len(undone)} reviewed, {len(undone)} auto-resolutions "
        "that did not stay resolved (reopened, reassigned to a human or rated bad)"
    )
    if history is not None:
        typer.echo(f"wrote {n_hist} labelled tickets to {history} (train with `triage train --data {history}`)")
