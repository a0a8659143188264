"""Handoff routing: which queue and tier a handed-off ticket goes to, and which engineer gets it.

One team file (agent/graph/routing.yaml, `TRIAGE_TEAM_FILE`) holds:
- `rules`: category / priority / risk flags -> queue and tier (L1, L2, L3); the first rule that
  matches wins; `default` catches the rest (its queue, when left out, is the policy's queue for the
  ticket: agent/graph/policy.yaml `categories.<name>.queue`, as the decision carries it);
- `clients`: the client allocation matrix, client name -> client tier and dedicated engineer(s);
- `engineers`: who works which queues and tiers, speaks which languages, and their weekly shifts
  (agent/graph/shifts.py: shifts in time zones, who is on duty when, the 24/7 coverage check);
- `fallback_on_call`: who gets a ticket when nobody of the queue is on duty at its tier or above;
- `sla`: deadlines per client tier x priority (agent/graph/sla.py).

`routable_targets` lists every queue x tier the rules can send a ticket to: what
`shifts.coverage_gaps` checks is staffed around the clock.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from agent.domain import Customer, Decision, Priority, RiskFlag, Triage
from agent.errors import ConfigError
from agent.graph.shifts import TIERS, Engineer, Tier
from agent.graph.sla import Deadlines, SlaConfig

log = logging.getLogger(__name__)

UNROUTED_QUEUE = "triage"  # the queue when neither the rule nor the decision names one (policy: 'other')


class TeamError(ConfigError):
    """The team file is missing or invalid; the message names the file and the field."""


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


# ---- coverage targets ----------------------------------------------------------------------------
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
