"""`triage kb ingest | search`: the knowledge base."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from agent.settings import get_settings
from api.cli.common import fail

app = typer.Typer(help="Knowledge base: ingest and search.", no_args_is_help=True)


def unknown_actions(path: Path) -> list[str]:
    """One line per document under `path` whose `action:` is not an allowlisted action (stored anyway:
    a ticket it answers is suggested to a human, never auto-sent, and the action never runs)."""
    from knowledge.ingest import load_docs
    from tools.actions import allowlisted

    known = {"none", *allowlisted()}
    names = ", ".join(sorted(allowlisted()))
    docs, _ = load_docs(path)
    return [
        f"{d.meta.id} names action '{d.meta.action}', which is not allowlisted ({names}): "
        "tickets it answers go to a human and the action never runs"
        for d in docs
        if d.meta.action not in known
    ]


@app.command("ingest")
def kb_ingest(
    path: Annotated[Path, typer.Argument(help="a markdown file or a folder of them")],
    prune: Annotated[bool, typer.Option(help="remove stored docs that are no longer in PATH")] = False,
) -> None:
    """Ingest markdown docs with front matter; unchanged docs are skipped, changed ones replaced.
    Running services (`triage serve`, workers, on this data dir or the same TRIAGE_CHROMA_URL) see the
    change on their next search, no restart needed."""
    from agent.runtime.assembly import open_knowledge
    from knowledge.store import KnowledgeUnavailableError

    if not path.exists():
        fail(f"{path} does not exist")
    try:
        store = open_knowledge(get_settings())
        report = store.ingest(path, prune=prune)
    except (KnowledgeUnavailableError, ValueError) as exc:  # the server is down; a malformed TRIAGE_CHROMA_URL
        fail(str(exc))
    typer.echo(f"{path}: {report.summary()} (collection now {store.count()} chunks)")
    for err in report.errors:
        typer.secho(f"  rejected {err}", fg=typer.colors.YELLOW, err=True)
    for warning in unknown_actions(path):
        typer.secho(f"  warning: {warning}", fg=typer.colors.YELLOW, err=True)
    if report.errors:
        raise typer.Exit(1)


@app.command("search")
def kb_search(query: str, k: int = 5) -> None:
    """Show the top-k documents for a query."""
    from agent.runtime.assembly import open_knowledge
    from knowledge.store import IndexMismatchError, KnowledgeUnavailableError

    try:
        hits = open_knowledge(get_settings()).search(query, k=k)
    except (IndexMismatchError, KnowledgeUnavailableError, ValueError) as exc:
        fail(str(exc))
    for hit in hits:
        typer.echo(f"{hit.score:.3f}  {hit.doc_id:10} [{hit.doc_type}/{hit.category}/{hit.language}] {hit.title}")
