"""Service-level targets: first-response and resolution deadlines per client tier x priority.

The targets live in the team file (agent/routing.yaml, section `sla`) next to routing; agent/routing.py
loads and validates the whole file. Deadlines are CALENDAR time from the moment the SLA clock starts
(the ticket's creation), not business hours: an enterprise ticket raised on Saturday night is due on
Saturday night. That matches a 24/7 team (the coverage check makes sure one is on duty every hour).

`at_risk` flags a ticket when less than `at_risk_share` (default 25%) of the window is left, and
breached once the deadline has passed.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from agent.domain import PRIORITIES, Priority

RiskState = Literal["ok", "at_risk", "breached"]
DeadlineKind = Literal["first_response", "resolution"]

_DURATION = re.compile(r"^\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?\s*$")


def parse_duration(value: object) -> timedelta:
    """'30m', '4h', '1h30m', '2d' (calendar days), or a timedelta; anything else is a ValueError."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, str) and (m := _DURATION.match(value)) and any(m.groups()):
        days, hours, minutes = (int(g) if g else 0 for g in m.groups())
        return timedelta(days=days, hours=hours, minutes=minutes)
    raise ValueError(f"{value!r} is not a duration: write e.g. '30m', '4h', '1h30m' or '2d' (calendar days)")


def format_duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "", f"{mins}m" if mins else ""]
    return "".join(parts) or "0m"


class SlaTarget(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    first_response: timedelta
    resolution: timedelta

    @field_validator("first_response", "resolution", mode="before")
    @classmethod
    def _duration(cls, v: object) -> timedelta:
        delta = parse_duration(v)
        if delta <= timedelta(0):
            raise ValueError("must be longer than zero")
        return delta

    @model_validator(mode="after")
    def _order(self) -> SlaTarget:
        if self.resolution < self.first_response:
            raise ValueError(
                f"resolution ({format_duration(self.resolution)}) is shorter than first_response "
                f"({format_duration(self.first_response)})"
            )
        return self


class Deadlines(BaseModel):
    """When a ticket must get its first human response and be resolved (UTC)."""

    priority: Priority
    client_tier: str
    started_at: datetime  # the SLA clock's start: the ticket's creation
    first_response_due: datetime
    resolution_due: datetime


class Risk(BaseModel):
    state: RiskState
    deadline: DeadlineKind  # the deadline the state is about
    due: datetime
    minutes_left: int  # whole minutes to `due`, rounded down; negative once breached


class SlaConfig(BaseModel):
    """The `sla` section of the team file."""

    model_config = ConfigDict(extra="forbid")
    # flag a ticket as at risk when less than this share of its window (start -> deadline) is left
    at_risk_share: float = Field(default=0.25, gt=0.0, lt=1.0)
    # client tier -> priority -> target; every tier must define all four priorities
    targets: dict[str, dict[Priority, SlaTarget]]

    @model_validator(mode="after")
    def _complete(self) -> SlaConfig:
        if not self.targets:
            raise ValueError("targets: define at least one client tier (e.g. standard)")
        for tier, by_priority in self.targets.items():
            missing = [p for p in PRIORITIES if p not in by_priority]
            if missing:
                raise ValueError(
                    f"targets.{tier}: missing priorities {', '.join(missing)} (define all of {', '.join(PRIORITIES)})"
                )
        return self

    @property
    def client_tiers(self) -> list[str]:
        return list(self.targets)

    def target(self, priority: str, client_tier: str) -> SlaTarget:
        try:
            return self.targets[client_tier][priority]  # type: ignore[index]
        except KeyError as exc:
            raise KeyError(
                f"no SLA target for client tier {client_tier!r} and priority {priority!r}; tiers: "
                f"{', '.join(self.targets)}; priorities: {', '.join(PRIORITIES)}"
            ) from exc

    def deadlines(self, priority: str, client_tier: str, created_at: datetime) -> Deadlines:
        """First-response and resolution deadlines for a ticket created at `created_at` (calendar time).
        A creation time outside [EARLIEST, LATEST) (a sender's bogus date) is clamped to the window,
        so deadlines always exist: from the year 1, breached; from the year 9999, due in 2200."""
        start = clamp_to_window(created_at)
        t = self.target(priority, client_tier)
        return Deadlines(
            priority=priority,  # type: ignore[arg-type]
            client_tier=client_tier,
            started_at=start,
            first_response_due=start + t.first_response,
            resolution_due=start + t.resolution,
        )

    def at_risk(self, deadlines: Deadlines, now: datetime, responded: bool = False) -> Risk:
        return at_risk(deadlines, now, responded, share=self.at_risk_share)


def as_utc(dt: datetime) -> datetime:
    """Aware UTC; a naive datetime is taken to be UTC already (what SQLite hands back)."""
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


# The moments deadline and shift arithmetic is defined for: it adds weeks to a start and steps days
# around a moment in every engineer's time zone, so both ends stay far from datetime's years 1 and 9999
# (where converting 0001-01-01T00:00+14:00 to UTC, or adding a day to 9999-12-31, overflows).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
WINDOW = f"from {EARLIEST:%Y-%m-%dT%H:%M:%SZ} up to (not including) {LATEST:%Y-%m-%dT%H:%M:%SZ}"


def in_window(dt: datetime, *, end: bool = False) -> bool:
    """Whether `dt` (naive = UTC) lies in [EARLIEST, LATEST) (with `end`, the end of a span: LATEST
    itself too). Aware datetimes compare without being converted, so this never overflows."""
    aware = dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt
    return EARLIEST <= aware < LATEST or (end and aware == LATEST)


def check_window(dt: datetime, what: str = "the time", *, end: bool = False) -> datetime:
    """`dt` when it is `in_window`, else a ValueError saying the allowed range."""
    if not in_window(dt, end=end):
        raise ValueError(f"{what} {dt.isoformat()} is out of range: it must be {WINDOW}")
    return dt


def clamp_to_window(dt: datetime) -> datetime:
    """`dt` in UTC, moved to the nearest end of [EARLIEST, LATEST) when outside it."""
    if in_window(dt):
        return as_utc(dt)
    return EARLIEST if (dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt) < EARLIEST else LATEST


def _risk(kind: DeadlineKind, start: datetime, due: datetime, now: datetime, share: float) -> Risk:
    left = due - now
    window = due - start
    if left <= timedelta(0):
        state: RiskState = "breached"
    elif left < window * share:
        state = "at_risk"
    else:
        state = "ok"
    return Risk(state=state, deadline=kind, due=due, minutes_left=math.floor(left.total_seconds() / 60))


_SEVERITY: dict[RiskState, int] = {"ok": 0, "at_risk": 1, "breached": 2}


def at_risk(deadlines: Deadlines, now: datetime, responded: bool = False, share: float = 0.25) -> Risk:
    """Where a ticket stands against its SLA at `now`.

    Not yet responded to: the worse of the first-response and resolution deadlines (first response,
    in practice: it is due first). Responded: the resolution deadline only. At risk: less than
    `share` of the window (start -> deadline) is left; breached: the deadline has passed (`now >= due`).
    `now` outside [EARLIEST, LATEST) is a ValueError.
    """
    now = as_utc(check_window(now, "now"))
    start = as_utc(deadlines.started_at)
    resolution = _risk("resolution", start, as_utc(deadlines.resolution_due), now, share)
    if responded:
        return resolution
    first = _risk("first_response", start, as_utc(deadlines.first_response_due), now, share)
    if _SEVERITY[resolution.state] > _SEVERITY[first.state]:
        return resolution
    return first
