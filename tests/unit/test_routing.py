"""Handoff routing: rules, client matrix, shifts (midnight, DST), language, escalation, coverage
gaps, config errors, and the handoff node's note and `routing` result."""

from __future__ import annotations

import copy
import logging
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
import yaml
from langgraph.runtime import Runtime
from typer.testing import CliRunner

from agent.domain import Customer, Decision, Scored, Ticket, Triage
from agent.graph.context import AgentContext
from agent.graph.nodes.handoff import handoff, handoff_at
from agent.graph.policy import load_policy
from agent.graph.routing import Team, TeamError, cached_team, load_team, parse_team, routable_targets
from agent.graph.shifts import coverage_gaps
from agent.graph.state import TriageState
from agent.settings import REPO_ROOT
from api.cli import app
from knowledge.types import Hit
from tests.conftest import make_settings
from tests.unit.minilm_policy import minilm_policy_file

SHIPPED = REPO_ROOT / "agent" / "graph" / "routing.yaml"
POLICY = load_policy(minilm_policy_file())
CATEGORY_QUEUES = {c: r.queue for c, r in POLICY.categories.items()}

SLA: dict[str, Any] = {
    "targets": {
        tier: {p: {"first_response": "1h", "resolution": "1d"} for p in ("low", "normal", "high", "urgent")}
        for tier in ("enterprise", "standard")
    }
}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def eng(name: str, queues: list[str], tiers: list[str], shifts: list[dict[str, Any]], **kw: Any) -> dict[str, Any]:
    return {
        "name": name,
        "queues": queues,
        "tiers": tiers,
        "timezone": kw.pop("timezone", "UTC"),
        "shifts": shifts,
        **kw,
    }


ALL_WEEK = [{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "00:00", "end": "24:00"}]


def team(**over: Any) -> Team:
    raw: dict[str, Any] = {
        "version": "t",
        "rules": [
            {"name": "security", "risk": ["security"], "queue": "security", "tier": "L3"},
            {"name": "tax", "category": ["tax_and_compliance"], "queue": "compliance", "tier": "L2"},
            {
                "name": "urgent-payroll",
                "category": ["payroll_run"],
                "priority": ["urgent"],
                "queue": "payroll-support",
                "tier": "L2",
            },
        ],
        "default": {"tier": "L1"},
        "engineers": [eng("anyone", ["payroll-support"], ["L1"], ALL_WEEK)],
        "fallback_on_call": "duty-manager",
        "sla": SLA,
    }
    raw.update(over)
    return parse_team(raw, "test.yaml")


def triage(
    category: str = "payslips", priority: str = "normal", risk: list[str] | None = None, language: str = "en"
) -> Triage:
    return Triage(
        category=Scored[str](value=category, confidence=0.9),
        priority=Scored[str](value=priority, confidence=0.8),
        language=Scored[str](value=language, confidence=0.99),
        sentiment=Scored[str](value="negative", confidence=0.7),
        risk=Scored[list[str]](value=risk or [], confidence=0.9),
        decided_by="llm",
    )


def decision(queue: str = "payroll-support", reason: str = "best knowledge match 0.31 is too weak") -> Decision:
    return Decision(action="handoff", reason=reason, rules=["weak_retrieval"], queue=queue)


# ---- rules ---------------------------------------------------------------------------------------
def test_first_matching_rule_wins_and_default_takes_the_policy_queue() -> None:
    t = team()
    at = utc(2026, 6, 1, 12)
    # a tax ticket with a security flag: the security rule comes first
    r = t.route(triage("tax_and_compliance", risk=["security"]), decision("compliance"), None, at)
    assert (r.queue, r.tier, r.rule) == ("security", "L3", "security")
    r = t.route(triage("tax_and_compliance"), decision("compliance"), None, at)
    assert (r.queue, r.tier, r.rule) == ("compliance", "L2", "tax")
    assert (t.route(triage("payroll_run", "urgent"), decision(), None, at).tier) == "L2"
    r = t.route(triage("payroll_run", "high"), decision(), None, at)
    assert (r.queue, r.tier, r.rule) == ("payroll-support", "L1", "default")
    assert "(the policy's queue)" in r.why
    # out of scope: the decision carries the policy's 'other' queue
    assert t.route(triage("other"), decision("triage"), None, at).queue == "triage"
    # reordering the rules changes the outcome: order is what decides
    swapped = team(rules=list(reversed(team().model_dump(mode="json")["rules"])))
    r = swapped.route(triage("tax_and_compliance", risk=["security"]), decision("compliance"), None, at)
    assert (r.queue, r.rule) == ("compliance", "tax")


def test_routable_targets_follow_the_rules_and_the_policy_queues() -> None:
    targets = routable_targets(team(), CATEGORY_QUEUES, "triage")
    assert ("compliance", "L2") in targets and ("security", "L3") in targets
    assert ("compliance", "L1") not in targets  # every tax ticket is taken by the 'tax' rule
    assert ("payroll-support", "L1") in targets and ("payroll-support", "L2") in targets  # urgent only
    assert ("hcm-support", "L1") in targets and ("triage", "L1") in targets


# ---- client matrix and dedicated engineers -------------------------------------------------------
def matrix_team() -> Team:
    weekday = [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "17:00"}]
    return team(
        engineers=[
            eng("first", ["payroll-support", "billing"], ["L1"], ALL_WEEK),
            eng("olena", ["payroll-support"], ["L1", "L2"], weekday),
            eng("joao", ["billing", "payroll-support"], ["L1"], weekday),
        ],
        clients={
            "Acme": {"tier": "enterprise", "dedicated": {"payroll-support": "olena"}, "dedicated_engineer": "joao"},
            "Globex": {"tier": "enterprise", "dedicated_engineer": "joao"},
        },
    )


def test_client_matrix_then_ticket_tier_then_default() -> None:
    t = matrix_team()
    assert t.client_of(Customer(name=" acme ", tier="standard"))[:2] == ("Acme", "enterprise")
    assert t.client_of(Customer(name="Unknown Ltd", tier="enterprise"))[:2] == ("Unknown Ltd", "enterprise")
    _name, tier, _row, how = t.client_of(Customer(name="Unknown Ltd", tier="gold"))
    assert tier == "standard" and "'gold' is not an SLA tier" in how
    assert t.client_of(None)[:2] == (None, "standard")


def test_dedicated_engineer_when_on_shift_else_whoever_is_on_duty() -> None:
    t = matrix_team()
    monday_noon, sunday_noon = utc(2026, 6, 1, 12), utc(2026, 6, 7, 12)
    acme = Customer(name="Acme")
    r = t.route(triage(), decision("payroll-support"), acme, monday_noon)
    assert r.engineer == "olena" and r.client_tier == "enterprise"  # per-queue wins over overall
    assert "dedicated engineer olena is on shift" in r.why
    r = t.route(triage(), decision("billing"), acme, monday_noon)
    assert r.engineer == "joao"  # no per-queue entry for billing: the overall one
    r = t.route(triage(), decision("payroll-support"), acme, sunday_noon)
    assert r.engineer == "first" and "dedicated engineer olena is off shift" in r.why
    # a dedicated engineer who does not take the tier is passed over
    r = t.route(triage("payroll_run", "urgent"), decision(), Customer(name="Globex"), monday_noon)
    assert r.tier == "L2" and r.engineer == "olena" and "joao" in r.why and "does not take L2" in r.why


# ---- shifts: midnight, DST, language, escalation -------------------------------------------------
def toronto_team() -> Team:
    evening = [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "15:00", "end": "01:00"}]
    return team(engineers=[eng("emily", ["payroll-support"], ["L1"], evening, timezone="America/Toronto")])


def test_a_shift_crossing_midnight_belongs_to_the_day_it_starts() -> None:
    t = toronto_team()
    # Friday 15:00 -> Saturday 01:00 Toronto (EDT, UTC-4 in June): Sat 00:30 local = Sat 04:30 UTC
    assert [e.name for e in t.who_is_on_duty("payroll-support", "L1", utc(2026, 6, 6, 4, 30))] == ["emily"]
    assert t.who_is_on_duty("payroll-support", "L1", utc(2026, 6, 6, 5, 0)) == []  # 01:00 local: ended
    # Sunday has no shift, so Monday 00:30 local is off duty; Monday 15:00 local on again
    assert t.who_is_on_duty("payroll-support", "L1", utc(2026, 6, 8, 4, 30)) == []
    assert t.who_is_on_duty("payroll-support", "L1", utc(2026, 6, 8, 19, 0)) != []
    assert t.engineers[0].shift_end(utc(2026, 6, 6, 4, 30)) == utc(2026, 6, 6, 5, 0)


def test_kyiv_shifts_follow_the_march_dst_change() -> None:
    """Europe/Kyiv moves from UTC+2 to UTC+3 at 01:00 UTC on Sunday 29 March 2026."""
    day = [{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "07:00", "end": "16:00"}]
    night = [{"days": ["sat"], "start": "22:00", "end": "06:00"}]
    t = team(
        engineers=[
            eng("olena", ["payroll-support"], ["L1"], day, timezone="Europe/Kyiv"),
            eng("nightowl", ["billing"], ["L1"], night, timezone="Europe/Kyiv"),
        ]
    )
    on = lambda at: [e.name for e in t.who_is_on_duty("payroll-support", "L1", at)]  # noqa: E731
    assert on(utc(2026, 3, 28, 4, 30)) == []  # Saturday 06:30 EET: not yet
    assert on(utc(2026, 3, 28, 13, 30)) == ["olena"]  # 15:30 EET
    assert on(utc(2026, 3, 30, 4, 30)) == ["olena"]  # Monday 07:30 EEST: the same wall time, an hour earlier in UTC
    assert on(utc(2026, 3, 30, 13, 30)) == []  # 16:30 EEST: over
    # the night shift over the change: 22:00 EET Sat (20:00 UTC) to 06:00 EEST Sun (03:00 UTC), 7 real hours
    (start, end), *_ = t.engineers[1].intervals(utc(2026, 3, 28), utc(2026, 3, 30))
    assert (start, end) == (utc(2026, 3, 28, 20), utc(2026, 3, 29, 3)) and end - start == timedelta(hours=7)


def test_ticket_language_is_preferred_among_those_on_duty() -> None:
    t = team(
        engineers=[
            eng("emily", ["payroll-support"], ["L1"], ALL_WEEK, languages=["en", "fr"]),
            eng("olena", ["payroll-support"], ["L1"], ALL_WEEK, languages=["uk", "en"]),
        ]
    )
    at = utc(2026, 6, 1, 12)
    assert [e.name for e in t.who_is_on_duty("payroll-support", "L1", at, "uk")] == ["olena", "emily"]
    assert [e.name for e in t.who_is_on_duty("payroll-support", "L1", at, "en")] == ["emily", "olena"]
    r = t.route(triage(language="uk"), decision(), None, at)
    assert r.engineer == "olena" and "speaks uk" in r.why
    assert t.route(triage(language="en"), decision(), None, at).engineer == "emily"


def test_nobody_on_duty_escalates_up_then_to_the_fallback() -> None:
    weekday = [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "00:00", "end": "24:00"}]
    t = team(
        engineers=[
            eng("l1", ["payroll-support"], ["L1"], weekday),
            eng("l2", ["payroll-support"], ["L2"], ALL_WEEK),
        ]
    )
    monday, saturday = utc(2026, 6, 1, 12), utc(2026, 6, 6, 12)
    r = t.route(triage(), decision(), None, monday)
    assert (r.engineer, r.tier, r.escalated) == ("l1", "L1", False)
    r = t.route(triage(), decision(), None, saturday)
    assert (r.engineer, r.tier, r.escalated, r.fallback) == ("l2", "L2", True, False)
    assert "nobody on duty for payroll-support L1: escalated to L2" in r.why
    r = t.route(triage(), decision("billing"), None, saturday)  # nobody takes billing at any tier
    assert (r.engineer, r.tier, r.fallback) == ("duty-manager", "L1", True)
    r = team(fallback_on_call=None, engineers=t.model_dump(mode="json")["engineers"]).route(
        triage(), decision("billing"), None, saturday
    )
    assert r.engineer is None and r.fallback and "no fallback_on_call is configured" in r.why


# ---- coverage ------------------------------------------------------------------------------------
def test_shipped_team_covers_every_routed_queue_and_tier_all_year() -> None:
    t = load_team(SHIPPED)
    targets = routable_targets(t, CATEGORY_QUEUES, POLICY.categories["other"].queue)
    assert {("security", "L3"), ("payroll-escalations", "L3"), ("compliance", "L2"), ("triage", "L1")} <= targets
    for year in (2026, 2027):
        assert [str(g) for g in coverage_gaps(t.engineers, targets, year)] == []


GAP_SHIFTS = [
    {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "00:00", "end": "24:00"},
    {"days": ["sat"], "start": "00:00", "end": "22:00"},
    {"days": ["sun"], "start": "06:00", "end": "24:00"},
]


def test_a_weekly_gap_is_named_exactly() -> None:
    t = team(engineers=[eng("a", ["payroll-support"], ["L2"], GAP_SHIFTS)])
    gaps = coverage_gaps(t.engineers, [("payroll-support", "L2"), ("security", "L3")], 2026)
    assert [str(g) for g in gaps] == [
        "payroll-support L2: Sat 22:00-Sun 06:00 UTC (no one on duty)",
        "security L3: all week (no one on duty)",
    ]


def test_a_gap_across_the_week_boundary_and_one_only_in_summer() -> None:
    shifts = [{"days": ["mon", "tue", "wed", "thu", "fri", "sat"], "start": "06:00", "end": "24:00"}]
    night = [{"days": ["mon", "tue", "wed", "thu", "fri", "sat"], "start": "00:00", "end": "06:00"}]
    t = team(engineers=[eng("a", ["q"], ["L1"], shifts), eng("b", ["q"], ["L1"], night)])
    assert [str(g) for g in coverage_gaps(t.engineers, [("q", "L1")], 2026)] == [
        "q L1: Sun 00:00-Mon 00:00 UTC (no one on duty)"
    ]
    # Kyiv 08:00-20:00 is 06:00-18:00 UTC in winter, 05:00-17:00 UTC in summer; the UTC shift starts 18:00
    kyiv = [{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "08:00", "end": "20:00"}]
    utc_night = [{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "18:00", "end": "06:00"}]
    t = team(engineers=[eng("k", ["q"], ["L1"], kyiv, timezone="Europe/Kyiv"), eng("u", ["q"], ["L1"], utc_night)])
    gaps = {g.label: g for g in coverage_gaps(t.engineers, [("q", "L1")], 2026)}
    assert sorted(gaps) == sorted(f"{d} 17:00-18:00 UTC" for d in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"))
    sunday = gaps["Sun 17:00-18:00 UTC"]
    assert sunday.dates[0].isoformat() == "2026-03-29" and sunday.dates[-1].isoformat() == "2026-10-18"
    assert str(sunday).startswith("q L1: Sun 17:00-18:00 UTC (no one on duty; 30 of 53 weeks: 2026-03-29, 2026-04-05")


def write_team(path: Path, **over: Any) -> Path:
    raw = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    raw.update(over)
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


def test_coverage_cli_ok_for_the_shipped_team_and_names_gaps_with_exit_1(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(app, ["coverage", "check", "--file", str(SHIPPED), "--year", "2026"])
    assert ok.exit_code == 0, ok.output
    assert ok.output.startswith("OK: 10 queue/tier pairs covered 24/7 in every week of 2026")
    raw = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    engineers = [e for e in raw["engineers"] if e["name"] != "sofia.hnatiuk"]  # Toronto's weekend crew
    bad = write_team(tmp_path / "gappy.yaml", engineers=engineers)
    res = runner.invoke(app, ["coverage", "check", "--file", str(bad), "--year", "2026"])
    assert res.exit_code == 1
    lines = res.stdout.splitlines()
    # Lisbon's weekend ends 21:00 local, Kyiv's starts 07:00 local: in UTC the hole moves with DST, and
    # on the Saturdays before Europe changes its clocks it is an hour shorter
    for pair in ("payroll-support L2", "security L3", "triage L1"):
        assert (
            f"{pair}: Sat 21:00-Sun 05:00 UTC (no one on duty; 22 of 53 weeks: 2026-01-03, 2026-01-10, "
            "2026-01-17, 2026-01-24, ...)" in lines
        )
        assert (
            f"{pair}: Sat 20:00-Sun 04:00 UTC (no one on duty; 29 of 53 weeks: 2026-04-04, 2026-04-11, "
            "2026-04-18, 2026-04-25, ...)" in lines
        )
        assert f"{pair}: Sat 21:00-Sun 04:00 UTC (no one on duty; 1 of 53 weeks: 2026-03-28)" in lines
        assert f"{pair}: Sat 20:00-Sun 05:00 UTC (no one on duty; 1 of 53 weeks: 2026-10-24)" in lines
    assert len(lines) == 10 * 6  # six gaps for each of the ten routed pairs
    bad_rule = write_team(tmp_path / "r.yaml", rules=[{"name": "x", "category": ["payrol"], "tier": "L2"}])
    res = runner.invoke(app, ["coverage", "check", "--file", str(bad_rule)])
    assert res.exit_code == 2 and "categories the policy does not define: payrol" in res.output


# ---- config errors -------------------------------------------------------------------------------
def raw_team() -> dict[str, Any]:
    return yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))


def broken(mutate: Any) -> dict[str, Any]:
    raw = copy.deepcopy(raw_team())
    mutate(raw)
    return raw


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda r: r["engineers"][0].update(timezone="Mars/Olympus"),
            "engineers.0.timezone: unknown time zone 'Mars/Olympus'",
        ),
        (
            lambda r: r["engineers"][1]["shifts"][0].update(start=420),
            "engineers.1.shifts.0.start: 420 is not a time: write it in quotes as 'HH:MM'",
        ),
        (
            lambda r: r["engineers"][1]["shifts"][0].update(end="25:00"),
            "engineers.1.shifts.0.end: '25:00' is out of range",
        ),
        (
            lambda r: r["engineers"][1]["shifts"][0].update(days=["monday"]),
            "engineers.1.shifts.0.days.0: Input should be",
        ),
        (lambda r: r["engineers"][2].update(tiers=["L4"]), "engineers.2.tiers.0: Input should be 'L1', 'L2' or 'L3'"),
        (lambda r: r["rules"][0].update(tier="L9"), "rules.0.tier: Input should be 'L1', 'L2' or 'L3'"),
        (lambda r: r["rules"].append({"name": "all", "tier": "L1"}), "rule 'all' has no condition"),
        (lambda r: r["rules"][0].update(risk=["hacked"]), "rules.0.risk.0: Input should be 'security'"),
        (
            lambda r: r["clients"]["Acme"].update(dedicated={"payroll-support": "nobody"}),
            "clients.Acme.dedicated.payroll-support: unknown engineer 'nobody'",
        ),
        (
            lambda r: r["clients"]["Acme"].update(dedicated={"billing": "andrii.bondar"}),
            "clients.Acme.dedicated.billing: andrii.bondar does not work queue 'billing'",
        ),
        (lambda r: r["clients"]["Acme"].update(tier="platinum"), "clients.Acme.tier: 'platinum' has no sla.targets"),
        (lambda r: r["sla"]["targets"]["free"].pop("low"), "targets.free: missing priorities low"),
        (
            lambda r: r["sla"]["targets"]["free"]["low"].update(first_response="soon"),
            "sla.targets.free.low.first_response: 'soon' is not a duration",
        ),
        (lambda r: r["engineers"].append(dict(r["engineers"][0])), "duplicate name(s) olena.kovalenko"),
        (lambda r: r.pop("sla"), "sla: Field required"),
    ],
)
def test_bad_team_files_name_the_file_and_the_field(tmp_path: Path, mutate: Any, message: str) -> None:
    path = tmp_path / "team.yaml"
    path.write_text(yaml.safe_dump(broken(mutate)), encoding="utf-8")
    with pytest.raises(TeamError) as err:
        load_team(path)
    assert str(err.value).startswith(f"team file {path}: ")
    assert message in str(err.value)


def test_missing_or_unparsable_team_file(tmp_path: Path) -> None:
    with pytest.raises(TeamError, match="not found; set TRIAGE_TEAM_FILE"):
        load_team(tmp_path / "nope.yaml")
    (tmp_path / "bad.yaml").write_text("rules: [unclosed", encoding="utf-8")
    with pytest.raises(TeamError, match="is not valid YAML"):
        load_team(tmp_path / "bad.yaml")
    # unquoted 12:00 is a YAML 1.1 base-60 number: the error says to quote it
    text = SHIPPED.read_text(encoding="utf-8").replace('start: "12:00"', "start: 12:00", 1)
    (tmp_path / "unquoted.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(TeamError, match=r"engineers\.4\.shifts\.0\.start: 720 is not a time: write it in quotes"):
        load_team(tmp_path / "unquoted.yaml")


def test_cached_team_is_read_once_per_version_of_the_file(tmp_path: Path) -> None:
    path = write_team(tmp_path / "team.yaml", version="v1")
    first = cached_team(path)
    assert cached_team(path) is first
    write_team(path, version="v2")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert cached_team(path).version == "v2"


# ---- the handoff node ----------------------------------------------------------------------------
TICKET = Ticket(
    id="t-h1",
    external_id="Z-77",
    subject="Payroll run stuck",
    body="Our payroll run for June is stuck in 'processing' and pay day is today. Call me on [PHONE].",
    customer=Customer(name="Acme", tier="standard"),
)


def handoff_state(ticket: Ticket = TICKET, **triage_kw: Any) -> TriageState:
    hit = Hit(
        doc_id="KB-014",
        chunk_id="KB-014#0",
        title="Payroll run stuck in processing",
        doc_type="kb",
        score=0.41,
        text="...",
    )
    return {
        "ticket": ticket,
        "text": f"{ticket.subject}\n\n{ticket.body}",
        "triage": triage(**{"category": "payroll_run", "priority": "urgent", **triage_kw}),
        "decision": decision("payroll-support", "best knowledge match 0.41 is too weak to draft from"),
        "hits": [hit],
    }


def test_handoff_names_engineer_tier_and_deadlines() -> None:
    # Monday 1 June 2026, 08:00 UTC = 11:00 in Kyiv: Kyiv's L2 is on shift
    out = handoff_at(handoff_state(), SHIPPED, clock=lambda: utc(2026, 6, 1, 8))
    routing = out["routing"]
    assert routing.model_dump(include={"queue", "tier", "engineer", "client", "client_tier", "rule"}) == {
        "queue": "payroll-support",
        "tier": "L2",
        "engineer": "andrii.bondar",
        "client": "Acme",
        "client_tier": "enterprise",
        "rule": "urgent-payroll",
    }
    # enterprise urgent: first response 30 min, resolution 4 h, from now (the ticket has no creation time)
    assert routing.first_response_due == utc(2026, 6, 1, 8, 30)
    assert routing.resolution_due == utc(2026, 6, 1, 12)
    assert "olena.kovalenko" in routing.why and "does not take L2" in routing.why
    note = out["handoff_note"]
    assert note.splitlines()[0] == (
        "AI triage handed this ticket to queue 'payroll-support' (L2), assigned to andrii.bondar "
        "<andrii.bondar@payflow.example>."
    )
    for part in (
        "Ticket: Payroll run stuck — Our payroll run for June is stuck in 'processing' and pay day is today. "
        "Call me on [PHONE].",  # the redacted text, on one line
        "Customer: Acme (enterprise)",
        "Why the AI did not resolve it: best knowledge match 0.41 is too weak to draft from",
        "Triage: category payroll_run (0.90), priority urgent",
        "- KB-014 Payroll run stuck in processing (match 0.41)",
        "Routing: rule 'urgent-payroll' (category payroll_run and priority urgent) -> payroll-support L2",
        "SLA (enterprise, urgent): first response by 2026-06-01 08:30 UTC, resolution by 2026-06-01 12:00 UTC "
        "(first response Mon 11:30 Europe/Kyiv for andrii.bondar)",
    ):
        assert part in note, part
    audit = out["audit"][0]
    assert audit.event == "routed" and audit.detail["engineer"] == "andrii.bondar" and audit.detail["tier"] == "L2"


def test_the_handoff_note_is_in_the_team_language() -> None:
    en = handoff_at(handoff_state(), SHIPPED, clock=lambda: utc(2026, 6, 1, 8))
    uk = handoff_at(handoff_state(), SHIPPED, clock=lambda: utc(2026, 6, 1, 8), lang="uk")
    assert uk["routing"] == en["routing"]  # where it goes does not depend on the note's language
    note = uk["handoff_note"]
    assert note.splitlines()[0] == (
        "AI-тріаж передав це звернення в чергу 'payroll-support' (L2), відповідальний: andrii.bondar "
        "<andrii.bondar@payflow.example>."
    )
    for part in (
        "Звернення: Payroll run stuck — Our payroll run",  # the customer's words stay as written
        "Клієнт: Acme (enterprise)",
        "Чому AI не вирішив його: best knowledge match 0.41",
        "Тріаж: категорія payroll_run (0.90), пріоритет urgent",
        "Найближчі знання:",
        "- KB-014 Payroll run stuck in processing (збіг 0.41)",
        "SLA (enterprise, urgent): перша відповідь до 2026-06-01 08:30 UTC, вирішення до 2026-06-01 12:00 UTC "
        "(перша відповідь Mon 11:30 Europe/Kyiv для andrii.bondar)",
    ):
        assert part in note, part
    for english in ("AI triage", "Customer:", "Why the AI", "Closest knowledge", "first response by"):
        assert english not in note, english


def test_handoff_clock_starts_at_ticket_creation_and_routes_by_now() -> None:
    # created in its own system at 02:00, received by us an hour later: the clock starts at creation
    stamped = TICKET.model_copy(update={"created_at": utc(2026, 6, 6, 2, 0), "received_at": utc(2026, 6, 6, 3, 0)})
    # handed off at Saturday 6 June 14:00 UTC: Lisbon's weekend crew (everything) is on shift
    out = handoff_at(
        handoff_state(stamped, category="billing", priority="low"), SHIPPED, clock=lambda: utc(2026, 6, 6, 14)
    )
    r = out["routing"]
    assert (r.queue, r.tier, r.engineer) == ("payroll-support", "L1", "rita.ferreira")  # the decision's queue
    assert r.sla_started_at == utc(2026, 6, 6, 2)
    assert r.first_response_due == utc(2026, 6, 6, 10)  # enterprise low: 8h from creation
    assert r.resolution_due == utc(2026, 6, 9, 2)  # 3 calendar days


def test_handoff_clock_starts_at_receipt_when_the_system_gave_no_creation_time() -> None:
    received = TICKET.model_copy(update={"received_at": utc(2026, 6, 6, 3, 0)})
    out = handoff_at(
        handoff_state(received, category="billing", priority="low"), SHIPPED, clock=lambda: utc(2026, 6, 6, 14)
    )
    assert out["routing"].sla_started_at == utc(2026, 6, 6, 3)  # not the handoff's 14:00


def test_security_ticket_goes_to_l3_security() -> None:
    long = TICKET.model_copy(update={"body": "Someone logged in from abroad. " * 40})
    out = handoff_at(handoff_state(long, risk=["security"], language="uk"), SHIPPED, clock=lambda: utc(2026, 6, 2, 22))
    r = out["routing"]  # Tuesday 22:00 UTC = 18:00 Toronto (EDT)
    assert (r.queue, r.tier, r.engineer, r.rule) == ("security", "L3", "daniel.roy", "security")
    summary = next(line for line in out["handoff_note"].splitlines() if line.startswith("Ticket: "))
    assert len(summary) == len("Ticket: ") + 300 and summary.endswith("abroad...")


def test_without_a_team_file_the_handoff_is_as_before(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    missing = tmp_path / "no-team.yaml"
    with caplog.at_level(logging.WARNING, logger="agent.graph.nodes.handoff"):
        out = handoff_at(handoff_state(), missing, clock=lambda: utc(2026, 6, 1, 8))
    assert "routing" not in out
    assert out["handoff_note"].splitlines()[:2] == [
        "AI triage handed this ticket to queue 'payroll-support'.",
        "Why: best knowledge match 0.41 is too weak to draft from",
    ]
    assert "SLA" not in out["handoff_note"]
    assert any("not found" in r.message and "policy's queue" in r.message for r in caplog.records)
    assert "not found" in out["audit"][0].detail["routing"]


def test_the_node_reads_the_team_file_from_settings(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        team_file=write_team(
            tmp_path / "t.yaml", fallback_on_call="pager-42", engineers=[raw_team()["engineers"][0]], clients={}
        ),
    )
    runtime = Runtime(context=cast(AgentContext, SimpleNamespace(settings=settings)))
    out = handoff(handoff_state(), runtime)  # whenever it runs, only an L1 exists: L2 falls back
    assert out["routing"].engineer == "pager-42" and out["routing"].fallback is True
