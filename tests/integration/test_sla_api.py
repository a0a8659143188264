"""GET /sla/at-risk and GET /routing/on-duty over real HTTP (the real app on loopback, real SQLite).

Tickets are put into the store the way the worker finishes them (claim + complete), with the
`routing` result the handoff node produces (`routing_record`), so no models are needed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from agent.domain import Customer, Decision, Scored, TicketResult, Triage
from agent.graph.nodes.handoff import routing_record
from agent.graph.routing import load_team
from agent.settings import REPO_ROOT, Settings
from agent.storage.tickets import TicketStore
from tests.conftest import make_settings
from tests.integration.conftest import serve_in_thread

pytestmark = pytest.mark.integration
KEY = "test-api-key"
AUTH = {"authorization": f"Bearer {KEY}"}
TEAM = load_team(REPO_ROOT / "agent" / "graph" / "routing.yaml")
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, database_url=f"sqlite:///{tmp_path / 'triage.db'}", worker_enabled=False)


@pytest.fixture
def client(settings: Settings) -> Iterator[httpx.Client]:
    with serve_in_thread(settings) as url, httpx.Client(base_url=url, timeout=30) as c:
        yield c


def routed(created: datetime, priority: str, customer: Customer) -> dict[str, Any]:
    triage = Triage(
        category=Scored[str](value="payroll_run", confidence=0.9),
        priority=Scored[str](value=priority, confidence=0.9),
        language=Scored[str](value="en", confidence=0.9),
        sentiment=Scored[str](value="negative", confidence=0.9),
        risk=Scored[list[str]](value=[], confidence=0.9),
    )
    decision = Decision(action="handoff", reason="weak match", queue="payroll-support")
    routing = TEAM.route(triage, decision, customer, created)
    result = TicketResult(
        triage=triage,
        decision=decision,
        routing=routing_record(routing, TEAM.deadlines(priority, routing.client_tier, created)),
        policy_version="test",
    )
    return result.model_dump(mode="json")


def add(store: TicketStore, external_id: str, status: str, result: dict[str, Any]) -> str:
    fields = {"external_id": external_id, "subject": "s", "body": "b"}
    ticket_id, _ = store.create_or_get("generic", external_id, fields)
    claimed = store.claim("test-worker", 60)
    assert claimed is not None and claimed.id == ticket_id
    assert store.complete(ticket_id, "test-worker", status, result, [])  # type: ignore[arg-type]
    return ticket_id


def test_at_risk_lists_open_tickets_near_or_past_their_deadline_most_urgent_first(
    client: httpx.Client, settings: Settings
) -> None:
    store = TicketStore(settings.db_url)
    acme, walk_in = Customer(name="Acme"), Customer(name="Someone", tier="standard")
    minutes = lambda m: NOW - timedelta(minutes=m)  # noqa: E731
    # enterprise urgent: first response in 30 min; standard normal: in 1 day
    late = add(store, "A-late", "handed_off", routed(minutes(60), "urgent", acme))  # due 11:30: 30 min over
    close = add(store, "B-close", "writeback_failed", routed(minutes(25), "urgent", acme))  # 5 of 30 min left
    add(store, "C-fine", "handed_off", routed(minutes(10), "urgent", acme))  # 20 of 30 min left: ok
    add(store, "D-resolved", "done", routed(minutes(60), "urgent", acme))  # auto-resolved: clock stopped
    add(store, "E-old", "handed_off", {"decision": {"action": "handoff"}})  # a result without deadlines
    oldest = add(store, "F-oldest", "handed_off", routed(NOW - timedelta(days=3), "normal", walk_in))

    r = client.get("/sla/at-risk", params={"at": NOW.isoformat()}, headers=AUTH)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["at_risk_share"] == 0.25 and datetime.fromisoformat(body["at"]) == NOW
    got = [(t["ticket_id"], t["state"], t["deadline"], t["minutes_left"]) for t in body["tickets"]]
    assert got == [
        (oldest, "breached", "first_response", -2 * 24 * 60),
        (late, "breached", "first_response", -30),
        (close, "at_risk", "first_response", 5),
    ]
    first = body["tickets"][1]
    assert (first["external_id"], first["client"], first["client_tier"], first["priority"]) == (
        "A-late",
        "Acme",
        "enterprise",
        "urgent",
    )
    assert (first["queue"], first["tier"]) == ("payroll-support", "L2")
    assert datetime.fromisoformat(first["resolution_due"]) == minutes(60) + timedelta(hours=4)
    # an hour later the 'fine' one is breached too; much earlier nothing is at risk yet
    later = client.get("/sla/at-risk", params={"at": (NOW + timedelta(hours=1)).isoformat()}, headers=AUTH).json()
    assert [t["external_id"] for t in later["tickets"]] == ["F-oldest", "A-late", "B-close", "C-fine"]
    assert client.get("/sla/at-risk", params={"at": "2026-05-01T00:00:00Z"}, headers=AUTH).json()["tickets"] == []
    assert client.get("/sla/at-risk").status_code == 401


def test_on_duty_names_who_is_on_shift(client: httpx.Client) -> None:
    def on_duty(**params: str) -> httpx.Response:
        return client.get("/routing/on-duty", params=params, headers=AUTH)

    # Monday 08:00 UTC: 11:00 in Kyiv (EEST), 09:00 in Lisbon (before its shift)
    body = on_duty(queue="payroll-support", tier="L2", at="2026-06-01T08:00:00Z").json()
    assert [(e["name"], e["shift_ends"]) for e in body["engineers"]] == [("andrii.bondar", "2026-06-01T13:00:00Z")]
    assert body["fallback_on_call"] == "duty-manager@payflow.example"
    # Saturday 02:00 UTC: Friday 22:00 in Toronto, the weekday evening shift that ends 01:00 local
    body = on_duty(queue="payroll-support", tier="L2", at="2026-06-06T02:00:00Z").json()
    assert [(e["name"], e["shift_ends"]) for e in body["engineers"]] == [("mark.kowalchuk", "2026-06-06T05:00:00Z")]
    # Kyiv and Lisbon overlap at 12:30 UTC; language puts a speaker first
    names = lambda b: [e["name"] for e in b["engineers"]]  # noqa: E731
    both = {"queue": "payroll-support", "tier": "L1", "at": "2026-06-01T12:30:00Z"}
    assert names(on_duty(**both).json()) == ["olena.kovalenko", "joao.silva"]
    assert names(on_duty(**both, language="pt").json()) == ["joao.silva", "olena.kovalenko"]
    everyone = names(on_duty(at="2026-06-01T12:30:00Z").json())
    assert sorted(everyone) == sorted(
        ["olena.kovalenko", "andrii.bondar", "taras.melnyk", "joao.silva", "ana.costa", "miguel.santos"]
    )
    r = on_duty(queue="payrol")
    assert r.status_code == 404 and "unknown queue 'payrol'" in r.json()["detail"]
    assert on_duty(tier="L4").status_code == 422
    assert client.get("/routing/on-duty").status_code == 401


def test_without_a_team_file_the_endpoints_say_so(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, worker_enabled=False, team_file=tmp_path / "missing.yaml")
    with serve_in_thread(settings) as url, httpx.Client(base_url=url, timeout=30) as c:
        for path in ("/sla/at-risk", "/routing/on-duty"):
            r = c.get(path, headers=AUTH)
            assert r.status_code == 503 and "not found; set TRIAGE_TEAM_FILE" in r.json()["detail"]
