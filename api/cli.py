"""`triage` command line: a thin shell over the packages."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from agent.settings import get_settings

app = typer.Typer(help="Support ticket triage and auto-resolution service.", no_args_is_help=True)
kb_app = typer.Typer(help="Knowledge base: ingest and search.", no_args_is_help=True)
eval_app = typer.Typer(help="Offline evaluation.", no_args_is_help=True)
app.add_typer(kb_app, name="kb")
app.add_typer(eval_app, name="eval")


def _fail(message: str, code: int = 2) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


@app.command()
def init(env_file: Path = Path(".env")) -> None:
    """Create .env with a random API key and webhook secret (keeps existing values)."""
    existing = env_file.read_text(encoding="utf-8") if env_file.exists() else ""
    lines = [existing.rstrip("\n")] if existing else []
    added = []
    if "TRIAGE_API_KEY=" not in existing:
        lines.append(f"TRIAGE_API_KEY={secrets.token_urlsafe(24)}")
        added.append("TRIAGE_API_KEY")
    if "TRIAGE_WEBHOOK_SECRET=" not in existing:
        lines.append(f"TRIAGE_WEBHOOK_SECRET=whsec_{base64.b64encode(secrets.token_bytes(24)).decode()}")
        added.append("TRIAGE_WEBHOOK_SECRET")
    if added:
        env_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
        typer.echo(f"wrote {', '.join(added)} to {env_file}")
    else:
        typer.echo(f"{env_file} already has an API key and a webhook secret")


@kb_app.command("ingest")
def kb_ingest(
    path: Annotated[Path, typer.Argument(help="a markdown file or a folder of them")],
    prune: Annotated[bool, typer.Option(help="remove stored docs that are no longer in PATH")] = False,
) -> None:
    """Ingest markdown docs with front matter; unchanged docs are skipped, changed ones replaced."""
    from agent.service import open_knowledge

    if not path.exists():
        _fail(f"{path} does not exist")
    store = open_knowledge(get_settings())
    report = store.ingest(path, prune=prune)
    typer.echo(f"{path}: {report.summary()} (collection now {store.count()} chunks)")
    for err in report.errors:
        typer.secho(f"  rejected {err}", fg=typer.colors.YELLOW, err=True)
    if report.errors:
        raise typer.Exit(1)


@kb_app.command("search")
def kb_search(query: str, k: int = 5) -> None:
    """Show the top-k documents for a query."""
    from agent.service import open_knowledge

    for hit in open_knowledge(get_settings()).search(query, k=k):
        typer.echo(f"{hit.score:.3f}  {hit.doc_id:10} [{hit.doc_type}/{hit.category}/{hit.language}] {hit.title}")


def ticket_from_json(data: dict[str, Any], fallback_id: str) -> Any:
    from agent.domain import Ticket

    missing = [f for f in ("subject", "body") if f not in data]
    if missing:
        raise ValueError(f"ticket JSON is missing {', '.join(missing)}")
    external = str(data.get("external_id") or data.get("id") or fallback_id)
    digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]
    fields = {k: data[k] for k in ("subject", "body", "requester", "customer", "language", "product") if data.get(k)}
    return Ticket(id=f"offline-{digest}", external_id=external, source="offline", **fields)


@app.command("run-ticket")
def run_ticket(
    file: Annotated[Path, typer.Argument(help="ticket JSON: subject, body, optional external_id, customer…")],
    llm: Annotated[str | None, typer.Option(help="override TRIAGE_LLM, e.g. none")] = None,
) -> None:
    """Process one ticket offline (no database, no write-back) and print the result JSON."""
    from agent.service import Agent, result_of, status_of

    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        ticket = ticket_from_json(data, file.stem)
    except (OSError, json.JSONDecodeError, ValueError) as exc:
        _fail(f"{file}: {exc}")
        return
    agent = Agent.from_settings(get_settings(), durable=False, llm=llm)
    state = agent.run(ticket)
    out = {
        "status": status_of(state),
        **result_of(state, agent.context.policy.version),
        "audit": [e.model_dump(mode="json") for e in state.get("audit", [])],
    }
    json.dump(out, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
    ingest: Annotated[bool, typer.Option(help="ingest TRIAGE_KB_PATH before serving")] = True,
) -> None:
    """Serve the API and the in-process worker."""
    import uvicorn

    from api.app import create_app

    settings = get_settings()
    if ingest:
        kb_ingest(settings.kb_path, prune=False)
    h, p = host or settings.host, port or settings.port
    typer.echo(f"API on http://{h}:{p}  (docs: http://{h}:{p}/docs)  LLM: {settings.llm}")
    typer.echo("send the demo tickets with:  make demo   (or: .venv/bin/triage demo)")
    uvicorn.run(create_app(settings), host=h, port=p, log_level="info")


@app.command()
def worker() -> None:
    """Run a worker process without the API (scaled mode; needs a shared database such as PostgreSQL)."""
    from agent.service import Agent
    from agent.tickets import TicketStore
    from agent.worker import Worker

    s = get_settings()
    w = Worker(
        TicketStore(s.db_url),
        Agent.from_settings(s),
        lease_s=s.worker_lease_s,
        poll_s=s.worker_poll_s,
        max_attempts=s.max_attempts,
    )
    typer.echo(f"worker {w.id} polling {s.db_url.split('@')[-1]}")
    w.loop()


@app.command()
def demo(
    file: Annotated[Path, typer.Option(help="JSONL tickets")] = Path("evals/datasets/smoke.jsonl"),
    url: Annotated[str | None, typer.Option(help="API base URL")] = None,
    limit: Annotated[int, typer.Option(help="how many tickets to send")] = 8,
    timeout: Annotated[float, typer.Option(help="seconds to wait for results")] = 600.0,
) -> None:
    """Send demo tickets as signed webhooks to a running server and print their outcomes."""
    from evals.demo import run_demo

    s = get_settings()
    if s.webhook_secret is None or s.api_key is None:
        _fail("TRIAGE_WEBHOOK_SECRET and TRIAGE_API_KEY are needed; run `triage init` first")
        return
    base = url or f"http://{s.host}:{s.port}"
    ok = run_demo(base, file, limit, s.webhook_secret.get_secret_value(), s.api_key.get_secret_value(), timeout)
    if not ok:
        raise typer.Exit(1)


@eval_app.command("smoke")
def eval_smoke(
    file: Annotated[Path, typer.Option(help="JSONL with gold labels")] = Path("evals/datasets/smoke.jsonl"),
    llm: Annotated[str | None, typer.Option(help="override TRIAGE_LLM, e.g. none")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="write the metrics here")] = None,
    limit: Annotated[int | None, typer.Option(help="only the first N tickets")] = None,
) -> None:
    """Run the graph offline over a labelled dataset: outcomes against gold, triage accuracy, doc recall."""
    from evals.smoke import format_report, run_smoke

    metrics = run_smoke(get_settings(), file, llm=llm, limit=limit)
    typer.echo(format_report(metrics))
    if json_out:
        json_out.write_text(json.dumps(metrics, indent=2, ensure_ascii=False), encoding="utf-8")


@app.command()
def bench(
    tickets: Annotated[int, typer.Option(help="tickets for the throughput run")] = 300,
    llm_tickets: Annotated[int, typer.Option(help="tickets for the local-LLM latency run (0 skips)")] = 20,
    requests: Annotated[int, typer.Option(help="webhook requests for the intake load")] = 1000,
    concurrency: Annotated[int, typer.Option()] = 16,
) -> None:
    """Print throughput and latency figures measured on this machine."""
    from evals.bench import run_bench

    run_bench(get_settings(), tickets=tickets, llm_tickets=llm_tickets, requests=requests, concurrency=concurrency)
