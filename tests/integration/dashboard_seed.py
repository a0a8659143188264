"""Seeded lifecycle data for the dashboard and the weekly report tests: eight ISO weeks of tickets
(2026-W41 .. 2026-W48, up to Monday 2026-11-30) through the real event store and ticket store, with
their texts (the recurring issues), three RCA documents (one fixed on 2026-11-02), auto-resolutions
(some reopened or taken over by a person), handoffs, SLA misses, CSAT and a spike of one issue in the
last week. Deterministic (a seeded random.Random)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from agent.domain import TicketEvent
from agent.storage import open_database
from agent.storage.events import EventStore

END = datetime(2026, 11, 30, tzinfo=UTC)  # Monday: 2026-W48 is the last full week
START = END - timedelta(weeks=8)
LAST_WEEK = "2026-W48"
FIX = datetime(2026, 11, 2, tzinfo=UTC)

RCA_DOCS = {
    "RCA-101-payslip-blank.md": """---
id: RCA-101
title: Payslip PDF opens blank for names with an apostrophe
type: rca
status: fixed
fixed_at: 2026-11-02
---
# Payslip PDF opens blank
Payslip PDF files open blank (an empty page) when the employee name holds an apostrophe. The PDF
renderer dropped the font. Fixed in release 4.18.
""",
    "RCA-102-sso-loop.md": """---
id: RCA-102
title: SSO login loop in Safari
type: rca
status: open
---
# SSO login loop in Safari
Single sign-on in Safari loops back to the login page with too many redirects; the SAML session cookie
is blocked by Safari tracking prevention.
""",
    "RCA-103-bank-file.md": """---
id: RCA-103
title: Bank rejects the salary payment file
type: rca
status: workaround
---
# Bank rejects the salary payment file
The bank rejects the salary payment file after the bank changed its file format; the upload fails
with a format error. Workaround: export in the legacy format.
""",
}

# theme: (subjects, bodies, category, queue, linked RCA, weekly volume per week index 0..7)
THEMES: dict[str, dict[str, Any]] = {
    "payslip": {
        "subjects": ["Payslip PDF is blank", "Blank payslip PDF", "Payslip opens as an empty page"],
        "body": "The payslip PDF opens blank, an empty page, for {name}. Please fix the payslip PDF.",
        "category": "payslips",
        "queue": "payroll",
        "rca": "RCA-101",
        "weekly": [7, 8, 7, 8, 1, 1, 0, 1],  # fixed on 2026-11-02 (week 4)
    },
    "sso": {
        "subjects": ["SSO login loop", "Cannot sign in with SSO in Safari", "Too many redirects on SSO login"],
        "body": "Single sign-on in Safari loops back to the login page with too many redirects for {name}.",
        "category": "account_access",
        "queue": "access",
        "rca": "RCA-102",
        "weekly": [3, 4, 3, 3, 4, 3, 4, 3],
    },
    "bank": {
        "subjects": ["Bank rejected the salary file", "Salary payment file rejected", "Bank upload format error"],
        "body": "The bank rejected our salary payment file with a format error when {name} uploaded it.",
        "category": "bank_payments",
        "queue": "banking",
        "rca": "RCA-103",
        "weekly": [1, 0, 1, 1, 0, 1, 1, 12],  # a spike in the last week
    },
    "leave": {
        "subjects": ["Leave balance wrong", "Holiday allowance not accruing", "Annual leave balance is off"],
        "body": "The annual leave balance of {name} is wrong: holiday allowance is not accruing this month.",
        "category": "leave",
        "queue": "hr",
        "rca": None,
        "weekly": [2, 3, 2, 3, 2, 3, 2, 3],
    },
}
NAMES = ["Mar'yana", "Dar'ya", "Olena", "Taras", "Iryna", "Bohdan", "Sofiia", "Andrii"]
TIERS = ["standard", "standard", "enterprise", "premium"]
PRIORITIES = ["low", "normal", "normal", "high", "urgent"]


def write_kb(root: Path) -> Path:
    """The three RCA documents under root/rca (the dashboard's and the report's knowledge base)."""
    (root / "rca").mkdir(parents=True, exist_ok=True)
    for name, text in RCA_DOCS.items():
        (root / "rca" / name).write_text(text, encoding="utf-8")
    return root


def seed(db_url: str) -> dict[str, int]:
    """Store the tickets and their events; {tickets, events}."""
    rng = random.Random(7)
    store = open_database(db_url)
    events_store = EventStore(store)
    events: list[TicketEvent] = []
    n = 0
    for theme, spec in THEMES.items():
        for week, count in enumerate(spec["weekly"]):
            for i in range(count):
                n += 1
                ext = f"Z-{n}"
                created = START + timedelta(weeks=week, hours=rng.uniform(1, 6 * 24 + 20))
                name = NAMES[(n + i) % len(NAMES)]
                fields = {
                    "external_id": ext,
                    "subject": rng.choice(spec["subjects"]),
                    "body": spec["body"].format(name=name),
                    "created_at": created.isoformat(),
                }
                ticket_id, _ = store.create_or_get("zendesk", f"seed-{ext}", fields)
                events.extend(_lifecycle(rng, ext, ticket_id, created, theme, spec))
    for start in range(0, len(events), 500):
        events_store.record(events[start : start + 500])
    store.engine.dispose()
    return {"tickets": n, "events": len(events)}


def _lifecycle(
    rng: random.Random, ext: str, ticket_id: str, created: datetime, theme: str, spec: dict[str, Any]
) -> list[TicketEvent]:
    def ev(kind: str, at: datetime, name: str, **fields: Any) -> TicketEvent:
        return TicketEvent(source="zendesk", external_id=ext, kind=kind, at=at, event_id=f"seed:{name}:{ext}", **fields)  # type: ignore[arg-type]

    attributes = {
        "ticket_id": ticket_id,
        "tier": rng.choice(TIERS),
        "category": spec["category"],
        "queue": spec["queue"],
        "support_tier": "L2" if theme == "bank" else "L1",
    }
    if spec["rca"]:
        attributes["linked_issue"] = spec["rca"]
    out = [ev("created", created, "created", actor="system", priority=rng.choice(PRIORITIES), attributes=attributes)]
    open_until = END - timedelta(days=rng.uniform(0, 4))  # the youngest tickets may still be open
    triaged = rng.random() < 0.85
    action = "auto_resolve" if triaged and theme in ("payslip", "leave") and rng.random() < 0.6 else "handoff"
    if triaged:
        out.append(
            ev("triaged", created + timedelta(seconds=30), "triaged", actor="service", attributes={"action": action})
        )
    if action == "auto_resolve":
        reply = created + timedelta(minutes=2)
        out.append(ev("comment", reply, "reply", actor="service", public=True))
        out.append(
            ev(
                "status",
                reply + timedelta(seconds=5),
                "auto-solved",
                status="solved",
                actor="service",
                attributes={"resolution": "auto"},
            )
        )
        undo = rng.random()
        if undo < 0.15:  # the customer says it did not help
            back = reply + timedelta(days=rng.uniform(0.5, 3))
            out.append(ev("status", back, "reopened", status="open", actor="customer"))
            out.append(
                ev("status", back + timedelta(hours=rng.uniform(1, 30)), "solved", status="solved", actor="agent")
            )
        elif undo < 0.25:  # a person took it over
            out.append(ev("assigned", reply + timedelta(hours=rng.uniform(2, 40)), "assigned", to_human=True))
        if rng.random() < 0.5:
            out.append(
                ev("satisfaction", reply + timedelta(hours=6), "csat", rating="good" if rng.random() < 0.8 else "bad")
            )
        return out
    if triaged:
        out.append(ev("assigned", created + timedelta(minutes=3), "handoff", actor="service", to_human=True))
    first = created + timedelta(hours=rng.lognormvariate(1.0, 1.0))
    if first < open_until:
        out.append(ev("comment", first, "first-response", actor="agent", public=True))
    solved = first + timedelta(hours=rng.lognormvariate(2.5, 1.0))
    if solved < open_until:
        out.append(ev("status", solved, "solved", status="solved", actor="agent"))
        if rng.random() < 0.1:
            out.append(ev("status", solved + timedelta(days=1), "reopened", status="open", actor="customer"))
            again = solved + timedelta(days=1, hours=4)
            if again < open_until:
                out.append(ev("status", again, "solved-again", status="solved", actor="agent"))
        if rng.random() < 0.5:
            out.append(
                ev("satisfaction", solved + timedelta(hours=2), "csat", rating="good" if rng.random() < 0.7 else "bad")
            )
    return out
