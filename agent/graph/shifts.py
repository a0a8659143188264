"""Who is on duty when: the support tiers, engineers and their weekly shifts, and the 24/7 coverage check.

An engineer (team file `engineers`, agent/graph/routing.yaml) works queues at tiers (L1, L2, L3) in
weekly shifts, each in the engineer's (or the shift's own) IANA time zone; a shift whose end is not
after its start ends the next day. Times are computed on real dates with zoneinfo, so a 9-hour
local shift stays 9 local hours across a DST change (and is 8 or 10 real hours if it spans the
change itself).

`coverage_gaps` proves the schedule covers every queue x tier the rules can route to around the
clock (`routing.routable_targets`): it computes each engineer's real on-duty intervals (UTC) over
every ISO week of a year, so every DST change of every configured time zone is in the check,
exactly to the minute.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator, model_validator

from agent.graph.sla import EARLIEST, LATEST, as_utc, check_window

Tier = Literal["L1", "L2", "L3"]
TIERS: tuple[Tier, ...] = ("L1", "L2", "L3")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}: use an IANA name such as Europe/Kyiv, America/Toronto") from exc


def _clock_minutes(value: object, *, allow_24: bool) -> int:
    if not isinstance(value, str):
        raise ValueError(
            f"{value!r} is not a time: write it in quotes as 'HH:MM' (YAML reads an unquoted 12:00 as the number 720)"
        )
    hh, sep, mm = value.strip().partition(":")
    if not (sep and hh.isdigit() and mm.isdigit() and len(mm) == 2):
        raise ValueError(f"{value!r} is not a time: write 'HH:MM', e.g. '07:00'")
    minutes = int(hh) * 60 + int(mm)
    if int(mm) > 59 or minutes > (1440 if allow_24 else 1439):
        raise ValueError(f"{value!r} is out of range: '00:00' to {'24:00' if allow_24 else '23:59'}")
    return minutes


class Shift(BaseModel):
    """A weekly shift: starts on each of `days` at `start` local time, ends at `end` (the next day
    when `end` is not after `start`; '24:00' is midnight at the end of the day)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    days: list[Weekday] = Field(min_length=1)
    start: int  # minutes after local midnight
    end: int
    timezone: str | None = None  # default: the engineer's

    @field_validator("start", mode="before")
    @classmethod
    def _start(cls, v: object) -> int:
        return _clock_minutes(v, allow_24=False)

    @field_validator("end", mode="before")
    @classmethod
    def _end(cls, v: object) -> int:
        return _clock_minutes(v, allow_24=True)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str | None) -> str | None:
        if v is not None:
            _zone(v)
        return v

    @field_serializer("start", "end")
    def _as_text(self, minutes: int) -> str:
        return f"{minutes // 60:02d}:{minutes % 60:02d}"  # 1440 -> '24:00'

    @model_validator(mode="after")
    def _length(self) -> Shift:
        if self.start == self.end:
            raise ValueError("start and end are equal: for a 24-hour shift write start '00:00', end '24:00'")
        return self

    def label(self) -> str:
        return f"{','.join(self.days)} {self._as_text(self.start)}-{self._as_text(self.end)}"


def _local(day: date, minutes: int, tz: ZoneInfo) -> datetime:
    """Wall-clock `minutes` after midnight of `day` in `tz`, as UTC. A wall time skipped by a DST
    change (e.g. 03:30 on the spring-forward night) maps as PEP 495's fold=0 does: the pre-change offset."""
    day = day + timedelta(days=minutes // 1440)
    minutes %= 1440
    return datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=tz).astimezone(UTC)


class Engineer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(min_length=1)
    email: str | None = None
    queues: list[str] = Field(min_length=1)
    tiers: list[Tier] = Field(min_length=1)
    languages: list[str] = Field(default_factory=lambda: ["en"])
    timezone: str
    shifts: list[Shift] = Field(default_factory=list[Shift])

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        _zone(v)
        return v

    def intervals(self, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
        """This engineer's on-duty intervals [from, to) in UTC that overlap [start, end). Both ends must
        lie in agent/sla.py's window (1970 to 2200; a ValueError says so), where stepping a day around
        them in any time zone cannot overflow."""
        start, end = as_utc(check_window(start, "start")), as_utc(check_window(end, "end", end=True))
        for shift in self.shifts:
            tz = _zone(shift.timezone or self.timezone)
            day = start.astimezone(tz).date() - timedelta(days=1)  # yesterday's shift may run past midnight
            last = end.astimezone(tz).date()
            while day <= last:
                if WEEKDAYS[day.weekday()] in shift.days:
                    s = _local(day, shift.start, tz)
                    e = _local(day, shift.end + (1440 if shift.end <= shift.start else 0), tz)
                    if s < end and e > start:
                        yield s, e
                day += timedelta(days=1)

    def on_shift(self, at: datetime) -> bool:
        return self.shift_end(at) is not None

    def shift_end(self, at: datetime) -> datetime | None:
        """When the shift this engineer is on at `at` ends (UTC), or None when off shift."""
        at = as_utc(check_window(at, "at"))
        ends = [e for _s, e in self.intervals(at, at + timedelta(microseconds=1))]
        return max(ends) if ends else None

    def takes(self, queue: str, tier: str) -> bool:
        return queue in self.queues and tier in self.tiers


# ---- coverage ------------------------------------------------------------------------------------
@dataclass
class CoverageGap:
    """A stretch of the week (UTC) when nobody takes `queue` at `tier`; `dates`: the UTC start date
    of each occurrence in the weeks checked."""

    queue: str
    tier: str
    label: str
    dates: list[date] = field(default_factory=list[date])
    weeks: int = 52

    def __str__(self) -> str:
        extra = ""
        if len(self.dates) < self.weeks:
            shown = ", ".join(d.isoformat() for d in self.dates[:4]) + (", ..." if len(self.dates) > 4 else "")
            extra = f"; {len(self.dates)} of {self.weeks} weeks: {shown}"
        return f"{self.queue} {self.tier}: {self.label} (no one on duty{extra})"


def _union(intervals: Iterable[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for s, e in sorted(intervals):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def _label(start: datetime, end: datetime) -> str:
    if end - start >= timedelta(days=7):
        return "all week"
    first = f"{DAY_NAMES[start.weekday()]} {start:%H:%M}"
    same_day = end.date() == start.date()
    return f"{first}-{'' if same_day else DAY_NAMES[end.weekday()] + ' '}{end:%H:%M} UTC"


def coverage_gaps(engineers: Sequence[Engineer], targets: Iterable[tuple[str, str]], year: int) -> list[CoverageGap]:
    """Gaps in round-the-clock coverage of each (queue, tier) by `engineers` (a team's), over every ISO week of `year`
    (Monday 00:00 UTC of week 1 to the Monday after the last week), so every DST change of every
    configured zone is checked. Exact to the minute: on-duty intervals are computed, not sampled.
    A recurring gap is named once with its weekday times; one that happens only in some weeks
    (e.g. around a DST change) also lists the dates."""
    if not EARLIEST.year < year < LATEST.year - 1:  # the padded weeks checked stay inside the window
        raise ValueError(f"year {year} is out of range: check a year from {EARLIEST.year + 1} to {LATEST.year - 2}")
    first = datetime.combine(date.fromisocalendar(year, 1, 1), time(0), tzinfo=UTC)
    weeks = date(year, 12, 28).isocalendar().week
    last = first + timedelta(weeks=weeks)
    pad = timedelta(days=8)  # so a gap running over the window's edge is seen (and labelled) whole
    on_duty = {e.name: list(e.intervals(first - pad, last + pad)) for e in engineers}
    found: dict[tuple[str, str, str], CoverageGap] = {}
    for queue, tier in sorted(set(targets), key=lambda t: (t[0], t[1])):
        covered = _union(iv for e in engineers if e.takes(queue, tier) for iv in on_duty[e.name])
        cursor = first - pad
        holes: list[tuple[datetime, datetime]] = []
        for s, e in [*covered, (last + pad, last + pad)]:
            if s > cursor:
                holes.append((cursor, s))
            cursor = max(cursor, e)
        for s, e in holes:
            if e - s >= timedelta(days=7):  # nobody, ever (or for a week and more): one line
                key = (queue, tier, "all week")
                gap = found.setdefault(key, CoverageGap(queue, tier, "all week", weeks=weeks))
                gap.dates = [
                    first.date() + timedelta(weeks=w)
                    for w in range(weeks)
                    if s < first + timedelta(weeks=w + 1) and e > first + timedelta(weeks=w)
                ]
                continue
            if not first <= s < last:
                continue
            key = (queue, tier, _label(s, e))
            found.setdefault(key, CoverageGap(queue, tier, key[2], weeks=weeks)).dates.append(s.date())
    return list(found.values())
