"""Review flow over real HTTP: a suggestion pauses the graph (LangGraph interrupt); approve, edit or
reject resumes it through the worker; the verdict is stored with who and when; write-back of the
approved reply happens once, after the interrupt."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from agent.settings import Settings
from tests.integration.conftest import post_ticket, serve_in_thread, wait_finished
from tests.integration.test_writeback_e2e import seen, send, webhook, writes
from tests.integration.test_writeback_e2e import wb_settings as wb_settings  # the fixture
from tools.ticketing.testing.zendesk import FakeZendesk

pytestmark = pytest.mark.integration
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
KEY = "test-api-key"
AUTH = {"authorization": f"Bearer {KEY}"}
# smoke S005: SSO set-up with an error code; the demo policy drafts it for review (doc needs staff)
SSO = {
    "external_id": "S005",
    "subject": "Setting up SAML SSO with Okta",
    "body": "We're rolling PayFlow out to 1,400 users and want to enforce SSO via Okta with SCIM provisioning. "
    "We've added the app in Okta but the test gives 'PF-1021 SAML assertion invalid: audience mismatch'. "
    "Can someone from your side help us configure and enforce it?",
    "requester": "it@fernhill.example",
    "customer": {"name": "Fernhill Group", "tier": "enterprise"},
    "language": "en",
}


@pytest.fixture
def client(demo_settings: Settings) -> Iterator[httpx.Client]:
    with serve_in_thread(demo_settings) as url, httpx.Client(base_url=url, timeout=30) as c:
        yield c


def _suggested(client: httpx.Client, external_id: str) -> str:
    r = post_ticket(client, SECRET, {**SSO, "external_id": external_id})
    assert r.status_code == 202, r.text
    ticket_id = r.json()["ticket_id"]
    got = wait_finished(client, ticket_id, KEY)
    assert got["status"] == "awaiting_review", got["decision"]
    assert got["decision"]["action"] == "suggest" and got["reply"]["text"]
    return ticket_id


def _wait_status(client: httpx.Client, ticket_id: str, done: set[str], timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = client.get(f"/tickets/{ticket_id}", headers=AUTH).json()
        if got["status"] in done:
            return got
        time.sleep(0.1)
    raise AssertionError(f"{ticket_id} never reached {done}")


def test_queue_detail_and_approve(client: httpx.Client) -> None:
    ticket_id = _suggested(client, "R-1")
    queue = client.get("/reviews", headers=AUTH).json()
    assert [i["ticket_id"] for i in queue] == [ticket_id]
    assert queue[0]["subject"] == SSO["subject"] and queue[0]["draft_excerpt"]
    assert client.get("/reviews", headers=AUTH, params={"language": "uk"}).json() == []
    assert client.get("/reviews").status_code == 401

    detail = client.get(f"/reviews/{ticket_id}", headers=AUTH).json()
    assert detail["body"].startswith("We're rolling") and detail["draft"]
    assert detail["triage"]["category"]["confidence"] >= 0 and detail["decision"]["reason"]
    cited = detail["citations"][0]
    doc = client.get(cited["url"], headers=AUTH)
    assert doc.status_code == 200 and len(doc.json()["text"]) > 50
    assert client.get("/kb/docs/NOPE-1", headers=AUTH).status_code == 404

    r = client.post(f"/reviews/{ticket_id}", headers=AUTH, json={"action": "approve"})
    assert r.status_code == 202, r.text
    got = _wait_status(client, ticket_id, {"done", "writeback_failed"})
    assert got["status"] == "done"
    assert got["review"]["action"] == "approve" and got["review"]["by"] == "bootstrap"
    assert got["review"]["text"] == detail["draft"] == got["reply"]["text"]
    events = [(a["node"], a["event"]) for a in got["audit"]]
    assert ("review", "submitted") in events and ("review", "approve") in events
    assert client.get("/reviews", headers=AUTH).json() == []
    again = client.post(f"/reviews/{ticket_id}", headers=AUTH, json={"action": "approve"})
    assert again.status_code == 409 and "already reviewed" in again.text


def test_edit_sends_the_agents_text(client: httpx.Client) -> None:
    ticket_id = _suggested(client, "R-2")
    bad = client.post(f"/reviews/{ticket_id}", headers=AUTH, json={"action": "edit"})
    assert bad.status_code == 422 and "needs 'text'" in bad.text
    text = "Hi Raj, the audience must be https://sso.payflow.example/saml. I have set it for you. Olena"
    r = client.post(f"/reviews/{ticket_id}", headers=AUTH, json={"action": "edit", "text": text})
    assert r.status_code == 202
    got = _wait_status(client, ticket_id, {"done"})
    assert got["reply"]["text"] == text and got["review"]["action"] == "edit"
    detail = client.get(f"/reviews/{ticket_id}", headers=AUTH).json()
    assert detail["review"]["draft_text"] != text and detail["review"]["final_text"] == text


def test_reject_hands_off_with_the_reason(client: httpx.Client) -> None:
    ticket_id = _suggested(client, "R-3")
    assert client.post(f"/reviews/{ticket_id}", headers=AUTH, json={"action": "reject"}).status_code == 422
    r = client.post(f"/reviews/{ticket_id}", headers=AUTH, json={"action": "reject", "reason": "needs an SSO engineer"})
    assert r.status_code == 202
    got = _wait_status(client, ticket_id, {"handed_off"})
    assert got["decision"]["action"] == "handoff" and "review_rejected" in got["decision"]["rules"]
    assert "needs an SSO engineer" in got["decision"]["reason"] and "needs an SSO engineer" in got["handoff_note"]
    assert got["reply"] is None


def test_unknown_and_not_awaiting(client: httpx.Client) -> None:
    assert client.post("/reviews/nope", headers=AUTH, json={"action": "approve"}).status_code == 404
    handed = post_ticket(
        client,
        SECRET,
        {**SSO, "external_id": "R-4", "subject": "We were hacked", "body": "Someone logged into our admin account."},
    ).json()["ticket_id"]
    assert wait_finished(client, handed, KEY)["status"] == "handed_off"
    r = client.post(f"/reviews/{handed}", headers=AUTH, json={"action": "approve"})
    assert r.status_code == 409 and "not awaiting review" in r.text
    assert json.loads(r.text)["error"] == "conflict"


def test_approved_reply_is_written_back_once_after_the_interrupt(wb_settings: Any) -> None:
    """Zendesk: the suggestion writes only an internal note (with the draft); the public reply goes
    out once, after approval, and the ticket is solved; nothing is written twice."""
    ext = "8801"
    with FakeZendesk() as fake:
        fake.seed(ext)
        settings: Settings = wb_settings("zendesk", fake)
        with serve_in_thread(settings) as url, httpx.Client(base_url=url, timeout=30) as client:
            r = send(client, webhook("zendesk", ext, SSO["subject"], SSO["body"]))
            ticket_id = r.json()["ticket_id"]
            got = wait_finished(client, ticket_id, KEY)
            assert got["status"] == "awaiting_review", got["decision"]
            before = seen("zendesk", fake, ext)
            assert before.replies == [] and len(before.notes) == 1 and "review page" in before.notes[0]
            assert not before.resolved
            n_writes = len(writes(fake))

            r = client.post(f"/reviews/{ticket_id}", headers=AUTH, json={"action": "approve"})
            assert r.status_code == 202
            got = _wait_status(client, ticket_id, {"done", "writeback_failed"})
            assert got["status"] == "done", got["writeback"]
            after = seen("zendesk", fake, ext)
            assert after.replies == [got["reply"]["text"]] and after.resolved
            assert len(after.notes) == 2 and "approved by bootstrap" in after.notes[1]
            assert {"ai-reviewed", "ai-approved"} <= set(after.tags)
            assert len(writes(fake)) == n_writes + 4  # reply, note, tags, resolve: once each
            time.sleep(0.5)
            assert len(writes(fake)) == n_writes + 4
