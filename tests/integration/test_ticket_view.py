"""GET /tickets/{id} shows the ticket as the service read it, for every way in: the real app on loopback.

Each ticketing system's webhook is posted as that system sends it (signed or with its token); the
`ticket` the API answers must hold the description rendered to text (wiki markup, HTML, ADF), the
created time in the system's own clock (as UTC) and the system's own ids. Expected texts are written
by hand from the payloads.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from agent.settings import Settings
from evals.demo import signed_headers
from tests.integration.conftest import serve_in_thread
from tests.integration.test_webhooks_providers import (
    FD_TOKEN,
    KEY,
    YT_TOKEN,
    jira_post,
    settings_for,
    zendesk_post,
)
from tests.unit.test_webhook_providers import (
    FRESHDESK_LEGACY_TEXT,
    JIRA_ISSUE_CREATED,
    YOUTRACK_ISSUE_CREATED,
    ZENDESK_EVENT,
    ZENDESK_TRIGGER,
    fixture,
)

pytestmark = pytest.mark.integration

AUTH = {"authorization": f"Bearer {KEY}"}
VIEW_KEYS = {
    "subject",
    "body",
    "language",
    "requester",
    "customer",
    "product",
    "source",
    "external_id",
    "source_ids",
    "created_at",
    "received_at",
}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return settings_for(tmp_path)


@pytest.fixture
def client(settings: Settings) -> Iterator[httpx.Client]:
    with serve_in_thread(settings) as url, httpx.Client(base_url=url, timeout=30) as c:
        yield c


def view(client: httpx.Client, response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 202, response.text
    got = client.get(f"/tickets/{response.json()['ticket_id']}", headers=AUTH)
    assert got.status_code == 200, got.text
    ticket = got.json()["ticket"]
    assert set(ticket) == VIEW_KEYS  # the fields the agent reads, nothing else
    received = datetime.fromisoformat(ticket.pop("received_at"))
    assert abs(datetime.now(UTC) - received) < timedelta(minutes=5)
    if ticket["created_at"] is not None:
        ticket["created_at"] = datetime.fromisoformat(ticket["created_at"])
    return ticket


def post_freshdesk(client: httpx.Client, payload: dict[str, Any]) -> httpx.Response:
    return client.post("/webhooks/freshdesk", content=json.dumps(payload), headers={"X-Triage-Token": FD_TOKEN})


def post_youtrack(client: httpx.Client, payload: dict[str, Any]) -> httpx.Response:
    return client.post("/webhooks/youtrack", content=json.dumps(payload), headers={"X-YouTrack-Token": YT_TOKEN})


def _jira_cloud() -> dict[str, Any]:
    payload = copy.deepcopy(JIRA_ISSUE_CREATED)
    payload["issue"]["fields"]["description"] = (
        "Hi, the run for *Acme* is stuck since {{10:00}}.\n"
        "* see [status page|https://status.acme.example]\n"
        "* ask [~accountid:5b10a2844c20165700ede21g]\n"
        "{noformat}\nERR 42 *raw*\n{noformat}"
    )
    return payload


def _zendesk_trigger() -> dict[str, Any]:
    return {
        **ZENDESK_TRIGGER,
        "ticket_id": "35437",
        "description": "<p>Password reset fails.</p><p>Tried <b>twice</b>:<br>Chrome, Edge</p>",
        "created_at": "2024-04-17T15:18:00Z",
        "language": "en",
        "product": "sso",
    }


Poster = Callable[[httpx.Client, dict[str, Any]], httpx.Response]
CASES: list[tuple[str, Poster, Callable[[], dict[str, Any]], dict[str, Any]]] = [
    (
        "zendesk-event",
        zendesk_post,
        lambda: copy.deepcopy(ZENDESK_EVENT),
        {
            "subject": "Payslip not received",
            "body": "Maria never received her October payslip. Can you resend it?",
            "language": None,
            "requester": None,
            "customer": {
                "name": None,
                "tier": "standard",
                "requester_id": "8447388090494",
                "organization_id": "8447388093310",
            },
            "product": None,
            "source": "zendesk",
            "external_id": "5158",
            "source_ids": {"ticket_id": "5158"},
            "created_at": datetime(2025, 1, 8, 10, 12, 7, tzinfo=UTC),
        },
    ),
    (
        "zendesk-trigger-html",
        zendesk_post,
        _zendesk_trigger,
        {
            "subject": "Cannot log in",
            "body": "Password reset fails.\n\nTried twice:\nChrome, Edge",
            "language": "en",
            "requester": "jane@acme.example",
            "customer": {"name": None, "tier": "standard"},
            "product": "sso",
            "source": "zendesk",
            "external_id": "35437",
            "source_ids": {"ticket_id": "35437"},
            "created_at": datetime(2024, 4, 17, 15, 18, tzinfo=UTC),
        },
    ),
    (
        "jira-cloud-wiki",
        jira_post,
        _jira_cloud,
        {
            "subject": "Payroll run stuck in processing",
            "body": "Hi, the run for Acme is stuck since `10:00`.\n"
            "- see status page (https://status.acme.example)\n"
            "- ask @5b10a2844c20165700ede21g\n"
            "\n"
            "```\nERR 42 *raw*\n```",
            "language": None,
            "requester": "payroll@acme.example",
            "customer": {"name": None, "tier": "standard", "reporter_account_id": "qm:1b5c7f2e-aaaa:5f6c"},
            "product": None,
            "source": "jira",
            "external_id": "SUP-42",
            "source_ids": {"issue_id": "10057", "issue_key": "SUP-42"},
            "created_at": datetime(2024, 3, 22, 13, 20, tzinfo=UTC),
        },
    ),
    (
        "jira-server",
        jira_post,
        lambda: fixture("jira_server_issue_created.json"),
        {
            "subject": "SEPA export fails with ERR 42 since 2.14",
            "body": "## What happens\n\n"
            "Since the 2.14 upgrade the SEPA export for Acme Ltd fails; @jdoe saw it first.\n\n"
            "### Steps\n\n"
            '1. Open Payroll > Exports\n2. Pick `October 2017`\n  1. tick "SEPA"\n3. Press Export\n\n'
            '```xml\n<Document><Err code="42">*not bold*</Err></Document>\n```\n\n'
            "| Company | Employees | Status |\n| --- | --- | --- |\n| Acme Ltd | 312 | FAILED |\n"
            "| Beta GmbH | 48 | OK |\n\n"
            "Log: export-2018-01-11.log (https://files.acme.example/logs/export_2018_01_11.log) "
            "[image: error-dialog.png]",
            "language": None,
            "requester": "m.kowalski@acme.example",
            "customer": {"name": None, "tier": "standard", "reporter_name": "mkowalski"},
            "product": None,
            "source": "jira",
            "external_id": "PAY-118",
            "source_ids": {"issue_id": "10203", "issue_key": "PAY-118"},
            "created_at": datetime(2018, 1, 11, 12, 8, 4, tzinfo=UTC),
        },
    ),
    (
        "freshdesk-html",
        post_freshdesk,
        lambda: fixture("freshdesk_html_ticket_created.json"),
        {
            "subject": "Overtime missing from December payslip",
            "body": "Hello,\n\nthe overtime I logged in December (12 hours) is not on my payslip.\n\n"
            "1. Logged in the timesheet (https://time.beta.example/sheets/2024-12)\n"
            "2. Approved by my manager on 20.12.\n\n"
            "Could you check?\nThanks & regards,\nTom",
            "language": None,
            "requester": "tom@beta.example",
            "customer": {"name": "Beta GmbH", "tier": "standard"},
            "product": None,
            "source": "freshdesk",
            "external_id": "1043",
            "source_ids": {"ticket_id": "1043"},
            "created_at": datetime(2025, 1, 8, 10, 12, 7, tzinfo=UTC),
        },
    ),
    (
        "freshdesk-legacy",
        post_freshdesk,
        lambda: fixture("freshdesk_legacy_ticket_created.json"),
        {
            "subject": "Payslip PDF is blank",
            "body": FRESHDESK_LEGACY_TEXT,
            "language": None,
            "requester": "tom@beta.example",
            "customer": {"name": "Beta GmbH", "tier": "standard"},
            "product": None,
            "source": "freshdesk",
            "external_id": "4521",
            "source_ids": {"ticket_id": "4521"},
            "created_at": datetime(2025, 1, 8, 10, 12, tzinfo=UTC),
        },
    ),
    (
        "youtrack",
        post_youtrack,
        lambda: copy.deepcopy(YOUTRACK_ISSUE_CREATED),
        {
            "subject": "SSO login loops back to the sign-in page",
            "body": "Since this morning every user of **Acme** is sent back to sign-in.",
            "language": None,
            "requester": "jane@acme.example",
            "customer": {"name": None, "tier": "standard", "reporter_login": "jane.doe"},
            "product": None,
            "source": "youtrack",
            "external_id": "SUP-123",
            "source_ids": {"issue_id": "2-123", "id_readable": "SUP-123"},
            "created_at": datetime(2026, 9, 20, 2, 4, 50, tzinfo=UTC),
        },
    ),
]


@pytest.mark.parametrize(("post", "payload", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_provider_route_shows_the_ticket_it_read(
    client: httpx.Client, post: Poster, payload: Callable[[], dict[str, Any]], expected: dict[str, Any]
) -> None:
    assert view(client, post(client, payload())) == expected


def test_an_unreadable_or_absurd_created_time_is_dropped_not_refused(client: httpx.Client) -> None:
    yt = {**copy.deepcopy(YOUTRACK_ISSUE_CREATED), "id": "2-124", "idReadable": "SUP-124", "created": 99999999999999999}
    assert view(client, post_youtrack(client, yt))["created_at"] is None
    fd = {**fixture("freshdesk_html_ticket_created.json"), "ticket_id": 1044, "created_at": "{{ticket.created_on}}"}
    assert view(client, post_freshdesk(client, fd))["created_at"] is None
    jira = copy.deepcopy(JIRA_ISSUE_CREATED)
    jira["issue"].update(id="10060", key="SUP-45")
    jira["issue"]["fields"]["created"] = "0001-01-01T00:00:00.000+0100"
    assert view(client, jira_post(client, jira))["created_at"] is None


def test_an_adf_date_out_of_range_is_rendered_raw(client: httpx.Client) -> None:
    payload = copy.deepcopy(JIRA_ISSUE_CREATED)
    due = [{"type": "text", "text": "Due "}, {"type": "date", "attrs": {"timestamp": "99999999999999999"}}]
    payload["issue"]["fields"]["description"] = {"type": "doc", "content": [{"type": "paragraph", "content": due}]}
    assert view(client, jira_post(client, payload))["body"] == "Due 99999999999999999"


def generic_post(client: httpx.Client, settings: Settings, payload: dict[str, Any]) -> httpx.Response:
    assert settings.webhook_secret is not None
    body = json.dumps(payload).encode()
    headers = signed_headers(settings.webhook_secret.get_secret_value(), body)
    return client.post("/webhooks/generic", content=body, headers=headers)


GENERIC = {"external_id": "G-1", "subject": "VPN down", "body": "Since 9:00 nobody can connect."}


def test_generic_route_takes_an_optional_created_time_and_source_ids(client: httpx.Client, settings: Settings) -> None:
    ids = {"crm_case": "C-77", "crm_id": 77}  # a number is taken as its digits
    payload = {**GENERIC, "created_at": "2025-01-08T12:12:07+02:00", "source_ids": ids}
    assert view(client, generic_post(client, settings, payload)) == {
        "subject": "VPN down",
        "body": "Since 9:00 nobody can connect.",
        "language": None,
        "requester": None,
        "customer": {"name": None, "tier": "standard"},
        "product": None,
        "source": "generic",
        "external_id": "G-1",
        "source_ids": {"crm_case": "C-77", "crm_id": "77"},
        "created_at": datetime(2025, 1, 8, 10, 12, 7, tzinfo=UTC),
    }
    naive_time = {**GENERIC, "external_id": "G-2", "created_at": "2025-01-08T10:00:00"}
    naive = view(client, generic_post(client, settings, naive_time))
    assert naive["created_at"] == datetime(2025, 1, 8, 10, 0, tzinfo=UTC)  # no zone: UTC
    without = view(client, generic_post(client, settings, {**GENERIC, "external_id": "G-3"}))
    assert without["created_at"] is None and without["source_ids"] == {}


@pytest.mark.parametrize("created_at", ["1900-01-01T00:00:00Z", "2201-01-01T00:00:00Z", 99999999999999999, "soon"])
def test_generic_route_refuses_an_absurd_created_time_naming_the_field(
    client: httpx.Client, settings: Settings, created_at: object
) -> None:
    r = generic_post(client, settings, {**GENERIC, "created_at": created_at})
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["detail"]["errors"]] == ["created_at"]


def test_generic_route_bounds_source_ids(client: httpx.Client, settings: Settings) -> None:
    r = generic_post(client, settings, {**GENERIC, "source_ids": {f"id{i}": str(i) for i in range(17)}})
    assert r.status_code == 422 and r.json()["detail"]["errors"][0]["field"] == "source_ids"
    r = generic_post(client, settings, {**GENERIC, "source_ids": {"case": "x" * 256}})
    assert r.status_code == 422 and r.json()["detail"]["errors"][0]["field"] == "source_ids.case"


def test_intake_route_shows_its_ticket_too(client: httpx.Client) -> None:
    payload = {**GENERIC, "external_id": "I-1", "created_at": "2025-01-08T10:12:07Z", "language": "uk"}
    got = view(client, client.post("/intake/tickets", json=payload, headers=AUTH))
    assert got["source"] == "api" and got["language"] == "uk"
    assert got["created_at"] == datetime(2025, 1, 8, 10, 12, 7, tzinfo=UTC)
    r = client.post("/intake/tickets", json={**payload, "external_id": "I-2", "created_at": "1800-01-01"}, headers=AUTH)
    assert r.status_code == 422 and r.json()["detail"]["errors"][0]["field"] == "created_at"
