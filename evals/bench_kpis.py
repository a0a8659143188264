"""The /kpis query over many stored tickets: generated lifecycles (and ~4 events each) in a fresh
database, then `compute_kpis` timed (best and median of several runs), printed, never asserted.

    .venv/bin/python -m evals.bench_kpis --tickets 100000        # or: triage bench --kpis 100000
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

from agent.graph.routing import cached_team
from agent.insights.kpis import Filters, compute_kpis, load_root_causes
from agent.settings import REPO_ROOT
from agent.storage.db import make_engine, migrate
from agent.storage.events import EventRow, LifecycleRow

START = datetime(2025, 1, 1, tzinfo=UTC)
TIERS = ("standard", "business", "enterprise")
PRIORITIES = ("low", "normal", "normal", "high", "urgent")
CATEGORIES = ("payslips", "integrations", "leave_and_absence", "access", "tax", "timesheets")
RCAS = tuple(f"RCA-{i:03d}" for i in range(1, 11))


def _ticket(i: int, rng: random.Random) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    created = START + timedelta(seconds=rng.randrange(0, 365 * 86400))
    fr = rng.randrange(60, 2 * 86400)
    res = fr + rng.randrange(60, 5 * 86400) if rng.random() < 0.85 else None
    auto = res is not None and rng.random() < 0.25
    reopened = res is not None and rng.random() < 0.08
    ext = str(100000 + i)
    solved_at = created + timedelta(seconds=res) if res is not None and not reopened else None
    life = {
        "source": "zendesk", "external_id": ext, "ticket_id": None, "created_at": created, "created_known": True,
        "status": "solved" if solved_at else "open", "first_response_at": created + timedelta(seconds=fr),
        "first_response_by": "service" if auto else "agent", "first_response_s": fr,
        "replies": rng.choice((1, 1, 2, 3)), "solved_at": solved_at,
        "first_solved_at": created + timedelta(seconds=res) if res is not None else None,
        "resolution_s": res if solved_at else None, "reopens": 1 if reopened else 0,
        "last_reopened_at": created + timedelta(seconds=res + 3600) if reopened and res is not None else None,
        "human_assigned_at": None if auto else created + timedelta(seconds=30), "ai_triaged": rng.random() < 0.9,
        "action": "auto_resolve" if auto else rng.choice(("suggest", "handoff")),
        "auto_resolved_at": created + timedelta(seconds=res) if auto and res is not None else None,
        "auto_undone_s": 3600 if auto and reopened else None, "priority": rng.choice(PRIORITIES),
        "tier": rng.choice(TIERS), "support_tier": rng.choice(("L1", "L2", "L3")), "category": rng.choice(CATEGORIES),
        "queue": rng.choice(("payroll", "hcm", "platform")),
        "linked_issue": rng.choice(RCAS) if rng.random() < 0.2 else None,
        "csat": rng.choice(("good", "good", "bad", None)), "events": 5 if reopened else 4, "updated_at": created,
    }  # fmt: skip
    steps: list[tuple[str, int, dict[str, Any]]] = [
        ("created", 0, {"actor": "system"}),
        ("triaged", 5, {"actor": "service"}),
        ("comment", fr, {"public": True, "actor": "agent"}),
    ]
    if res is not None:
        steps.append(("status", res, {"status": "solved"}))
    if reopened and res is not None:
        steps.append(("status", res + 3600, {"status": "open"}))
    events = []
    for n, (kind, offset, extra) in enumerate(steps):
        at = created + timedelta(seconds=offset)
        data = {"source": "zendesk", "external_id": ext, "kind": kind, "at": at.isoformat(), **extra}
        events.append({"source": "zendesk", "external_id": ext, "event_key": f"{kind}:{ext}:{n}", "kind": kind,
                       "at": at, "data": data, "received_at": created})  # fmt: skip
    return life, events


def populate(url: str, n: int, seed: int = 7) -> None:
    engine = make_engine(url)
    migrate(engine)
    rng = random.Random(seed)
    with engine.begin() as conn:
        for lo in range(0, n, 5000):
            lives, events = [], []
            for i in range(lo, min(n, lo + 5000)):
                life, evs = _ticket(i, rng)
                lives.append(life)
                events.extend(evs)
            conn.execute(insert(LifecycleRow), lives)
            conn.execute(insert(EventRow), events)
    engine.dispose()


def bench_kpis(n: int = 100_000, repeats: int = 5, url: str | None = None) -> dict[str, Any]:
    """Seconds for one /kpis computation (a year, then one month with filters) over `n` tickets."""
    with tempfile.TemporaryDirectory() as tmp:
        url = url or f"sqlite:///{Path(tmp) / 'kpis.db'}"
        t0 = time.perf_counter()
        populate(url, n)
        load_s = time.perf_counter() - t0
        engine = make_engine(url)
        with engine.connect() as conn:
            stored_events = conn.execute(select(func.count()).select_from(EventRow)).scalar_one()
        team = cached_team(REPO_ROOT / "agent" / "graph" / "routing.yaml")
        causes = load_root_causes(REPO_ROOT / "knowledge" / "demo")
        now = START + timedelta(days=400)
        runs: dict[str, list[float]] = {"year": [], "month_filtered": []}
        cpu: dict[str, list[float]] = {"year": [], "month_filtered": []}
        result: dict[str, Any] = {}
        for _ in range(repeats):
            for name, (lo, hi, filters) in {
                "year": (START, START + timedelta(days=365), Filters()),
                "month_filtered": (START, START + timedelta(days=31), Filters(tier="enterprise", category="payslips")),
            }.items():
                t, c = time.perf_counter(), time.process_time()
                result = compute_kpis(engine, lo, hi, filters=filters, sla=team.sla, root_causes=causes, now=now)
                runs[name].append(time.perf_counter() - t)
                cpu[name].append(time.process_time() - c)
        engine.dispose()
    out: dict[str, Any] = {"tickets": n, "events": stored_events, "load_s": round(load_s, 1)}
    for name, times in runs.items():
        out[f"{name}_best_s"] = round(min(times), 3)
        out[f"{name}_median_s"] = round(statistics.median(times), 3)
        out[f"{name}_cpu_best_s"] = round(min(cpu[name]), 3)  # this process's CPU: what an idle core would take
    out["last_tickets_created"] = result.get("tickets_created")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--url", default=None, help="a database URL to fill (default: a temporary SQLite file)")
    args = parser.parse_args()
    figures = bench_kpis(args.tickets, args.repeats, args.url)
    for key, value in figures.items():
        print(f"{key:>24}: {value}")


if __name__ == "__main__":
    main()
