"""`triage bench`: throughput and latency figures measured on this machine."""

from __future__ import annotations

from typing import Annotated

import typer

from agent.settings import get_settings


def bench(
    tickets: Annotated[int, typer.Option(help="tickets for the throughput run")] = 300,
    llm_tickets: Annotated[int, typer.Option(help="tickets for the local-LLM latency run (0 skips)")] = 20,
    requests: Annotated[int, typer.Option(help="webhook requests for the intake load")] = 1000,
    concurrency: Annotated[int, typer.Option()] = 16,
    kpis: Annotated[int, typer.Option(help="only the GET /kpis query over N generated tickets, e.g. 100000")] = 0,
    scale: Annotated[
        bool,
        typer.Option(
            help="also the scale part (evals/bench_scale.py): intake on SQLite and PostgreSQL at concurrency "
            "16 and 64, 1 vs 3 `triage worker` processes, memory per worker, growth per 1,000 tickets"
        ),
    ] = False,
    scale_only: Annotated[bool, typer.Option(help="only the scale part")] = False,
    pg_url: Annotated[
        str, typer.Option(help="the scale part's PostgreSQL (it creates and drops a database of its own there)")
    ] = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
    scale_requests: Annotated[int, typer.Option(help="intake requests per backend and concurrency")] = 4000,
    scale_tickets: Annotated[int, typer.Option(help="tickets per worker-count run (after a warm-up)")] = 60,
) -> None:
    """Print throughput and latency figures measured on this machine."""
    import os

    from knowledge.embedcache import ENV

    if os.environ.pop(ENV, None):  # figures of the model, not of the embedding cache (nor its children's)
        typer.secho(f"{ENV} is ignored by the benchmark", fg=typer.colors.YELLOW, err=True)
    if kpis:
        from evals.bench_kpis import bench_kpis

        for key, value in bench_kpis(kpis).items():
            typer.echo(f"{key:>26}: {value}")
        return
    if not scale_only:
        from evals.bench import run_bench

        run_bench(get_settings(), tickets=tickets, llm_tickets=llm_tickets, requests=requests, concurrency=concurrency)
    if scale or scale_only:
        from evals.bench_scale import run_scale

        run_scale(pg_admin=pg_url, requests=scale_requests, tickets=scale_tickets)
