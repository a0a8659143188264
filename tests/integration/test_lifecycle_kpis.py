"""Lifecycle intake and GET /kpis over real HTTP on loopback: the real app, real SQLite and PostgreSQL.

The issue's target: three real Zendesk event webhooks for one ticket (created 10:12:07, an agent's
public comment at 14:25:30, solved at 16:45:20, all 2025-01-08) give a first response of 15,203 s and
a resolution of 23,593 s for January 2025, whatever order they arrive in and however often.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from agent.settings import Settings
from agent.storage.events import EventStore
from agent.storage.tickets import TicketStore
from api.cli.backfill import import_export
from evals.demo import signed_headers
from tests.integration.conftest import post_ticket, serve_in_thread, wait_finished
from tests.integration.test_webhooks_providers import FD_TOKEN, KEY, YT_TOKEN, jira_post, settings_for, zendesk_post
from tests.integration.test_writeback_e2e import pg_url as pg_url  # the fixture: a throwaway schema
from tests.unit.test_webhook_providers import ZENDESK_EVENT

pytestmark = pytest.mark.integration
AUTH = {"authorization": f"Bearer {KEY}"}

CREATED = {**copy.deepcopy(ZENDESK_EVENT), "time": "2025-01-08T10:12:07.000000000Z"}
COMMENTED = {
    "type": "zen:event-type:ticket.comment_added",
    "account_id": 22129848,
    "id": "d4f5c389-8f4a-4c2e-a1b9-8e4f39c71d52",
    "time": "2025-01-08T14:25:30.123456789Z",
    "zendesk_event_version": "2022-11-06",
    "subject": "zen:ticket:5158",
    "detail": {"id": "5158", "status": "OPEN", "priority": "LOW", "created_at": "2025-01-08T10:12:07Z"},
    "event": {"comment": {"id": "9876543210", "body": "We are resending it.", "is_public": True,
                          "author": {"id": "8447388090495", "is_staff": True, "name": "Support Agent"}}},
}  # fmt: skip
SOLVED = {
    "type": "zen:event-type:ticket.status_changed",
    "account_id": 22129848,
    "id": "a8b9c1d2-3e4f-5a6b-7c8d-9e0f1a2b3c4d",
    "time": "2025-01-08T16:45:20.987654321Z",
    "zendesk_event_version": "2022-11-06",
    "subject": "zen:ticket:5158",
    "detail": {"id": "5158", "status": "SOLVED", "priority": "LOW", "created_at": "2025-01-08T10:12:07Z"},
    "event": {"current": "SOLVED", "previous": "OPEN"},
}


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    if request.param == "sqlite":
        yield settings_for(tmp_path)
        return
    url = request.getfixturevalue("pg_url")
    yield settings_for(tmp_path, database_url=url)


def kpis(client: httpx.Client, **params: str) -> dict[str, Any]:
    r = client.get("/kpis", params=params, headers=AUTH)
    assert r.status_code == 200, r.text
    return r.json()


def test_three_zendesk_events_give_the_first_response_and_resolution_times(settings: Settings) -> None:
    with serve_in_thread(settings) as url, httpx.Client(base_url=url, timeout=30) as client:
        # out of order (the solve first: a ticket row from events alone) and redelivered
        for payload in (SOLVED, COMMENTED, CREATED, SOLVED, COMMENTED):
            r = zendesk_post(client, payload)
            assert r.status_code in (200, 202), r.text
        assert zendesk_post(client, SOLVED).json()["duplicate"] is True
        january = kpis(client, **{"from": "2025-01-01", "to": "2025-02-01"})
        assert january["tickets_created"] == 1
        assert january["first_response_seconds_p50"] == 15203 and january["first_response_seconds_p90"] == 15203
        assert january["resolution_seconds_p50"] == 23593 and january["resolution_seconds_p90"] == 23593
        assert january["solved"] == 1 and january["reopen_rate"] == 0 and january["backlog"] == 0
        assert january["first_contact_resolution_rate"] == 1.0
        assert january["ai_triaged"] == 0  # the worker is off: nobody triaged it
        # at 15:00 it had its first response but was still open (the backlog is the state at `to`)
        afternoon = kpis(client, **{"from": "2025-01-08", "to": "2025-01-08T15:00:00Z"})
        assert afternoon["backlog"] == 1 and afternoon["tickets_created"] == 1
        assert kpis(client, **{"from": "2025-02-01", "to": "2025-03-01"})["tickets_created"] == 0
        # reopened by the customer's reply, then solved again: the resolution counts to the last solve
        reopened = {**SOLVED, "id": "reopen-1", "time": "2025-01-09T09:00:00Z",
                    "event": {"current": "OPEN", "previous": "SOLVED"}}  # fmt: skip
        solved_again = {**SOLVED, "id": "solve-2", "time": "2025-01-09T10:00:00Z"}
        assert zendesk_post(client, solved_again).status_code == 202
        assert zendesk_post(client, reopened).status_code == 202
        again = kpis(client, **{"from": "2025-01-01", "to": "2025-02-01"})
        assert again["reopen_rate"] == 1.0 and again["first_contact_resolution_rate"] == 0.0
        assert again["resolution_seconds_p50"] == (24 * 3600 - 10 * 3600 - 12 * 60 - 7) + 10 * 3600
        # open on the 9th at 09:30 (between the reopen and the second solve), solved at 16:00 the 8th
        assert kpis(client, **{"from": "2025-01-01", "to": "2025-01-09T09:30:00Z"})["backlog"] == 1
        assert kpis(client, **{"from": "2025-01-01", "to": "2025-01-08T17:00:00Z"})["backlog"] == 0
    life = EventStore(TicketStore(settings.db_url)).lifecycle("zendesk", "5158")
    assert life is not None and life["ticket_id"] is not None and life["reopens"] == 1


def test_kpis_needs_an_agent_key_and_refuses_bad_periods(tmp_path: Path) -> None:
    with serve_in_thread(settings_for(tmp_path)) as url, httpx.Client(base_url=url, timeout=30) as client:
        assert client.get("/kpis").status_code == 401
        for params in ({"from": "2025-02-01", "to": "2025-01-01"}, {"from": "0001-01-01"}, {"to": "yesterday"},
                       {"tier": "x" * 65}):  # fmt: skip
            r = client.get("/kpis", params=params, headers=AUTH)
            assert r.status_code == 422, (params, r.text)


def test_every_system_and_the_generic_endpoint_feed_the_lifecycle(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    with serve_in_thread(settings) as url, httpx.Client(base_url=url, timeout=30) as client:
        jira = {
            "timestamp": 1736345120000,  # 2025-01-08T14:05:20Z
            "webhookEvent": "jira:issue_updated",
            "issue_event_type_name": "issue_generic",
            "issue": {"id": "10057", "key": "SUP-7", "fields": {
                "created": "2025-01-08T10:00:00.000+0000", "reporter": {"accountId": "cust-1"},
                "status": {"id": "10002", "name": "Done", "statusCategory": {"key": "done"}}}},
            "changelog": {"id": "10400", "items": [
                {"field": "status", "fieldtype": "jira", "from": "10000", "fromString": "Waiting for support",
                 "to": "10002", "toString": "Done"},
                {"field": "assignee", "fieldtype": "jira", "to": "agent-9", "toString": "Olena"}]},
        }  # fmt: skip
        assert jira_post(client, jira).status_code == 202
        comment = {"timestamp": 1736341200000, "webhookEvent": "comment_created",
                   "issue": jira["issue"], "comment": {"id": "555", "created": "2025-01-08T13:00:00.000+0000",
                   "author": {"accountId": "agent-9"}, "jsdPublic": True}}  # fmt: skip
        assert jira_post(client, comment).status_code == 202
        fd = {"event": "status_changed", "ticket_id": "1042", "status": "Resolved", "time": "2025-01-08T12:00:00Z",
              "created_at": "2025-01-08T11:00:00Z"}  # fmt: skip
        r = client.post("/webhooks/freshdesk", content=json.dumps(fd).encode(), headers={"X-Triage-Token": FD_TOKEN})
        assert r.status_code == 202, r.text
        yt = {"event": "commentAdded", "id": "2-123", "idReadable": "SUP-123", "created": 1736330400000,
              "timestamp": 1736334000000,
              "comment": {"id": "4-1", "isReporter": False, "visibility": "public"}}  # fmt: skip
        r = client.post("/webhooks/youtrack", content=json.dumps(yt).encode(), headers={"X-YouTrack-Token": YT_TOKEN})
        assert r.status_code == 202, r.text
        secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
        generic = {"events": [
            {"external_id": "G-1", "kind": "created", "at": "2025-01-08T08:00:00Z"},
            {"external_id": "G-1", "kind": "satisfaction", "rating": "bad", "at": "2025-01-09T08:00:00Z"}]}  # fmt: skip
        body = json.dumps(generic).encode()
        r = client.post("/webhooks/generic", content=body, headers=signed_headers(secret, body))
        assert r.status_code == 202 and r.json()["new"] == 2, r.text
        bad = json.dumps({"external_id": "G-1", "kind": "status", "status": "exploded"}).encode()
        r = client.post("/webhooks/generic", content=bad, headers=signed_headers(secret, bad))
        assert r.status_code == 422 and "status" in r.text
        got = kpis(client, **{"from": "2025-01-08", "to": "2025-01-09"})
    events = EventStore(TicketStore(settings.db_url))
    sup7 = events.lifecycle("jira", "SUP-7")
    assert sup7 is not None and sup7["first_response_s"] == 3 * 3600 and sup7["resolution_s"] == 4 * 3600 + 320
    assert sup7["human_assigned_at"] is not None
    fd_life = events.lifecycle("freshdesk", "1042")
    assert fd_life is not None and fd_life["resolution_s"] == 3600
    yt_life = events.lifecycle("youtrack", "SUP-123")
    assert yt_life is not None and yt_life["first_response_s"] == 3600
    assert got["tickets_created"] == 4 and got["csat"] == 0.0 and got["csat_responses"] == 1
    assert got["backlog"] == 2  # the YouTrack issue and G-1 were open at the end of the 8th


def test_backfill_is_idempotent_and_gives_a_baseline(tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    export.write_text(
        "id,created_at,first_response_at,solved_at,reopened_at,satisfaction,tier,priority,category\n"
        "A-1,2024-12-02T09:00:00Z,2024-12-02T09:30:00Z,2024-12-02T11:00:00Z,,good,enterprise,high,payslips\n"
        "A-2,2024-12-03T09:00:00Z,2024-12-03T10:00:00Z,2024-12-05T09:00:00Z,2024-12-04T09:00:00Z,2,standard,Medium,tax\n"
        "A-3,2024-12-04T09:00:00Z,,,,,standard,low,tax\n",
        encoding="utf-8",
    )
    settings = settings_for(tmp_path)
    first = import_export(export, "zendesk", settings.db_url)
    assert first["tickets"] == 3 and first["new"] == first["events"] > 0
    assert import_export(export, "zendesk", settings.db_url)["new"] == 0
    with serve_in_thread(settings) as url, httpx.Client(base_url=url, timeout=30) as client:
        december = kpis(client, **{"from": "2024-12-01", "to": "2025-01-01"})
        tax = kpis(client, **{"from": "2024-12-01", "to": "2025-01-01", "category": "tax"})
    assert december["tickets_created"] == 3 and december["backlog"] == 1 and december["reopen_rate"] == 0.5
    assert december["first_response_seconds_p50"] == (1800 + 3600) / 2 and december["csat"] == 0.5
    assert tax["tickets_created"] == 2
    cells = {(c["tier"], c["priority"]): c for c in december["sla"]["cells"]}
    assert cells[("enterprise", "high")]["tickets"] == 1


def test_the_service_own_triage_is_an_event(demo_settings: Settings) -> None:
    with serve_in_thread(demo_settings) as url, httpx.Client(base_url=url, timeout=60) as client:
        secret = demo_settings.webhook_secret.get_secret_value() if demo_settings.webhook_secret else ""
        payload = {"external_id": "T-1", "subject": "Payslip PDF is blank", "body": "My payslip opens empty.",
                   "created_at": "2025-03-03T09:00:00Z"}  # fmt: skip
        ticket_id = post_ticket(client, secret, payload).json()["ticket_id"]
        done = wait_finished(client, ticket_id, KEY)
        march = kpis(client, **{"from": "2025-03-01", "to": "2025-04-01"})
    assert march["tickets_created"] == 1 and march["ai_triaged_rate"] == 1.0
    action = (done.get("decision") or {}).get("action")
    assert march["handoffs"] == (1 if action == "handoff" else 0)
    assert march["auto_resolved"] == (1 if action == "auto_resolve" and done["status"] == "done" else 0)
