"""`triage run-ticket` (one ticket offline) and `triage demo` (demo tickets to a running server)."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from agent.settings import get_settings
from api.cli.common import SMOKE, LlmOverride, fail, model_for

if TYPE_CHECKING:
    from agent.domain import Ticket


def ticket_from_json(data: dict[str, Any], fallback_id: str) -> Ticket:
    """The ticket in a `run-ticket` file: subject and body, optional external_id (or id), requester,
    customer, language, product; its id is a digest of the content."""
    from agent.domain import Ticket

    missing = [f for f in ("subject", "body") if f not in data]
    if missing:
        raise ValueError(f"ticket JSON is missing {', '.join(missing)}")
    external = str(data.get("external_id") or data.get("id") or fallback_id)
    digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]
    fields = {k: data[k] for k in ("subject", "body", "requester", "customer", "language", "product") if data.get(k)}
    return Ticket(id=f"offline-{digest}", external_id=external, source="offline", **fields)


def run_ticket(
    file: Annotated[Path, typer.Argument(help="ticket JSON: subject, body, optional external_id, customer…")],
    llm: LlmOverride = None,
) -> None:
    """Process one ticket offline (no database, no write-back) and print the result JSON."""
    from agent.graph.result import status_of, ticket_result
    from agent.runtime.assembly import Agent

    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        ticket = ticket_from_json(data, file.stem)
    except (OSError, json.JSONDecodeError, ValueError) as exc:
        fail(f"{file}: {exc}")
    with model_for(llm) as (s, _model):
        agent = Agent.from_settings(s, durable=False)
        state = agent.run(ticket)
    out = {
        "status": status_of(state),
        **ticket_result(state, agent.context.policy.version).model_dump(mode="json"),
        "audit": [e.model_dump(mode="json") for e in state.get("audit", [])],
    }
    json.dump(out, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def demo(
    file: Annotated[Path, typer.Option(help="JSONL tickets")] = SMOKE,
    url: Annotated[str | None, typer.Option(help="API base URL")] = None,
    limit: Annotated[int, typer.Option(help="how many tickets to send")] = 8,
    timeout: Annotated[float, typer.Option(help="seconds to wait for results")] = 600.0,
) -> None:
    """Send demo tickets as signed webhooks to a running server and print their outcomes."""
    from evals.demo import run_demo

    s = get_settings()
    if not file.is_file():
        fail(f"no tickets at {file}")
    if s.webhook_secret is None or s.api_key is None:
        fail("TRIAGE_WEBHOOK_SECRET and TRIAGE_API_KEY are needed; run `triage init` first")
    base = url or f"http://{s.host}:{s.port}"
    ok = run_demo(base, file, limit, s.webhook_secret.get_secret_value(), s.api_key.get_secret_value(), timeout)
    if not ok:
        raise typer.Exit(1)
