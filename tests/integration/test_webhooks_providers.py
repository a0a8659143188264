"""Ticketing-system webhooks over real HTTP on loopback: the real app, real SQLite.

Most tests run with the worker off (intake only: what is stored, what is answered); one runs the
whole path for a Jira ticket with an ADF description.
"""

from __future__ import annotations

import base64
import copy
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from agent.settings import Settings
from agent.storage.tickets import TicketStore
from tests.conftest import make_settings
from tests.integration.conftest import serve_in_thread, wait_finished
from tests.unit.test_webhook_providers import (
    ADF_DOC,
    FRESHDESK_BODY,
    FRESHDESK_LEGACY_TEXT,
    JIRA_ISSUE_CREATED,
    YOUTRACK_ISSUE_CREATED,
    ZENDESK_EVENT,
    ZENDESK_TRIGGER,
    fixture,
)
from tools.signing import sign_hub, sign_zendesk
from tools.ticketing.adf import adf_to_text

pytestmark = pytest.mark.integration

ZD_SECRET = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ=="
JIRA_SECRET = "It's a Secret to Everybody"
FD_TOKEN = "fd-3b1f0c9e7a5d4e2f8a6b"
YT_TOKEN = "yt-9c2e4a6b8d0f1e3a5c7b9d1f3e5a7c9b"
KEY = "test-api-key"
PROVIDER_SECRETS: dict[str, Any] = {
    "zendesk_webhook_secret": ZD_SECRET,
    "jira_webhook_secret": JIRA_SECRET,
    "freshdesk_webhook_token": FD_TOKEN,
    "youtrack_webhook_token": YT_TOKEN,
}


def settings_for(tmp_path: Path, **overrides: Any) -> Settings:
    base = {"database_url": f"sqlite:///{tmp_path / 'triage.db'}", "worker_enabled": False, **PROVIDER_SECRETS}
    return make_settings(tmp_path, **{**base, **overrides})


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return settings_for(tmp_path)


@pytest.fixture
def client(settings: Settings) -> Iterator[httpx.Client]:
    with serve_in_thread(settings) as url, httpx.Client(base_url=url, timeout=30) as c:
        yield c


def ticket_count(client: httpx.Client) -> int:
    # /healthz shows ticket counts to an agent (or admin) key only
    return sum(client.get("/healthz", headers={"authorization": f"Bearer {KEY}"}).json()["tickets"].values())


def stored(settings: Settings, ticket_id: str) -> dict[str, Any]:
    row = TicketStore(settings.db_url).get(ticket_id)
    assert row is not None
    return row


def now_iso(offset: float = 0) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + offset))


def zendesk_post(
    client: httpx.Client, payload: dict[str, Any], ts: str | None = None, secret: str = ZD_SECRET
) -> httpx.Response:
    body = json.dumps(payload).encode()
    ts = ts or now_iso()
    headers = {
        "content-type": "application/json",
        "X-Zendesk-Webhook-Signature": sign_zendesk(secret, ts, body),
        "X-Zendesk-Webhook-Signature-Timestamp": ts,
    }
    return client.post("/webhooks/zendesk", content=body, headers=headers)


def jira_post(
    client: httpx.Client, payload: dict[str, Any], identifier: str | None = None, body: bytes | None = None
) -> httpx.Response:
    raw = body if body is not None else json.dumps(payload).encode()
    headers = {
        "content-type": "application/json",
        "X-Hub-Signature": sign_hub(JIRA_SECRET, raw),
        "X-Atlassian-Webhook-Identifier": identifier or str(uuid.uuid4()),
    }
    return client.post("/webhooks/jira", content=raw, headers=headers)


# ---- Zendesk -------------------------------------------------------------------------------------


def test_zendesk_event_is_stored_once_and_replay_returns_the_same_ticket(
    client: httpx.Client, settings: Settings
) -> None:
    first = zendesk_post(client, ZENDESK_EVENT)
    assert first.status_code == 202, first.text
    ticket_id = first.json()["ticket_id"]
    # Zendesk retries with a fresh timestamp and signature, the same event id
    again = zendesk_post(client, ZENDESK_EVENT, ts=now_iso(-5))
    assert again.status_code == 200 and again.json() == {"ticket_id": ticket_id, "duplicate": True}
    assert ticket_count(client) == 1
    row = stored(settings, ticket_id)
    assert row["source"] == "zendesk" and row["external_id"] == "5158"
    assert row["ticket"]["subject"] == "Payslip not received"
    assert row["ticket"]["customer"]["organization_id"] == "8447388093310"
    assert row["audit"][0]["detail"] == {"source": "zendesk", "delivery_id": ZENDESK_EVENT["id"]}
    got = client.get(f"/tickets/{ticket_id}", headers={"authorization": f"Bearer {KEY}"}).json()
    assert got["source"] == "zendesk" and got["status"] == "received"


def test_zendesk_trigger_body_and_ignored_events(client: httpx.Client, settings: Settings) -> None:
    r = zendesk_post(client, ZENDESK_TRIGGER)
    assert r.status_code == 202, r.text
    assert stored(settings, r.json()["ticket_id"])["ticket"]["requester"] == "jane@acme.example"
    assert zendesk_post(client, ZENDESK_TRIGGER).status_code == 200  # same ticket id + event
    # an update is a lifecycle event (tests/integration/test_lifecycle_kpis.py), stored once; no ticket
    updated = {**ZENDESK_EVENT, "id": str(uuid.uuid4()), "type": "zen:event-type:ticket.status_changed"}
    r = zendesk_post(client, updated)
    assert r.status_code == 202 and r.json()["tickets"] == ["5158"], r.text
    assert zendesk_post(client, updated).json()["duplicate"] is True
    r = zendesk_post(client, {**updated, "type": "zen:event-type:ticket.tags_changed"})
    assert r.status_code == 200
    assert r.json()["ignored"] is True and r.json()["event"] == "zen:event-type:ticket.tags_changed"
    assert "ticket.created" in r.json()["detail"]
    assert ticket_count(client) == 1


def test_zendesk_bad_signatures_and_stale_timestamps_are_401(client: httpx.Client) -> None:
    body = json.dumps(ZENDESK_EVENT).encode()
    r = client.post("/webhooks/zendesk", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 401 and "X-Zendesk-Webhook-Signature" in r.json()["detail"]
    assert zendesk_post(client, ZENDESK_EVENT, secret="not-the-secret").status_code == 401
    stale = zendesk_post(client, ZENDESK_EVENT, ts=now_iso(-600))
    assert stale.status_code == 401 and "window" in stale.json()["detail"]
    assert ticket_count(client) == 0


# ---- Jira ----------------------------------------------------------------------------------------


def test_jira_string_and_adf_descriptions(client: httpx.Client, settings: Settings) -> None:
    r = jira_post(client, JIRA_ISSUE_CREATED)
    assert r.status_code == 202, r.text
    row = stored(settings, r.json()["ticket_id"])
    assert row["source"] == "jira" and row["external_id"] == "SUP-42"
    assert row["ticket"]["body"] == "Our payroll run has been processing for 3 hours."  # wiki markup rendered
    assert row["ticket"]["created_at"] == "2024-03-22T13:20:00Z"
    assert row["ticket"]["source_ids"] == {"issue_id": "10057", "issue_key": "SUP-42"}

    adf = copy.deepcopy(JIRA_ISSUE_CREATED)
    adf["issue"]["key"], adf["issue"]["id"] = "SUP-43", "10058"
    adf["issue"]["fields"]["description"] = ADF_DOC
    r = jira_post(client, adf)
    assert r.status_code == 202, r.text
    row = stored(settings, r.json()["ticket_id"])
    assert row["external_id"] == "SUP-43" and row["ticket"]["body"] == adf_to_text(ADF_DOC)
    assert "| Maria | [FAILED] |" in row["ticket"]["body"]


def test_jira_server_body_with_a_string_timestamp_is_accepted(client: httpx.Client, settings: Settings) -> None:
    # captured-style Jira Server webhook: "timestamp": "2018-1-11 13:08:04", user, changelog, Server fields
    payload = fixture("jira_server_issue_created.json")
    raw = json.dumps(payload).encode()
    r = client.post("/webhooks/jira", content=raw, headers={"X-Hub-Signature": sign_hub(JIRA_SECRET, raw)})
    assert r.status_code == 202, r.text
    row = stored(settings, r.json()["ticket_id"])
    assert row["external_id"] == "PAY-118"
    assert row["ticket"]["body"].startswith("## What happens\n\nSince the 2.14 upgrade the SEPA export")
    assert row["ticket"]["created_at"] == "2018-01-11T12:08:04Z"
    again = client.post("/webhooks/jira", content=raw, headers={"X-Hub-Signature": sign_hub(JIRA_SECRET, raw)})
    assert again.status_code == 200 and again.json()["ticket_id"] == r.json()["ticket_id"]  # issue id + event


def test_jira_retry_with_the_same_identifier_creates_nothing(client: httpx.Client) -> None:
    identifier = str(uuid.uuid4())
    first = jira_post(client, JIRA_ISSUE_CREATED, identifier)
    late = jira_post(client, JIRA_ISSUE_CREATED, identifier)  # Jira retries keep the identifier
    assert first.status_code == 202 and late.status_code == 200
    assert late.json()["ticket_id"] == first.json()["ticket_id"]
    assert ticket_count(client) == 1


def test_jira_wrong_or_missing_signature_is_401(client: httpx.Client) -> None:
    body = json.dumps(JIRA_ISSUE_CREATED).encode()
    bad = {"X-Hub-Signature": sign_hub("wrong", body), "X-Atlassian-Webhook-Identifier": "x"}
    r = client.post("/webhooks/jira", content=body, headers=bad)
    assert r.status_code == 401 and "does not match" in r.json()["detail"]
    r = client.post("/webhooks/jira", content=body)
    assert r.status_code == 401 and "X-Hub-Signature" in r.json()["detail"]
    assert ticket_count(client) == 0


# ---- Freshdesk and YouTrack ----------------------------------------------------------------------


def test_freshdesk_token_header_or_basic_auth(client: httpx.Client, settings: Settings) -> None:
    body = json.dumps(FRESHDESK_BODY).encode()
    assert client.post("/webhooks/freshdesk", content=body).status_code == 401
    assert client.post("/webhooks/freshdesk", content=body, headers={"X-Triage-Token": "nope"}).status_code == 401
    r = client.post("/webhooks/freshdesk", content=body, headers={"X-Triage-Token": FD_TOKEN})
    assert r.status_code == 202, r.text
    row = stored(settings, r.json()["ticket_id"])
    assert row["source"] == "freshdesk" and row["external_id"] == "1042"
    assert row["ticket"]["customer"]["name"] == "Beta GmbH"
    basic = "Basic " + base64.b64encode(f"{FD_TOKEN}:X".encode()).decode()
    again = client.post("/webhooks/freshdesk", content=body, headers={"authorization": basic})
    assert again.status_code == 200 and again.json()["ticket_id"] == r.json()["ticket_id"]
    assert ticket_count(client) == 1


def test_freshdesk_legacy_wrapper_and_html_description(client: httpx.Client, settings: Settings) -> None:
    legacy = json.dumps(fixture("freshdesk_legacy_ticket_created.json")).encode()
    r = client.post("/webhooks/freshdesk", content=legacy, headers={"X-Triage-Token": FD_TOKEN})
    assert r.status_code == 202, r.text
    row = stored(settings, r.json()["ticket_id"])
    assert row["external_id"] == "4521" and row["ticket"]["body"] == FRESHDESK_LEGACY_TEXT
    # the same ticket in the modern body dedupes against the legacy one
    modern = {"ticket_id": 4521, "subject": "Payslip PDF is blank", "description": "<p>x</p>"}
    again = client.post("/webhooks/freshdesk", content=json.dumps(modern), headers={"X-Triage-Token": FD_TOKEN})
    assert again.status_code == 200 and again.json()["ticket_id"] == r.json()["ticket_id"]
    html = json.dumps(fixture("freshdesk_html_ticket_created.json")).encode()
    r = client.post("/webhooks/freshdesk", content=html, headers={"X-Triage-Token": FD_TOKEN})
    assert r.status_code == 202, r.text
    body = stored(settings, r.json()["ticket_id"])["ticket"]["body"]
    assert "1. Logged in the timesheet (https://time.beta.example/sheets/2024-12)" in body
    assert "<" not in body and "track()" not in body  # no tags, no script
    assert ticket_count(client) == 2


def test_youtrack_token_and_dedupe(client: httpx.Client, settings: Settings) -> None:
    body = json.dumps(YOUTRACK_ISSUE_CREATED).encode()
    r = client.post("/webhooks/youtrack", content=body, headers={"X-YouTrack-Token": "secret"})
    assert r.status_code == 401 and "X-YouTrack-Token" in r.json()["detail"]
    r = client.post("/webhooks/youtrack", content=body, headers={"X-YouTrack-Token": YT_TOKEN})
    assert r.status_code == 202, r.text
    assert stored(settings, r.json()["ticket_id"])["external_id"] == "SUP-123"
    again = client.post("/webhooks/youtrack", content=body, headers={"x-youtrack-token": YT_TOKEN})
    assert again.status_code == 200 and again.json()["duplicate"] is True
    updated = json.dumps({**YOUTRACK_ISSUE_CREATED, "event": "issueUpdated"}).encode()
    r = client.post("/webhooks/youtrack", content=updated, headers={"X-YouTrack-Token": YT_TOKEN})
    assert r.status_code in (200, 202) and r.json()["tickets"] == ["SUP-123"]  # a lifecycle event, no ticket
    other = json.dumps({**YOUTRACK_ISSUE_CREATED, "event": "issueDeleted"}).encode()
    r = client.post("/webhooks/youtrack", content=other, headers={"X-YouTrack-Token": YT_TOKEN})
    assert r.status_code == 200 and r.json()["ignored"] is True
    assert ticket_count(client) == 1


def test_token_header_names_are_configurable(tmp_path: Path) -> None:
    s = settings_for(tmp_path, youtrack_token_header="X-Hook-Key", freshdesk_token_header="X-FD-Key")
    with serve_in_thread(s) as url, httpx.Client(base_url=url, timeout=30) as c:
        yt = json.dumps(YOUTRACK_ISSUE_CREATED).encode()
        assert c.post("/webhooks/youtrack", content=yt, headers={"X-YouTrack-Token": YT_TOKEN}).status_code == 401
        assert c.post("/webhooks/youtrack", content=yt, headers={"X-Hook-Key": YT_TOKEN}).status_code == 202
        fd = json.dumps(FRESHDESK_BODY).encode()
        assert c.post("/webhooks/freshdesk", content=fd, headers={"X-FD-Key": FD_TOKEN}).status_code == 202


# ---- errors common to all ------------------------------------------------------------------------


def test_unknown_provider_is_404(client: httpx.Client) -> None:
    r = client.post("/webhooks/servicenow", content=b"{}")
    assert r.status_code == 404
    assert "servicenow" in r.json()["detail"] and "zendesk" in r.json()["detail"]


def test_malformed_json_is_400_oversized_is_413_schema_mismatch_is_422(
    client: httpx.Client, settings: Settings
) -> None:
    bad = b'{"webhookEvent": "jira:issue_created", "issue": '
    r = jira_post(client, {}, body=bad)
    assert r.status_code == 400 and "not valid JSON" in r.json()["detail"]

    huge = copy.deepcopy(JIRA_ISSUE_CREATED)
    huge["issue"]["fields"]["description"] = "x" * (settings.max_body_bytes + 10)
    assert jira_post(client, huge).status_code == 413

    missing = copy.deepcopy(JIRA_ISSUE_CREATED)
    del missing["issue"]["fields"]["summary"]
    r = jira_post(client, missing)
    assert r.status_code == 422
    assert "issue.fields.summary" in r.json()["detail"]["message"]

    yt = json.dumps({k: v for k, v in YOUTRACK_ISSUE_CREATED.items() if k != "id"}).encode()
    r = client.post("/webhooks/youtrack", content=yt, headers={"X-YouTrack-Token": YT_TOKEN})
    assert r.status_code == 422 and r.json()["detail"]["errors"][0]["field"] == "id"

    empty = {**ZENDESK_EVENT, "detail": {**ZENDESK_EVENT["detail"], "subject": "", "description": ""}}
    r = zendesk_post(client, empty)
    assert r.status_code == 422 and "detail.description" in r.json()["detail"]["message"]

    # a rendered ADF description over the ticket body limit is named by its Jira field
    big_adf = copy.deepcopy(JIRA_ISSUE_CREATED)
    big_adf["issue"]["fields"]["description"] = {"type": "doc", "content": [{"type": "paragraph", "content": [
        {"type": "text", "text": "y" * 200_001}
    ]}]}  # fmt: skip
    r = jira_post(client, big_adf)
    assert r.status_code == 422 and "issue.fields.description" in r.json()["detail"]["message"]
    assert ticket_count(client) == 0


def test_unconfigured_secret_is_503_saying_how_to_configure(tmp_path: Path) -> None:
    s = settings_for(tmp_path, zendesk_webhook_secret=None, jira_webhook_secret=None)
    with serve_in_thread(s) as url, httpx.Client(base_url=url, timeout=30) as c:
        r = c.post("/webhooks/zendesk", content=b"{}")
        assert r.status_code == 503 and "TRIAGE_ZENDESK_WEBHOOK_SECRET" in r.json()["detail"]
        r = c.post("/webhooks/jira", content=b"{}")
        assert r.status_code == 503 and "TRIAGE_JIRA_WEBHOOK_SECRET" in r.json()["detail"]
        # the others still work
        fd = json.dumps(FRESHDESK_BODY).encode()
        assert c.post("/webhooks/freshdesk", content=fd, headers={"X-Triage-Token": FD_TOKEN}).status_code == 202


# ---- the whole path -------------------------------------------------------------------------------


def test_jira_ticket_with_adf_description_is_triaged(demo_data_dir: Path, tmp_path: Path) -> None:
    s = make_settings(
        demo_data_dir,
        database_url=f"sqlite:///{tmp_path / 'triage.db'}",
        checkpoint_db=tmp_path / "checkpoints.sqlite",
        **PROVIDER_SECRETS,
    )
    payload = copy.deepcopy(JIRA_ISSUE_CREATED)
    payload["issue"]["fields"]["summary"] = "Employee did not get her payslip"
    payload["issue"]["fields"]["description"] = {
        "version": 1,
        "type": "doc",
        "content": [
            {"type": "paragraph", "content": [
                {"type": "text", "text": "Hello, "},
                {"type": "mention", "attrs": {"id": "1", "text": "@Maria"}},
                {"type": "text", "text": " says she never received her October payslip email. Could you resend it?"},
            ]}
        ],
    }  # fmt: skip
    with serve_in_thread(s) as url, httpx.Client(base_url=url, timeout=30) as c:
        r = jira_post(c, payload)
        assert r.status_code == 202, r.text
        got = wait_finished(c, r.json()["ticket_id"], KEY)
    assert got["source"] == "jira" and got["external_id"] == "SUP-42"
    # what the agent read: the ADF rendered to text, with the issue's own ids and created time
    assert got["ticket"]["body"] == (
        "Hello, @Maria says she never received her October payslip email. Could you resend it?"
    )
    assert got["ticket"]["source_ids"] == {"issue_id": "10057", "issue_key": "SUP-42"}
    assert got["ticket"]["created_at"] == "2024-03-22T13:20:00Z"
    assert got["status"] in ("done", "awaiting_review", "handed_off"), got
    assert got["triage"]["category"]["value"] == "payslips"
