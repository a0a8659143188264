"""`triage coverage check`: 24/7 shift coverage of every queue and tier the routing rules can reach."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from agent.settings import get_settings
from api.cli.common import fail

app = typer.Typer(help="Handoff routing: 24/7 shift coverage of the support team.", no_args_is_help=True)


@app.command("check")
def coverage_check(
    file: Annotated[Path | None, typer.Option("--file", help="team file (default TRIAGE_TEAM_FILE)")] = None,
    policy: Annotated[Path | None, typer.Option(help="policy file for its queues (default TRIAGE_POLICY_FILE)")] = None,
    year: Annotated[int | None, typer.Option(help="ISO year whose weeks are checked (default this year)")] = None,
) -> None:
    """Check that every queue x tier the routing rules can send a ticket to has someone on duty all 168
    hours of every week of the year (real dates, so DST changes are in), and name every gap. Exit 1 on gaps."""
    from datetime import UTC, datetime

    from agent.graph.policy import PolicyError, load_policy
    from agent.graph.routing import TeamError, load_team, routable_targets
    from agent.graph.shifts import coverage_gaps

    settings = get_settings()
    team_path = file or settings.team_file
    try:
        team = load_team(team_path)
        pol = load_policy(policy or settings.policy_file)
    except (TeamError, PolicyError) as exc:
        fail(str(exc))
    unknown = sorted({c for r in team.rules for c in r.category} - set(pol.categories))
    if unknown:
        fail(f"team file {team_path}: rules name categories the policy does not define: {', '.join(unknown)}")
    check_year = year or datetime.now(UTC).year
    targets = routable_targets(team, {c: r.queue for c, r in pol.categories.items()}, pol.categories["other"].queue)
    try:
        gaps = coverage_gaps(team.engineers, targets, check_year)
    except ValueError as exc:  # a year outside the window shift times can be computed in
        fail(str(exc))
    if gaps:
        for gap in gaps:
            typer.echo(str(gap))
        typer.secho(f"{len(gaps)} coverage gap(s) in {team_path} ({check_year})", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    pairs = ", ".join(f"{q} {t}" for q, t in sorted(targets))
    typer.echo(f"OK: {len(targets)} queue/tier pairs covered 24/7 in every week of {check_year} ({pairs})")
