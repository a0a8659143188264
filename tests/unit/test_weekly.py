"""The weekly review's pure parts: ISO weeks, the trend's weeks, what changed (better or worse), the
figures as the review prints them, and the markdown / HTML of a small review (no database)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from agent.insights.report import fmt, render_html, render_markdown, what_changed_lines
from agent.insights.weekly import PeriodError, parse_week, week_label, week_start, weeks_until, what_changed


def test_iso_weeks() -> None:
    start, end = parse_week("2026-W48")
    assert start == datetime(2026, 11, 23, tzinfo=UTC) and end == datetime(2026, 11, 30, tzinfo=UTC)
    assert parse_week("2027-W01")[0] == datetime(2027, 1, 4, tzinfo=UTC)  # ISO: the week with the 4th of January
    assert parse_week("2026-W53")[0] == datetime(2026, 12, 28, tzinfo=UTC)  # 2026 has 53 ISO weeks
    assert week_label(datetime(2027, 1, 2, 12, tzinfo=UTC)) == "2026-W53"
    assert week_start(datetime(2026, 12, 1, 15, 30, tzinfo=UTC)) == datetime(2026, 11, 30, tzinfo=UTC)
    for bad in ("2025-W53", "2026-W00", "2026-W54", "2026-48", "W48", "2026-W4", ""):
        with pytest.raises(PeriodError):
            parse_week(bad)


def test_the_trend_ends_with_the_week_holding_the_end() -> None:
    weeks = weeks_until(datetime(2026, 12, 2, 9, tzinfo=UTC), 3)  # a Wednesday morning
    assert [w.label for w in weeks] == ["2026-W47", "2026-W48", "2026-W49"]
    assert [w.partial for w in weeks] == [False, False, True]
    assert weeks[-1].start == datetime(2026, 11, 30, tzinfo=UTC) and weeks[-1].end == datetime(
        2026, 12, 2, 9, tzinfo=UTC
    )
    assert all(b.start - a.start == timedelta(days=7) for a, b in itertools.pairwise(weeks))
    full = weeks_until(datetime(2026, 11, 30, tzinfo=UTC), 2)  # a Monday 00:00: the week before is the last
    assert [w.label for w in full] == ["2026-W47", "2026-W48"] and not full[-1].partial
    for n in (0, 53):
        with pytest.raises(PeriodError):
            weeks_until(datetime(2026, 11, 30, tzinfo=UTC), n)


def _point(**values: Any) -> dict[str, Any]:
    return dict(values)


def test_what_changed_knows_better_from_worse() -> None:
    previous = [_point(auto_resolution_rate=0.2, backlog=100, csat=0.8), _point(auto_resolution_rate=0.3, backlog=90)]
    changes = {c["kpi"]: c for c in what_changed(_point(auto_resolution_rate=0.35, backlog=95, csat=0.8), previous)}
    assert changes["auto_resolution_rate"]["change"] == 0.05 and changes["auto_resolution_rate"]["better"] is True
    assert changes["backlog"]["change"] == 5 and changes["backlog"]["better"] is False  # a bigger backlog is worse
    assert changes["backlog"]["mean_before"] == 95 and changes["backlog"]["change_vs_mean"] == 0
    assert changes["csat"]["previous"] is None and changes["csat"]["better"] is None  # last week had no rating
    assert changes["csat"]["mean_before"] == 0.8
    assert changes["reopen_rate"]["value"] is None and changes["reopen_rate"]["change"] is None


def test_figures_as_printed() -> None:
    assert fmt("auto_resolution_rate", 0.2994) == "29.9%"
    assert fmt("csat", None) == "—"
    assert fmt("first_response_seconds_p50", 15203) == "4.2 h (15,203 s)"
    assert fmt("first_response_seconds_p50", 120) == "2 min (120 s)"
    assert fmt("tickets_created", 1234) == "1,234"


def _review() -> dict[str, Any]:
    current: dict[str, Any] = {
        "tickets_created": 20,
        "backlog": 4,
        "auto_resolution_rate": 0.25,
        "durable_auto_resolution_rate": 0.2,
        "auto_resolutions_pending_verification": 1,
        "sla_adherence_rate": 0.5,
        "csat": 0.75,
        "reopened": 1,
        "solved": 10,
        "handoffs": 5,
        "ai_triaged": 18,
        "handoff_rate": 0.2778,
        "reopen_rate": 0.1,
        "auto_resolved": 5,
        "sla": {
            "breaches": {"first_response_late": 2},
            "cells": [
                {
                    "tier": "enterprise",
                    "priority": "high",
                    "tickets": 4,
                    "has_target": True,
                    "met": 2,
                    "breached": 2,
                    "adherence_rate": 0.5,
                    "breaches": {"first_response_late": 2},
                }
            ],
        },
        "root_causes": [
            {
                "id": "RCA-1",
                "title": "Blank PDF",
                "status": "fixed",
                "fixed_at": "2026-11-02T00:00:00",
                "tickets_linked": 9,
                "tickets_linked_in_period": 1,
                "per_week_before_fix": 2.0,
                "per_week_after_fix": 0.25,
            }
        ],
    }
    before = {"tickets_created": 10, "backlog": 2, "auto_resolution_rate": 0.4}
    weeks = [{"week": "2026-W47", **before}, {"week": "2026-W48", **current}]
    return {
        "title": "Weekly performance review: 2026-W48",
        "label": "2026-W48",
        "from": "2026-11-23",
        "to": "2026-11-30",
        "filters": {},
        "current": current,
        "previous": [before],
        "previous_labels": ["2026-W47"],
        "changes": what_changed(current, [before]),
        "weeks": weeks,
        "topics": {
            "clusters": [
                {
                    "id": 3,
                    "size": 12,
                    "terms": ["bank", "file"],
                    "last_week": 9,
                    "baseline_weekly": 1.0,
                    "growth": 5.0,
                    "score": 60.0,
                    "rca": None,
                }
            ],
            "alerts": [{"cluster": 3, "message": "9 tickets about bank, file in the last 7 days", "rca": None}],
        },
        "undone": {"total": 2, "within_durable_days": 2, "items": []},
        "eval_runs": {"runs": [], "rows": []},
    }


def test_the_markdown_says_what_changed_and_shows_every_section() -> None:
    review = _review()
    md = render_markdown(review)
    assert md.startswith("# Weekly performance review: 2026-W48\n")
    assert "| New tickets | 20 | 10 | +10 (worse) | 10 |" in md
    assert "| Auto-resolution rate | 25.0% | 40.0% | -15.0 pts (worse) | 40.0% |" in md
    lines = what_changed_lines(review)
    assert lines[0].startswith("New tickets rose from 10 to 20") or lines[0].startswith("Backlog")
    assert "Spike: 9 tickets about bank, file in the last 7 days" in lines
    assert "2 auto-resolutions of this period were undone" in md
    assert "| bank, file | 12 | 9 | 1.0 | 5.0x SPIKE | new root-cause candidate |" in md
    assert "| enterprise | high | 4 | 50.0% | 2 | 2 | first response late 2 |" in md
    assert "| RCA-1: Blank PDF | fixed | 2026-11-02 | 1 / 9 | 2.00 -> 0.25 |" in md
    assert "No eval runs stored" in md


def test_the_html_is_one_file_with_its_plots() -> None:
    page = render_html(_review())
    assert page.count("<svg") >= 4  # volume, rates, times, SLA breaches, root causes
    assert "<script" not in page and 'src="http' not in page
    assert "Weekly performance review: 2026-W48" in page
