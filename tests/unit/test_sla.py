"""SLA deadlines per client tier x priority, and the ok / at-risk / breached boundaries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from agent.graph.routing import load_team
from agent.graph.sla import Deadlines, SlaConfig, at_risk, format_duration, parse_duration
from agent.settings import REPO_ROOT

SLA = load_team(REPO_ROOT / "agent" / "graph" / "routing.yaml").sla
CREATED = datetime(2026, 3, 28, 23, 50, tzinfo=UTC)  # Saturday night, just before Europe's DST change


def test_durations() -> None:
    assert parse_duration("30m") == timedelta(minutes=30)
    assert parse_duration("4h") == timedelta(hours=4)
    assert parse_duration("1h30m") == timedelta(minutes=90)
    assert parse_duration(" 2d ") == timedelta(days=2)
    assert parse_duration("1d12h") == timedelta(hours=36)
    for bad in ("", "soon", "4", "h", "-1h", 30):
        with pytest.raises(ValueError, match="is not a duration"):
            parse_duration(bad)
    assert format_duration(timedelta(days=1, minutes=90)) == "1d1h30m"


# (first response, resolution) per client tier and priority, as agent/routing.yaml promises them
SHIPPED = {
    "enterprise": {"urgent": ("30m", "4h"), "high": ("1h", "8h"), "normal": ("4h", "1d"), "low": ("8h", "3d")},
    "premium": {"urgent": ("1h", "8h"), "high": ("2h", "1d"), "normal": ("8h", "2d"), "low": ("1d", "5d")},
    "standard": {"urgent": ("2h", "1d"), "high": ("4h", "2d"), "normal": ("1d", "3d"), "low": ("2d", "7d")},
    "free": {"urgent": ("8h", "2d"), "high": ("1d", "3d"), "normal": ("2d", "7d"), "low": ("3d", "14d")},
}


@pytest.mark.parametrize(("tier", "priority"), [(t, p) for t, ps in SHIPPED.items() for p in ps])
def test_deadlines_for_every_tier_and_priority(tier: str, priority: str) -> None:
    first, resolution = SHIPPED[tier][priority]
    d = SLA.deadlines(priority, tier, CREATED)
    assert d.started_at == CREATED and (d.priority, d.client_tier) == (priority, tier)
    assert d.first_response_due == CREATED + parse_duration(first)
    assert d.resolution_due == CREATED + parse_duration(resolution)


def test_deadlines_are_calendar_time_in_utc() -> None:
    # free low: 3 calendar days, weekend included; across the DST night nothing shifts (UTC)
    d = SLA.deadlines("low", "free", CREATED)
    assert d.first_response_due == datetime(2026, 3, 31, 23, 50, tzinfo=UTC)
    # a naive time is UTC; another zone is converted
    naive = SLA.deadlines("urgent", "enterprise", datetime(2026, 3, 28, 23, 50))
    assert naive.first_response_due == datetime(2026, 3, 29, 0, 20, tzinfo=UTC)
    kyiv = datetime.fromisoformat("2026-03-29T01:50:00+02:00")
    assert SLA.deadlines("urgent", "enterprise", kyiv).started_at == CREATED
    with pytest.raises(KeyError, match="no SLA target for client tier 'gold'"):
        SLA.deadlines("urgent", "gold", CREATED)


def enterprise_urgent() -> Deadlines:
    return SLA.deadlines("urgent", "enterprise", datetime(2026, 6, 1, 10, 0, tzinfo=UTC))  # due 10:30 and 14:00


def at(h: int, m: int, s: int = 0) -> datetime:
    return datetime(2026, 6, 1, h, m, s, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "state", "minutes_left"),
    [
        (at(10, 0), "ok", 30),
        (at(10, 22, 30), "ok", 7),  # exactly 25% (7.5 of 30 min) left: not yet at risk
        (at(10, 22, 31), "at_risk", 7),  # less than 25% left
        (at(10, 29, 59), "at_risk", 0),
        (at(10, 30), "breached", 0),  # the deadline itself
        (at(10, 31), "breached", -1),
        (at(15, 0), "breached", -270),  # first response still pending: reported against it
    ],
)
def test_first_response_boundaries(now: datetime, state: str, minutes_left: int) -> None:
    risk = SLA.at_risk(enterprise_urgent(), now, responded=False)
    assert (risk.state, risk.minutes_left, risk.deadline) == (state, minutes_left, "first_response")
    assert risk.due == at(10, 30)


@pytest.mark.parametrize(
    ("now", "state", "minutes_left"),
    [
        (at(10, 31), "ok", 209),  # responded: only resolution (4 h) counts
        (at(13, 0), "ok", 60),  # exactly 25% of 4 h left
        (at(13, 0, 1), "at_risk", 59),
        (at(14, 0), "breached", 0),
    ],
)
def test_resolution_boundaries_once_responded(now: datetime, state: str, minutes_left: int) -> None:
    risk = SLA.at_risk(enterprise_urgent(), now, responded=True)
    assert (risk.state, risk.minutes_left, risk.deadline) == (state, minutes_left, "resolution")


def test_at_risk_share_is_configurable() -> None:
    d = enterprise_urgent()
    assert at_risk(d, at(10, 16), share=0.5).state == "at_risk"  # 14 of 30 min left < 50%
    assert at_risk(d, at(10, 16), share=0.25).state == "ok"
    half = SlaConfig.model_validate({"at_risk_share": 0.5, "targets": {"standard": SLA.targets["standard"]}})
    assert half.at_risk(d, at(10, 16)).state == "at_risk"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"targets": {}}, "define at least one client tier"),
        ({"at_risk_share": 1.5, "targets": {"s": {}}}, "at_risk_share"),
        (
            {"targets": {"s": {"urgent": {"first_response": "4h", "resolution": "1h"}}}},
            "resolution (1h) is shorter than first_response (4h)",
        ),
        ({"targets": {"s": {"urgent": {"first_response": "0m", "resolution": "1h"}}}}, "must be longer than zero"),
        ({"targets": {"s": {"asap": {"first_response": "1h", "resolution": "1h"}}}}, "s.asap"),
    ],
)
def test_bad_sla_config(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError) as err:
        SlaConfig.model_validate(raw)
    assert message in str(err.value)
