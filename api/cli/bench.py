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
) -> None:
    """Print throughput and latency figures measured on this machine."""
    if kpis:
        from evals.bench_kpis import bench_kpis

        for key, value in bench_kpis(kpis).items():
            typer.echo(f"{key:>26}: {value}")
        return
    from evals.bench import run_bench

    run_bench(get_settings(), tickets=tickets, llm_tickets=llm_tickets, requests=requests, concurrency=concurrency)
