"""`triage report weekly` over eight weeks of seeded lifecycle data (tests/integration/dashboard_seed.py;
SQLite and PostgreSQL):
the review's figures for 2026-W48 and the four weeks before are what GET /kpis answers for those
weeks (the JSON exactly, the markdown as printed); the HTML is one self-contained file with its plots
inline; the spike, the SLA breaches, the fixed root cause and the eval runs are in it; bad options
exit with a message."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from agent.insights.report import KPI_LABELS, fmt
from agent.insights.weekly import parse_week
from agent.settings import Settings, get_settings
from tests.integration.conftest import serve_in_thread
from tests.integration.test_dashboard_page import ADMIN, kpis, seeded_settings
from tests.integration.test_writeback_e2e import pg_url as pg_url  # the fixture: a throwaway schema

pytestmark = pytest.mark.integration


def _env(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    monkeypatch.setenv("TRIAGE_DATABASE_URL", settings.db_url)
    monkeypatch.setenv("TRIAGE_KB_PATH", str(settings.kb_path))
    monkeypatch.setenv("TRIAGE_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("TRIAGE_CONFIG", str(settings.data_dir / "no-triage.toml"))


def _run(args: list[str]) -> Any:
    from api.cli import app

    get_settings.cache_clear()
    try:
        return CliRunner().invoke(app, args)
    finally:
        get_settings.cache_clear()


def _without_now(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != "now"}


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    if request.param == "sqlite":
        return {}
    return {"database_url": request.getfixturevalue("pg_url")}


def test_the_weekly_review_has_the_kpis_of_its_weeks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database: dict[str, str]
) -> None:
    settings = seeded_settings(tmp_path, **database)
    _env(monkeypatch, settings)
    out = tmp_path / "review"
    result = _run(["report", "weekly", "--week", "2026-W48", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Weekly performance review: 2026-W48" in result.output
    review = json.loads((out / "weekly.json").read_text(encoding="utf-8"))
    markdown = (out / "weekly.md").read_text(encoding="utf-8")
    page = (out / "weekly.html").read_text(encoding="utf-8")

    with serve_in_thread(settings) as url, httpx.Client(base_url=url, timeout=60) as client:
        start, end = parse_week("2026-W48")
        week = kpis(client, **{"from": start.isoformat(), "to": end.isoformat()})
        before = [kpis(client, **{"from": p["from"], "to": p["to"]}) for p in review["previous"]]
        whole = client.get(
            "/dashboard/data", params={"from": "2026-10-05", "to": "2026-11-30", "topics": "false"}, headers=ADMIN
        ).json()

    # the JSON: the week is GET /kpis for the week; the four weeks before are theirs
    assert _without_now(review["current"]) == _without_now(week)
    assert review["previous_labels"] == ["2026-W44", "2026-W45", "2026-W46", "2026-W47"]
    for point, answer in zip(review["previous"], before, strict=True):
        for key in KPI_LABELS:
            assert point[key] == answer[key], (key, point["from"])
    # the markdown's KPI table prints those figures: this week, last week, the change
    for key, label in KPI_LABELS.items():
        row = f"| {label} | {fmt(key, week[key])} | {fmt(key, before[-1][key])} |"
        assert row in markdown, (row, markdown)
    assert f"**{week['tickets_created']:,} new tickets**, backlog {week['backlog']:,} at the end" in markdown
    # what changed: the spike of the bank-file issue (12 tickets in the week), linked to its RCA
    assert re.search(r"Spike: 12 tickets about .* \(root cause RCA-103\)", markdown), markdown
    # SLA breaches by tier x priority, each breached cell with its reasons
    breached = [c for c in week["sla"]["cells"] if c["breached"]]
    assert breached
    for cell in breached:
        assert re.search(
            rf"\| {cell['tier']} \| {cell['priority']} \| {cell['tickets']} \| .* \| {cell['breached']} \| [a-z]",
            markdown,
        ), cell
    # deployment impact: the fixed root cause with its before/after, the eval runs side by side
    fixed = next(c for c in week["root_causes"] if c["id"] == "RCA-101")
    assert f"{fixed['per_week_before_fix']:.2f} -> {fixed['per_week_after_fix']:.2f}" in markdown
    assert "| metric | b77-after (" in markdown and "| Accuracy | 92.40% | 90.12% |" in markdown
    # undone auto-resolutions: those undone within 7 days are the auto-resolutions that are neither
    # durable nor waiting for their 7 days (/kpis's own figures)
    p = whole["period"]
    assert whole["undone"]["within_durable_days"] == (
        p["auto_resolved"] - p["durable_auto_resolved"] - p["auto_resolutions_pending_verification"]
    )
    assert whole["undone"]["total"] > 0

    # the HTML: one file, the plots inline as SVG, nothing fetched from elsewhere
    assert page.count("<svg") >= 4, page[:500]
    assert "<script" not in page and not re.search(r"""(src|href)=["']?https?://""", page)
    assert "<img" not in page or "data:image" in page
    assert "What changed" in page and "SLA by client tier and priority" in page


def test_the_default_and_custom_periods(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = seeded_settings(tmp_path)
    _env(monkeypatch, settings)
    out = tmp_path / "two-weeks"
    result = _run(
        [
            "report",
            "weekly",
            "--from",
            "2026-11-16",
            "--to",
            "2026-11-30",
            "--out",
            str(out),
            "--previous",
            "2",
            "--no-topics",
        ]
    )
    assert result.exit_code == 0, result.output
    review = json.loads((out / "weekly.json").read_text(encoding="utf-8"))
    assert review["label"] == "2026-11-16 to 2026-11-29"
    assert review["previous_labels"] == ["2026-10-19 to 2026-11-01", "2026-11-02 to 2026-11-15"]
    assert review["topics"] is None
    with serve_in_thread(settings) as url, httpx.Client(base_url=url, timeout=60) as client:
        two = kpis(client, **{"from": "2026-11-16", "to": "2026-11-30"})
    assert _without_now(review["current"]) == _without_now(two)
    # no period given: the last full ISO week before today
    default = tmp_path / "default"
    result = _run(["report", "weekly", "--out", str(default), "--no-topics"])
    assert result.exit_code == 0, result.output
    assert re.fullmatch(r"\d{4}-W\d{2}", json.loads((default / "weekly.json").read_text())["label"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--week", "2026-W54"], "does not exist"),
        (["--week", "2026-48"], "not an ISO week"),
        (["--week", "2026-W48", "--from", "2026-11-01"], "not both"),
        (["--from", "2026-11-01"], "go together"),
        (["--from", "2026-11-30", "--to", "2026-11-01"], "must be before"),
        (["--from", "someday", "--to", "2026-11-01"], "not a date"),
        (["--from", "1900-01-01", "--to", "2026-11-01"], "outside"),
        (["--tier", "x" * 65], "1 to 64 characters"),
    ],
)
def test_bad_options_exit_with_a_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    monkeypatch.setenv("TRIAGE_DATABASE_URL", f"sqlite:///{tmp_path / 'triage.db'}")
    result = _run(["report", "weekly", "--out", str(tmp_path / "out"), *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert not (tmp_path / "out").exists()
