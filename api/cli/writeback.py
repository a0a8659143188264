"""`triage writeback retry`: re-apply the stored write-back of failed tickets."""

from __future__ import annotations

from typing import Annotated

import typer

from agent.settings import get_settings
from api.cli.common import fail

app = typer.Typer(help="Write-back to ticketing systems.", no_args_is_help=True)


@app.command("retry")
def writeback_retry(
    ticket_id: Annotated[str | None, typer.Argument(help="a ticket whose status is writeback_failed")] = None,
    all_: Annotated[bool, typer.Option("--all", help="every writeback_failed ticket, oldest first")] = False,
) -> None:
    """Re-apply the stored write-back of failed tickets: steps already done (a posted reply) are
    skipped, the rest run in order. Exit code 1 if any ticket still failed."""
    from agent.runtime.writeback import RetryRefused, open_writeback, retry_writeback
    from agent.storage import open_database
    from tools.ticketing import WriteBackConfigError

    if (ticket_id is None) == (not all_):
        fail("give a TICKET_ID or --all (not both)")
    s = get_settings()
    store = open_database(s.db_url)
    try:
        ticketing, ledger = open_writeback(s, store.engine)
    except WriteBackConfigError as exc:
        fail(str(exc))
    ids = [ticket_id] if ticket_id is not None else store.ids_with_status("writeback_failed")
    if not ids:
        typer.echo("no ticket is writeback_failed")
        return
    still_failed = 0
    try:
        for tid in ids:
            try:
                out = retry_writeback(store, ticketing, ledger, tid, lease_s=s.worker_lease_s)
            except RetryRefused as exc:
                typer.secho(f"{tid}: not retried: {exc}", fg=typer.colors.YELLOW, err=True)
                still_failed += 1
                continue
            wb = out.writeback
            steps = ", ".join(f"{st.step} {st.status}" for st in wb.steps)
            if wb.ok:
                typer.echo(f"{tid}: {out.status} ({wb.system} {wb.external_id}: {steps})")
            else:
                still_failed += 1
                typer.secho(
                    f"{tid}: still writeback_failed at {wb.failed_step} "
                    f"({'transient' if wb.retryable else 'permanent'}): {wb.error}",
                    fg=typer.colors.RED,
                    err=True,
                )
    finally:
        for system in ticketing.values():
            system.close()
    if still_failed:
        raise typer.Exit(1)
