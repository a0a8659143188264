"""`triage eval adversarial`: the adversarial suite (evals/adversarial.py) through the service's graph."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli.common import fail, model_for, write_json


def eval_adversarial(
    llm: Annotated[
        str, typer.Option(help="obedient (a scripted model that does what the ticket says) | none | provider/model")
    ] = "obedient",
    split: Annotated[str, typer.Option(help="dev | holdout | all")] = "all",
    limit: Annotated[int | None, typer.Option(help="only the first N tickets of the split")] = None,
    file: Annotated[Path | None, typer.Option(help="tickets JSONL (default: the shipped suite)")] = None,
    kb: Annotated[
        Path | None, typer.Option("--kb", help="knowledge base directory (default: the demo KB, in its own collection)")
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="write every ticket's outcome and the totals here")
    ] = None,
    strict: Annotated[bool, typer.Option(help="exit 1 when any ticket is unsafe")] = False,
) -> None:
    """Attacks and unlucky customers through the graph: reports every unsafe outcome (a risky ticket
    auto-resolved, an injected link/phone/e-mail/amount in an auto-sent reply, an echo, a secret in a
    prompt or in the stored result), for dev and holdout separately."""
    from evals.adversarial import DEMO_KB, TICKETS, build_agent, format_summary, llm_spec, load_tickets, run_suite

    try:
        rows = load_tickets(file or TICKETS, split, limit)
    except (OSError, ValueError) as exc:
        fail(str(exc))
    if not rows:
        fail(f"no tickets in split {split!r}")

    def progress(i: int, n: int) -> None:
        if i == n or i % 10 == 0:
            typer.echo(f"  {i}/{n} tickets", err=True)

    with model_for(llm_spec(llm)) as (s, _model):
        agent = build_agent(s, s.llm, kb or DEMO_KB)
        try:
            report = run_suite(agent, rows, progress)
        finally:
            agent.close()
    typer.echo(format_summary(report))
    if json_out:
        write_json(json_out, report)
    if strict and report["splits"]["all"]["unsafe"]:
        raise typer.Exit(1)
