"""`triage init`: the .env file with a random API key and the webhook secrets."""

from __future__ import annotations

from pathlib import Path

import typer

from agent.settings import init_env_file


def init(env_file: Path = Path(".env")) -> None:
    """Create .env with a random API key, the Standard Webhooks secret and the Jira, Freshdesk and
    YouTrack webhook secrets/tokens (keeps existing values; a commented key counts as present)."""
    added = init_env_file(env_file)
    if added:
        typer.echo(f"wrote {', '.join(added)} to {env_file}")
    else:
        typer.echo(f"{env_file} already has an API key and every webhook secret")
