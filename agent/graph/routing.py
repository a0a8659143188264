"""Handoff routing: which queue and tier a handed-off ticket goes to, and which engineer gets it.

One team file (agent/routing.yaml, `TRIAGE_TEAM_FILE`) holds:
- `rules`: category / priority / risk flags -> queue and tier (L1, L2, L3); the first rule that
  matches wins; `default` catches the rest (its queue, when left out, is the policy's queue for the
  ticket: agent/policy.yaml `categories.<name>.queue`, as the decision carries it);
- `clients`: the client allocation matrix, client name -> client tier and dedicated engineer(s);
- `engineers`: who works which queues and tiers, speaks which languages, and their weekly shifts in
  their own (or the shift's) IANA time zone; a shift whose end is not after its start ends the next
  day. Times are computed on real dates with zoneinfo, so a 9-hour local shift stays 9 local hours
  across a DST change (and is 8 or 10 real hours if it spans the change itself);
- `fallback_on_call`: who gets a ticket when nobody of the queue is on duty at its tier or above;
- `sla`: deadlines per client tier x priority (agent/sla.py).

`coverage_gaps` proves the schedule covers every queue x tier the rules can route to around the
clock: it computes each engineer's real on-duty intervals (UTC) over every ISO week of a year, so
every DST change of every configured time zone is in the check, exactly to the minute.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_serializer, field_validator, model_validator

from agent.domain import Customer, Decision, Priority, RiskFlag, Triage
from agent.graph.sla import EARLIEST, LATEST, Deadlines, SlaConfig, as_utc, check_window

log = logging.getLogger(__name__)

Tier = Literal["L1", "L2", "L3"]
TIERS: tuple[Tier, ...] = ("L1", "L2", "L3")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
UNROUTED_QUEUE = "triage"  # the queue when neither the rule nor the decision names one (policy: 'other')


class TeamError(ValueError):
    """The team file is missing or invalid; the message names the file and the field."""


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


class Rule(BaseModel):
    """Matches when every condition given matches (any of the values listed for it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(min_length=1)
    category: list[str] = Field(default_factory=list)
    priority: list[Priority] = Field(default_factory=list)
    risk: list[RiskFlag] = Field(default_factory=list)  # any of these flags raised
    queue: str | None = None  # None: the policy's queue for the ticket
    tier: Tier

    @model_validator(mode="after")
    def _has_condition(self) -> Rule:
        if not (self.category or self.priority or self.risk):
            raise ValueError(f"rule {self.name!r} has no condition (category, priority or risk); use `default`")
        return self

    def matches(self, category: str, priority: str, risks: Iterable[str]) -> bool:
        return (
            (not self.category or category in self.category)
            and (not self.priority or priority in self.priority)
            and (not self.risk or bool(set(self.risk) & set(risks)))
        )

    def describe(self) -> str:
        conds = [
            f"{name} {' or '.join(values)}"
            for name, values in (("category", self.category), ("priority", self.priority), ("risk", self.risk))
            if values
        ]
        return f"rule {self.name!r} ({' and '.join(conds)})"


class DefaultRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    queue: str | None = None  # None: the policy's queue for the ticket
    tier: Tier = "L1"


class Client(BaseModel):
    """A row of the client allocation matrix."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    tier: str
    dedicated_engineer: str | None = None  # for every queue ...
    dedicated: dict[str, str] = Field(default_factory=dict)  # ... or per queue (wins over the above)


class Routing(BaseModel):
    """Where a handed-off ticket goes and why."""

    queue: str
    tier: Tier  # the tier that takes it (higher than the rule's when escalated)
    engineer: str | None  # None only when nobody is on duty and no fallback is configured
    engineer_email: str | None = None
    client: str | None = None
    client_tier: str
    rule: str  # the rule that matched, or 'default'
    escalated: bool = False  # nobody on duty at the rule's tier: a higher tier took it
    fallback: bool = False  # nobody of the queue on duty at all: the fallback on-call took it
    why: str


class Team(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: str
    rules: list[Rule] = Field(default_factory=list[Rule])
    default: DefaultRule = Field(default_factory=DefaultRule)
    default_client_tier: str = "standard"
    clients: dict[str, Client] = Field(default_factory=dict[str, Client])
    engineers: list[Engineer] = Field(min_length=1)
    fallback_on_call: str | None = None
    sla: SlaConfig

    @model_validator(mode="after")
    def _references(self) -> Team:
        names = [e.name for e in self.engineers]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"engineers: duplicate name(s) {', '.join(dupes)}")
        rules = [r.name for r in self.rules]
        if dupe := next((n for n in rules if rules.count(n) > 1 or n == "default"), None):
            raise ValueError(f"rules: rule name {dupe!r} is used twice (or is the reserved name 'default')")
        tiers = self.sla.client_tiers
        if self.default_client_tier not in tiers:
            raise ValueError(
                f"default_client_tier: {self.default_client_tier!r} has no sla.targets entry "
                f"(tiers: {', '.join(tiers)})"
            )
        by_name = {e.name: e for e in self.engineers}
        for cname, client in self.clients.items():
            if client.tier not in tiers:
                raise ValueError(
                    f"clients.{cname}.tier: {client.tier!r} has no sla.targets entry (tiers: {', '.join(tiers)})"
                )
            picks = [("dedicated_engineer", None, client.dedicated_engineer)]
            picks += [(f"dedicated.{q}", q, n) for q, n in client.dedicated.items()]
            for where, queue, name in picks:
                if name is None:
                    continue
                if name not in by_name:
                    raise ValueError(f"clients.{cname}.{where}: unknown engineer {name!r}")
                if queue is not None and queue not in by_name[name].queues:
                    raise ValueError(
                        f"clients.{cname}.{where}: {name} does not work queue {queue!r} "
                        f"(their queues: {', '.join(by_name[name].queues)})"
                    )
        return self

    # ---- lookups ---------------------------------------------------------------------------------
    @property
    def queues(self) -> list[str]:
        seen: dict[str, None] = {}
        for q in [*(r.queue for r in self.rules), self.default.queue, *(q for e in self.engineers for q in e.queues)]:
            if q is not None:
                seen.setdefault(q, None)
        return list(seen)

    def engineer(self, name: str) -> Engineer | None:
        return next((e for e in self.engineers if e.name == name), None)

    def match(self, category: str, priority: str, risks: Iterable[str]) -> tuple[str | None, Tier, str]:
        """(queue or None for the policy's, tier, rule name): the first matching rule, else the default."""
        risks = list(risks)
        for rule in self.rules:
            if rule.matches(category, priority, risks):
                return rule.queue, rule.tier, rule.name
        return self.default.queue, self.default.tier, "default"

    def client_of(self, customer: Customer | None) -> tuple[str | None, str, Client | None, str]:
        """(client name, client tier, matrix row, how the tier was found)."""
        name = (customer.name or "").strip() if customer else ""
        if name:
            for cname, row in self.clients.items():
                if cname.casefold() == name.casefold():
                    return cname, row.tier, row, "client matrix"
        tier = customer.tier if customer else None
        if tier in self.sla.client_tiers:
            return name or None, tier, None, "the ticket's customer tier"  # type: ignore[return-value]
        why = f"default (ticket tier {tier!r} is not an SLA tier)" if tier else "default"
        return name or None, self.default_client_tier, None, why

    def who_is_on_duty(self, queue: str, tier: str, at: datetime, language: str | None = None) -> list[Engineer]:
        """Engineers on shift at `at` who take `queue` at `tier`; those speaking `language` first,
        otherwise in the order of the file."""
        on = [e for e in self.engineers if e.takes(queue, tier) and e.on_shift(at)]
        if language:
            on.sort(key=lambda e: language not in e.languages)  # stable: file order within each group
        return on

    def on_shift(self, at: datetime) -> list[Engineer]:
        return [e for e in self.engineers if e.on_shift(at)]

    def deadlines(self, priority: str, client_tier: str, created_at: datetime) -> Deadlines:
        return self.sla.deadlines(priority, client_tier, created_at)

    # ---- routing ---------------------------------------------------------------------------------
    def route(self, triage: Triage, decision: Decision, customer: Customer | None, at: datetime) -> Routing:
        """Queue, tier and engineer for a handed-off ticket at time `at`.

        Engineer: the client's dedicated engineer (for this queue, else overall) when on shift and
        taking this tier; else the first engineer on duty for the queue and tier (ticket language
        first); else the same one tier up, then two; else the fallback on-call."""
        risks = list(triage.risk.value)
        rule_queue, tier, rule = self.match(triage.category.value, triage.priority.value, risks)
        queue = rule_queue or decision.queue or UNROUTED_QUEUE
        matched = (
            "no rule matched: default"
            if rule == "default"
            else next(r.describe() for r in self.rules if r.name == rule)
        )
        where = "" if rule_queue else " (the policy's queue)"
        why = [f"{matched} -> {queue}{where} {tier}"]
        client, client_tier, row, how = self.client_of(customer)
        why.append(f"client {client or 'unknown'}: tier {client_tier} ({how})")
        language = triage.language.value if triage.language.value not in ("", "other") else None
        base = {"queue": queue, "client": client, "client_tier": client_tier, "rule": rule}

        if row is not None:
            name = row.dedicated.get(queue) or row.dedicated_engineer
            eng = self.engineer(name) if name else None
            if eng is not None:
                if eng.on_shift(at) and tier in eng.tiers:
                    why.append(f"dedicated engineer {eng.name} is on shift")
                    return Routing(**base, tier=tier, engineer=eng.name, engineer_email=eng.email, why="; ".join(why))
                reason = "off shift" if not eng.on_shift(at) else f"does not take {tier}"
                why.append(f"dedicated engineer {eng.name} is {reason}")

        for level in TIERS[TIERS.index(tier) :]:
            on = self.who_is_on_duty(queue, level, at, language)
            if on:
                eng = on[0]
                speaks = f", speaks {language}" if language and language in eng.languages else ""
                if level == tier:
                    why.append(f"{eng.name} is on duty for {queue} {level}{speaks}")
                else:
                    why.append(f"nobody on duty for {queue} {tier}: escalated to {level}, {eng.name}{speaks}")
                return Routing(
                    **base,
                    tier=level,
                    engineer=eng.name,
                    engineer_email=eng.email,
                    escalated=level != tier,
                    why="; ".join(why),
                )
        if self.fallback_on_call:
            why.append(f"nobody on duty for {queue} at {tier} or above: fallback on-call {self.fallback_on_call}")
        else:
            why.append(f"nobody on duty for {queue} at {tier} or above and no fallback_on_call is configured")
        return Routing(**base, tier=tier, engineer=self.fallback_on_call, fallback=True, why="; ".join(why))


# ---- coverage ------------------------------------------------------------------------------------
def routable_targets(
    team: Team, category_queues: Mapping[str, str], out_of_scope_queue: str = UNROUTED_QUEUE
) -> set[tuple[str, Tier]]:
    """Every (queue, tier) the rules can route a ticket to. `category_queues`: the policy's
    category -> queue; a decision's queue is its category's, or the out-of-scope queue (policy
    'other') when the knowledge base does not cover the ticket. A rule with only a category
    condition takes all of that category's tickets, so later rules never see them."""
    targets: set[tuple[str, Tier]] = set()
    for category, policy_queue in category_queues.items():
        decision_queues = {policy_queue, out_of_scope_queue}
        for rule in [*team.rules, None]:
            if rule is not None and rule.category and category not in rule.category:
                continue
            queue, tier = (rule.queue, rule.tier) if rule is not None else (team.default.queue, team.default.tier)
            for q in [queue] if queue else sorted(decision_queues):
                targets.add((q, tier))
            if rule is not None and not rule.priority and not rule.risk:
                break  # takes every ticket of this category
    return targets


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


def coverage_gaps(team: Team, targets: Iterable[tuple[str, str]], year: int) -> list[CoverageGap]:
    """Gaps in round-the-clock coverage of each (queue, tier), over every ISO week of `year`
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
    on_duty = {e.name: list(e.intervals(first - pad, last + pad)) for e in team.engineers}
    found: dict[tuple[str, str, str], CoverageGap] = {}
    for queue, tier in sorted(set(targets), key=lambda t: (t[0], t[1])):
        covered = _union(iv for e in team.engineers if e.takes(queue, tier) for iv in on_duty[e.name])
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


# ---- loading -------------------------------------------------------------------------------------
def _where(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(p) for p in loc)


def parse_team(raw: object, source: str) -> Team:
    try:
        return Team.model_validate(raw)
    except ValidationError as exc:
        parts = []
        for e in exc.errors():
            msg = str(e["msg"]).removeprefix("Value error, ")
            parts.append(f"{_where(e['loc'])}: {msg}" if e["loc"] else msg)
        raise TeamError(f"team file {source}: {'; '.join(parts)}") from exc


def load_team(path: Path) -> Team:
    """Read and validate a team file (not cached: see `cached_team`)."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise TeamError(f"team file {path} not found; set TRIAGE_TEAM_FILE") from exc
    except yaml.YAMLError as exc:
        raise TeamError(f"team file {path} is not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise TeamError(f"team file {path}: expected a mapping with version, rules, engineers, sla")
    return parse_team(raw, str(path))


@lru_cache(maxsize=8)
def _cached(path: Path, _mtime_ns: int) -> Team:
    return load_team(path)


def cached_team(path: Path) -> Team:
    """The team file at `path`, parsed once per version of the file (cached by path and mtime, so an
    edit is picked up by the next ticket without a restart). Raises TeamError like `load_team`."""
    try:
        mtime = path.stat().st_mtime_ns
    except FileNotFoundError as exc:
        raise TeamError(f"team file {path} not found; set TRIAGE_TEAM_FILE") from exc
    return _cached(path.resolve(), mtime)
