"""Whole path over real HTTP: signed webhook -> durable store -> worker -> graph -> GET /tickets/{id}.

Real embedder, real Chroma (demo KB), real SQLite, the `none` LLM provider.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from agent.settings import Settings
from evals.demo import signed_headers
from tests.integration.conftest import post_ticket, serve_in_thread, wait_finished
from tools.signing import sign_standard

pytestmark = pytest.mark.integration
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
KEY = "test-api-key"
TICKET = {
    "external_id": "ZD-1001",
    "subject": "Employee did not get her payslip",
    "body": "Hello, Maria says she never received her October payslip email. Could you resend it? "
    "My number is +44 7700 900123.",
    "requester": "hr@acme.example",
    "customer": {"name": "Acme", "tier": "premium"},
    "language": "en",
    "product": "payroll",
}


@pytest.fixture
def client(demo_settings: Settings) -> Iterator[httpx.Client]:
    with serve_in_thread(demo_settings) as url, httpx.Client(base_url=url, timeout=30) as c:
        yield c


def test_signed_webhook_is_triaged_and_readable(client: httpx.Client) -> None:
    r = post_ticket(client, SECRET, TICKET)
    assert r.status_code == 202, r.text
    ticket_id = r.json()["ticket_id"]
    got = wait_finished(client, ticket_id, KEY)
    assert got["external_id"] == "ZD-1001"
    assert got["triage"]["category"]["value"] == "payslips"
    for field in ("category", "priority", "language", "sentiment", "risk"):
        assert 0.0 <= got["triage"][field]["confidence"] <= 1.0
    # This data dir has no trained classifier: the category comes from the nearest-document vote, on
    # e5's cosine scale since policy 2026-12-01.6-e5 (retrieval.vote_temperature): sure enough to send
    # the payslip article (at MiniLM's temperature it was 0.55 and parked for review)
    action = got["decision"]["action"]
    assert action == "auto_resolve" and got["decision"]["reason"], got["decision"]
    assert got["status"] == "done", got
    assert got["reply"]["citations"] == ["KB-009"]
    assert "[KB-009]" in got["reply"]["text"]
    events = [(a["node"], a["event"]) for a in got["audit"]]
    assert events[0] == ("intake", "received")
    assert ("decide", action) in events and events[-1][0] in ("worker", "review")
    assert got["policy_version"]


def test_redelivery_returns_same_ticket_and_creates_nothing(client: httpx.Client) -> None:
    msg_id = f"msg_{uuid.uuid4().hex}"
    first = post_ticket(client, SECRET, TICKET, msg_id)
    again = post_ticket(client, SECRET, TICKET, msg_id)
    assert first.status_code == 202 and again.status_code == 200
    assert again.json() == {"ticket_id": first.json()["ticket_id"], "duplicate": True}
    assert sum(client.get("/healthz", headers={"authorization": f"Bearer {KEY}"}).json()["tickets"].values()) == 1


def test_high_risk_ticket_is_handed_off(client: httpx.Client) -> None:
    payload = {
        **TICKET,
        "external_id": "ZD-2",
        "subject": "We were hacked",
        "body": "Someone logged into our admin account from an unknown country and changed bank details.",
    }
    got = wait_finished(client, post_ticket(client, SECRET, payload).json()["ticket_id"], KEY)
    assert got["status"] == "handed_off"
    assert got["decision"]["action"] == "handoff" and "risk:security" in got["decision"]["rules"]
    assert got["reply"] is None and "security" in got["handoff_note"]


def test_bad_inputs_get_clear_errors_and_store_nothing(client: httpx.Client, demo_settings: Settings) -> None:
    body = json.dumps(TICKET).encode()
    # 401: no signature, wrong signature, stale timestamp
    r = client.post("/webhooks/generic", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 401 and "missing header" in r.json()["detail"]
    h = signed_headers(SECRET, body)
    h["webhook-signature"] = "v1,AAAA"
    assert client.post("/webhooks/generic", content=body, headers=h).status_code == 401
    old = int(time.time()) - 600
    stale = {
        "webhook-id": "m1",
        "webhook-timestamp": str(old),
        "webhook-signature": sign_standard(SECRET, "m1", old, body),
    }
    r = client.post("/webhooks/generic", content=body, headers=stale)
    assert r.status_code == 401 and "window" in r.json()["detail"]
    # 400: malformed JSON (correctly signed)
    bad = b'{"external_id": "x", "subject": '
    r = client.post("/webhooks/generic", content=bad, headers=signed_headers(SECRET, bad))
    assert r.status_code == 400 and "not valid JSON" in r.json()["detail"]
    # 422 naming the missing fields
    partial = json.dumps({"subject": "hi"}).encode()
    r = client.post("/webhooks/generic", content=partial, headers=signed_headers(SECRET, partial))
    assert r.status_code == 422
    assert "external_id" in r.json()["detail"]["message"] and "body" in r.json()["detail"]["message"]
    # 413 over 1 MB
    huge = json.dumps({**TICKET, "body": "x" * (demo_settings.max_body_bytes + 10)}).encode()
    r = client.post("/webhooks/generic", content=huge, headers=signed_headers(SECRET, huge))
    assert r.status_code == 413
    assert client.get("/healthz", headers={"authorization": f"Bearer {KEY}"}).json()["tickets"] == {}


def test_ticket_reads_need_the_api_key(client: httpx.Client) -> None:
    ticket_id = post_ticket(client, SECRET, TICKET).json()["ticket_id"]
    assert client.get(f"/tickets/{ticket_id}").status_code == 401
    assert client.get(f"/tickets/{ticket_id}", headers={"authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/tickets/nope", headers={"authorization": f"Bearer {KEY}"}).status_code == 404
