"""Ticketing-system webhooks without HTTP: signatures and tokens, ADF rendering, payload normalisers.

Payloads are shaped like the providers' documented examples (Zendesk ticket events, Jira Cloud
issue webhooks, the YouTrack Webhook Triggers app) or the bodies the README tells admins to paste.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from agent.settings import Settings
from api.providers import Intake, PayloadError, Skip, freshdesk, jira, parse_time, youtrack, zendesk
from tools.signing import SignatureError, check_token, sign_hub, sign_zendesk, verify_hub, verify_zendesk
from tools.ticketing.adf import adf_to_text, text_to_adf

# ---- Jira: X-Hub-Signature ------------------------------------------------------------------------


def test_jira_hub_signature_matches_the_documented_vector() -> None:
    sig = sign_hub("It's a Secret to Everybody", b"Hello World!")
    assert sig == "sha256=a4771c39fbe90f317c7824e83ddef3caae9cb3d976c214ace1f2937e133263c9"
    verify_hub("It's a Secret to Everybody", {"X-Hub-Signature": sig}, b"Hello World!")


@pytest.mark.parametrize(
    ("headers", "body", "message"),
    [
        ({}, b"Hello World!", "missing header X-Hub-Signature"),
        ({"x-hub-signature": "sha1=a4771c39"}, b"Hello World!", "sha256="),
        ({"x-hub-signature": "a4771c39fbe90f317c7824e83ddef3caae9cb3d976c214ace1f2937e133263c9"}, b"x", "sha256="),
        (
            {"x-hub-signature": "sha256=a4771c39fbe90f317c7824e83ddef3caae9cb3d976c214ace1f2937e133263c9"},
            b"Hello World?",
            "does not match",
        ),
    ],
)
def test_jira_hub_signature_rejects(headers: dict[str, str], body: bytes, message: str) -> None:
    with pytest.raises(SignatureError, match=message):
        verify_hub("It's a Secret to Everybody", headers, body)


def test_jira_hub_signature_wrong_secret() -> None:
    sig = sign_hub("It's a Secret to Everybody", b"Hello World!")
    with pytest.raises(SignatureError, match="TRIAGE_JIRA_WEBHOOK_SECRET"):
        verify_hub("another secret", {"X-Hub-Signature": sig}, b"Hello World!")


# ---- Zendesk: base64(HMAC-SHA256(secret, timestamp + body)) ---------------------------------------

ZD_SECRET = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ=="


def zd_headers(ts: str, body: bytes, secret: str = ZD_SECRET) -> dict[str, str]:
    return {"X-Zendesk-Webhook-Signature": sign_zendesk(secret, ts, body), "X-Zendesk-Webhook-Signature-Timestamp": ts}


def test_zendesk_signature_is_base64_hmac_of_timestamp_then_body() -> None:
    body, ts = b'{"say": "hello"}', "2021-07-25T10:00:00Z"
    expected = base64.b64encode(hmac.new(ZD_SECRET.encode(), ts.encode() + body, hashlib.sha256).digest()).decode()
    assert sign_zendesk(ZD_SECRET, ts, body) == expected
    now = 1627207200.0  # 2021-07-25T10:00:00Z
    verify_zendesk(ZD_SECRET, zd_headers(ts, body), body, now=now)
    # body + timestamp (the other order) is not accepted
    flipped = base64.b64encode(hmac.new(ZD_SECRET.encode(), body + ts.encode(), hashlib.sha256).digest()).decode()
    with pytest.raises(SignatureError, match="does not match"):
        verify_zendesk(
            ZD_SECRET,
            {"x-zendesk-webhook-signature": flipped, "x-zendesk-webhook-signature-timestamp": ts},
            body,
            now=now,
        )


def test_zendesk_accepts_iso_and_epoch_timestamps_within_the_window() -> None:
    body = b"{}"
    now = time.time()
    iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 200))
    verify_zendesk(ZD_SECRET, zd_headers(iso, body), body, tolerance_s=300, now=now)
    verify_zendesk(ZD_SECRET, zd_headers(str(int(now)), body), body, tolerance_s=300, now=now)


@pytest.mark.parametrize("offset", [-301, 301])
def test_zendesk_rejects_stale_and_future_timestamps(offset: int) -> None:
    body = b"{}"
    now = time.time()
    ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + offset))
    with pytest.raises(SignatureError, match="window"):
        verify_zendesk(ZD_SECRET, zd_headers(ts, body), body, tolerance_s=300, now=now)


def test_zendesk_rejects_missing_headers_bad_timestamp_and_wrong_secret() -> None:
    body = b"{}"
    ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    with pytest.raises(SignatureError, match="missing header"):
        verify_zendesk(ZD_SECRET, {"X-Zendesk-Webhook-Signature": "abc"}, body)
    with pytest.raises(SignatureError, match="ISO 8601"):
        verify_zendesk(ZD_SECRET, zd_headers("yesterday", body), body)
    with pytest.raises(SignatureError, match="does not match"):
        verify_zendesk(ZD_SECRET, zd_headers(ts, body, secret="other"), body)
    with pytest.raises(SignatureError, match="does not match"):
        verify_zendesk(ZD_SECRET, zd_headers(ts, body), body + b" ")


# ---- shared tokens (Freshdesk, YouTrack) ----------------------------------------------------------


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_token_header_and_basic_auth() -> None:
    check_token({"X-YouTrack-Token": "t0k"}, "X-YouTrack-Token", "t0k")
    check_token({"x-youtrack-token": "t0k"}, "X-YouTrack-Token", "t0k")  # header names are case-insensitive
    check_token({"authorization": basic("triage", "t0k")}, "X-Triage-Token", "t0k", allow_basic=True)
    check_token({"authorization": basic("t0k", "X")}, "X-Triage-Token", "t0k", allow_basic=True)  # API-key style
    with pytest.raises(SignatureError, match="does not match"):
        check_token({"X-YouTrack-Token": "secret"}, "X-YouTrack-Token", "t0k")
    with pytest.raises(SignatureError, match="missing header X-YouTrack-Token"):
        check_token({}, "X-YouTrack-Token", "t0k")
    with pytest.raises(SignatureError, match="missing header"):  # basic auth only counts where allowed
        check_token({"authorization": basic("triage", "t0k")}, "X-YouTrack-Token", "t0k")
    with pytest.raises(SignatureError, match="basic-auth credentials do not match"):
        check_token({"authorization": basic("triage", "nope")}, "X-Triage-Token", "t0k", allow_basic=True)
    with pytest.raises(SignatureError, match="base64"):
        check_token({"authorization": "Basic %%%"}, "X-Triage-Token", "t0k", allow_basic=True)


# ---- settings ----------------------------------------------------------------------------------------


def test_settings_read_provider_secrets_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIAGE_JIRA_WEBHOOK_SECRET", "from-env")
    monkeypatch.setenv("TRIAGE_YOUTRACK_TOKEN_HEADER", "X-Other")
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert isinstance(s.jira_webhook_secret, SecretStr) and s.jira_webhook_secret.get_secret_value() == "from-env"
    assert s.youtrack_token_header == "X-Other" and s.freshdesk_token_header == "X-Triage-Token"
    assert s.zendesk_webhook_secret is None and s.zendesk_tolerance_s == 300


# ---- ADF -------------------------------------------------------------------------------------------


def text(t: str, *marks: dict[str, Any]) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "text", "text": t}
    if marks:
        node["marks"] = list(marks)
    return node


def para(*content: dict[str, Any]) -> dict[str, Any]:
    return {"type": "paragraph", "content": list(content)}


def item(*content: dict[str, Any]) -> dict[str, Any]:
    return {"type": "listItem", "content": list(content)}


ADF_DOC: dict[str, Any] = {
    "version": 1,
    "type": "doc",
    "content": [
        {"type": "heading", "attrs": {"level": 2}, "content": [text("Payslips missing")]},
        para(
            text("Hi "),
            {"type": "mention", "attrs": {"id": "5b10ac8d82e05b22cc7d4ef5", "text": "@Maria Lopez"}},
            text(", the "),
            text("October", {"type": "strong"}, {"type": "em"}),
            text(" run failed "),
            {"type": "emoji", "attrs": {"shortName": ":cry:", "id": "1f622", "text": "😢"}},
            {"type": "hardBreak"},
            text("see "),
            text("the status page", {"type": "link", "attrs": {"href": "https://status.example.com"}}),
            text(" and run "),
            text("payroll --retry", {"type": "code"}),
        ),
        {
            "type": "bulletList",
            "content": [
                item(
                    para(text("Acme Ltd")),
                    {
                        "type": "orderedList",
                        "attrs": {"order": 1},
                        "content": [item(para(text("Maria"))), item(para(text("Tom")))],
                    },
                ),
                item(para(text("Beta GmbH"))),
            ],
        },
        {"type": "codeBlock", "attrs": {"language": "text"}, "content": [text("ERR 42: bank file rejected")]},
        {
            "type": "table",
            "content": [
                {
                    "type": "tableRow",
                    "content": [
                        {"type": "tableHeader", "content": [para(text("Employee"))]},
                        {"type": "tableHeader", "content": [para(text("Status"))]},
                    ],
                },
                {
                    "type": "tableRow",
                    "content": [
                        {"type": "tableCell", "content": [para(text("Maria"))]},
                        {"type": "tableCell", "content": [para({"type": "status", "attrs": {"text": "FAILED"}})]},
                    ],
                },
            ],
        },
        {"type": "panel", "attrs": {"panelType": "info"}, "content": [para(text("Deadline is Friday."))]},
        {"type": "someFutureBlock", "content": [para(text("kept from an unknown block"))]},
        para(text("inline "), {"type": "someFutureInline", "content": [text("kept too")]}),
    ],
}


def test_adf_renders_a_realistic_description() -> None:
    assert adf_to_text(ADF_DOC) == "\n".join(
        [
            "## Payslips missing",
            "",
            "Hi @Maria Lopez, the October run failed 😢",
            "see the status page (https://status.example.com) and run `payroll --retry`",
            "",
            "- Acme Ltd",
            "  1. Maria",
            "  2. Tom",
            "- Beta GmbH",
            "",
            "```text",
            "ERR 42: bank file rejected",
            "```",
            "",
            "| Employee | Status |",
            "| --- | --- |",
            "| Maria | [FAILED] |",
            "",
            "Deadline is Friday.",
            "",
            "kept from an unknown block",
            "",
            "inline kept too",
        ]
    )


def test_adf_ordered_list_start_and_multiline_items() -> None:
    doc = {
        "type": "doc",
        "content": [
            {
                "type": "orderedList",
                "attrs": {"order": 3},
                "content": [
                    item(para(text("first"), {"type": "hardBreak"}, text("continued"))),
                    item(para(text("second"))),
                ],
            }
        ],
    }
    assert adf_to_text(doc) == "3. first\n   continued\n4. second"


@pytest.mark.parametrize(
    "doc",
    [
        None,
        7,
        [],
        {},
        {"type": "doc"},
        {"type": "doc", "content": "not a list"},
        {"type": "doc", "content": [None, 3, "loose", {"type": "paragraph", "content": [None, {"type": "text"}]}]},
        {"type": "heading", "attrs": {"level": "huge"}, "content": [text("x")]},
        {"type": "bulletList", "content": [{"type": "listItem"}, "junk"]},
        {"type": "mention", "attrs": None},
        {"type": "date", "attrs": {"timestamp": "not-a-number"}},
    ],
)
def test_adf_never_crashes_on_malformed_input(doc: object) -> None:
    assert isinstance(adf_to_text(doc), str)


def test_adf_small_nodes() -> None:
    assert adf_to_text("plain string") == "plain string"
    assert adf_to_text({"type": "mention", "attrs": {"id": "x", "text": "Ann"}}) == "@Ann"
    assert adf_to_text({"type": "date", "attrs": {"timestamp": "1700000000000"}}) == "2023-11-14"
    assert adf_to_text(para({"type": "inlineCard", "attrs": {"url": "https://x.test/1"}})) == "https://x.test/1"
    assert adf_to_text({"type": "blockquote", "content": [para(text("quoted"))]}) == "> quoted"


def test_text_to_adf_paragraphs_and_hard_breaks() -> None:
    doc = text_to_adf("Hello Maria,\r\nyour payslip is resent.\n\n\nThanks\n  \nPayFlow support")
    assert doc == {
        "version": 1,
        "type": "doc",
        "content": [
            para(text("Hello Maria,"), {"type": "hardBreak"}, text("your payslip is resent.")),
            para(text("Thanks")),
            para(text("PayFlow support")),
        ],
    }
    assert text_to_adf("") == {"version": 1, "type": "doc", "content": []}
    assert text_to_adf("  \n\n ") == {"version": 1, "type": "doc", "content": []}


def test_text_to_adf_round_trips_through_adf_to_text() -> None:
    original = "Line one\nline two\n\nSecond paragraph"
    assert adf_to_text(text_to_adf(original)) == original


def test_text_to_adf_never_emits_empty_text_nodes() -> None:
    doc = text_to_adf("a\n\nb\n")
    for p in doc["content"]:  # type: ignore[union-attr]
        for node in p["content"]:  # type: ignore[index]
            assert node["type"] == "hardBreak" or node["text"]  # type: ignore[index]


# ---- normalisers ----------------------------------------------------------------------------------

ZENDESK_EVENT: dict[str, Any] = {
    "account_id": 22129848,
    "detail": {
        "actor_id": "8447388090494",
        "assignee_id": None,
        "brand_id": "8447153448830",
        "created_at": "2025-01-08T10:12:07Z",
        "custom_status": "8447388092286",
        "description": "Maria never received her October payslip. Can you resend it?",
        "external_id": None,
        "form_id": "8646151517822",
        "group_id": "8447388092286",
        "id": "5158",
        "is_public": True,
        "organization_id": "8447388093310",
        "priority": "LOW",
        "requester_id": "8447388090494",
        "status": "NEW",
        "subject": "Payslip not received",
        "submitter_id": "8447388090494",
        "tags": ["payroll"],
        "type": "QUESTION",
        "updated_at": "2025-01-08T10:12:07Z",
        "via": {"channel": "web_service"},
    },
    "event": {"meta": {"sequence": {"id": "01JH3XYZ", "position": 1, "total": 1}}},
    "id": "cbe4028c-7239-495d-b020-f22348516046",
    "subject": "zen:ticket:5158",
    "time": "2025-01-08T10:12:07.672717030Z",
    "type": "zen:event-type:ticket.created",
    "zendesk_event_version": "2022-11-06",
}


def test_zendesk_event_ticket_created() -> None:
    got = zendesk.parse(copy.deepcopy(ZENDESK_EVENT), {})
    assert isinstance(got, Intake)
    assert got.delivery_id == "cbe4028c-7239-495d-b020-f22348516046"
    assert got.fields == {
        "external_id": "5158",
        "subject": "Payslip not received",
        "body": "Maria never received her October payslip. Can you resend it?",
        "customer": {"requester_id": "8447388090494", "organization_id": "8447388093310"},
        "created_at": datetime(2025, 1, 8, 10, 12, 7, tzinfo=UTC),
        "source_ids": {"ticket_id": "5158"},
    }


def test_zendesk_other_events_are_skipped() -> None:
    event = {**copy.deepcopy(ZENDESK_EVENT), "type": "zen:event-type:ticket.comment_added"}
    got = zendesk.parse(event, {})
    assert isinstance(got, Skip) and got.event == "zen:event-type:ticket.comment_added"


def test_zendesk_event_schema_errors_name_the_field() -> None:
    event = copy.deepcopy(ZENDESK_EVENT)
    del event["detail"]["id"]
    with pytest.raises(ValidationError, match=r"detail\.id"):
        zendesk.parse(event, {})
    empty = copy.deepcopy(ZENDESK_EVENT)
    empty["detail"].update(subject="", description=None)
    with pytest.raises(PayloadError) as exc:
        zendesk.parse(empty, {})
    assert exc.value.field == "detail.description"


ZENDESK_TRIGGER = {
    "event": "ticket.created",
    "ticket_id": "35436",
    "subject": "Cannot log in",
    "description": "------------------------------\n\nJane, Apr 17, 2024, 17:18\n\nPassword reset fails",
    "requester": "jane@acme.example",
    "organization": "",
}


def test_zendesk_trigger_body() -> None:
    got = zendesk.parse(dict(ZENDESK_TRIGGER), {})
    assert isinstance(got, Intake)
    assert got.delivery_id == "trigger:35436:ticket.created"
    assert got.fields["external_id"] == "35436" and got.fields["requester"] == "jane@acme.example"
    assert got.fields["body"].endswith("Password reset fails")
    assert "customer" not in got.fields  # an empty {{ticket.organization.name}} is no customer
    with_id = zendesk.parse({**ZENDESK_TRIGGER, "ticket_id": 35436, "delivery_id": "d-1", "organization": "Acme"}, {})
    assert isinstance(with_id, Intake)
    assert with_id.delivery_id == "d-1" and with_id.fields["customer"] == {"name": "Acme"}
    assert isinstance(zendesk.parse({**ZENDESK_TRIGGER, "event": "ticket.updated"}, {}), Skip)
    with pytest.raises(ValidationError, match="ticket_id"):
        zendesk.parse({"subject": "x", "description": "y"}, {})


JIRA_ISSUE_CREATED: dict[str, Any] = {
    "timestamp": 1711113600123,
    "webhookEvent": "jira:issue_created",
    "issue_event_type_name": "issue_created",
    "user": {
        "self": "https://acme.atlassian.net/rest/api/2/user?accountId=5b10a2844c20165700ede21g",
        "accountId": "5b10a2844c20165700ede21g",
        "displayName": "Mia Krystof",
        "active": True,
        "timeZone": "Europe/London",
        "accountType": "atlassian",
    },
    "issue": {
        "id": "10057",
        "self": "https://acme.atlassian.net/rest/api/2/10057",
        "key": "SUP-42",
        "fields": {
            "issuetype": {"id": "10003", "name": "[System] Service request", "subtask": False},
            "project": {"id": "10000", "key": "SUP", "name": "Support", "projectTypeKey": "service_desk"},
            "created": "2024-03-22T13:20:00.000+0000",
            "priority": {"id": "3", "name": "Medium"},
            "labels": [],
            "status": {"id": "10001", "name": "Waiting for support"},
            "summary": "Payroll run stuck in processing",
            "description": "Our payroll run has been *processing* for 3 hours.",
            "reporter": {
                "accountId": "qm:1b5c7f2e-aaaa:5f6c",
                "emailAddress": "payroll@acme.example",
                "displayName": "Acme Payroll",
                "accountType": "customer",
            },
        },
    },
}


def test_jira_issue_created_with_string_description() -> None:
    headers = {"X-Atlassian-Webhook-Identifier": "d0d3c7a4-8b7e-4c2e-9f7e-1a2b3c4d5e6f"}
    got = jira.parse(copy.deepcopy(JIRA_ISSUE_CREATED), headers)
    assert isinstance(got, Intake)
    assert got.delivery_id == "d0d3c7a4-8b7e-4c2e-9f7e-1a2b3c4d5e6f"
    assert got.fields == {
        "external_id": "SUP-42",
        "subject": "Payroll run stuck in processing",
        "body": "Our payroll run has been processing for 3 hours.",  # wiki markup rendered
        "requester": "payroll@acme.example",
        "customer": {"reporter_account_id": "qm:1b5c7f2e-aaaa:5f6c"},
        "created_at": datetime(2024, 3, 22, 13, 20, tzinfo=UTC),
        "source_ids": {"issue_id": "10057", "issue_key": "SUP-42"},
    }


def test_jira_issue_created_with_adf_description_and_no_identifier_header() -> None:
    payload = copy.deepcopy(JIRA_ISSUE_CREATED)
    payload["issue"]["fields"]["description"] = ADF_DOC
    del payload["issue"]["fields"]["reporter"]["emailAddress"]  # hidden by the user's privacy settings
    got = jira.parse(payload, {})
    assert isinstance(got, Intake)
    assert got.fields["body"] == adf_to_text(ADF_DOC)
    assert "@Maria Lopez" in got.fields["body"] and "- Acme Ltd" in got.fields["body"]
    assert got.fields["requester"] == "Acme Payroll"
    assert got.delivery_id == "10057:jira:issue_created"


def test_jira_other_events_skipped_and_schema_errors_named() -> None:
    updated = {**copy.deepcopy(JIRA_ISSUE_CREATED), "webhookEvent": "jira:issue_updated"}
    assert isinstance(jira.parse(updated, {}), Skip)
    missing = copy.deepcopy(JIRA_ISSUE_CREATED)
    del missing["issue"]["fields"]["summary"]
    with pytest.raises(ValidationError, match=r"issue\.fields\.summary"):
        jira.parse(missing, {})
    with pytest.raises(ValidationError, match="webhookEvent"):
        jira.parse({"issue": JIRA_ISSUE_CREATED["issue"]}, {})


FRESHDESK_BODY = {
    "event": "ticket_created",
    "ticket_id": "1042",
    "subject": "Wrong tax code on payslip",
    "description": "Hello, my tax code changed in April but the payslip still shows 1257L.",
    "requester": "tom@beta.example",
    "company": "Beta GmbH",
}


def test_freshdesk_body() -> None:
    got = freshdesk.parse(dict(FRESHDESK_BODY), {})
    assert isinstance(got, Intake)
    assert got.delivery_id == "1042:ticket_created"
    assert got.fields == {
        "external_id": "1042",
        "subject": "Wrong tax code on payslip",
        "body": "Hello, my tax code changed in April but the payslip still shows 1257L.",
        "requester": "tom@beta.example",
        "customer": {"name": "Beta GmbH"},
        "source_ids": {"ticket_id": "1042"},
    }
    assert isinstance(freshdesk.parse({**FRESHDESK_BODY, "event": "ticket_updated"}, {}), Skip)
    with pytest.raises(ValidationError, match="ticket_id"):
        freshdesk.parse({k: v for k, v in FRESHDESK_BODY.items() if k != "ticket_id"}, {})
    with pytest.raises(ValidationError, match="ticket_id"):
        freshdesk.parse({**FRESHDESK_BODY, "ticket_id": ""}, {})


YOUTRACK_ISSUE_CREATED: dict[str, Any] = {
    "event": "issueCreated",
    "timestamp": "2026-09-20T02:04:50.000Z",
    "created": 1789869890000,
    "id": "2-123",
    "idReadable": "SUP-123",
    "numberInProject": 123,
    "summary": "SSO login loops back to the sign-in page",
    "description": "Since this morning every user of **Acme** is sent back to sign-in.",
    "project": {"id": "0-2", "key": "SUP", "name": "Support", "shortName": "SUP"},
    "reporter": {"login": "jane.doe", "fullName": "Jane Doe", "email": "jane@acme.example"},
}


def test_youtrack_issue_created() -> None:
    got = youtrack.parse(copy.deepcopy(YOUTRACK_ISSUE_CREATED), {})
    assert isinstance(got, Intake)
    assert got.delivery_id == "2-123:issueCreated"
    assert got.fields == {
        "external_id": "SUP-123",
        "subject": "SSO login loops back to the sign-in page",
        "body": "Since this morning every user of **Acme** is sent back to sign-in.",
        "requester": "jane@acme.example",
        "customer": {"reporter_login": "jane.doe"},
        "created_at": datetime(2026, 9, 20, 2, 4, 50, tzinfo=UTC),
        "source_ids": {"issue_id": "2-123", "id_readable": "SUP-123"},
    }


def test_youtrack_external_id_fallbacks_and_skips() -> None:
    no_readable = {k: v for k, v in YOUTRACK_ISSUE_CREATED.items() if k != "idReadable"}
    got = youtrack.parse(no_readable, {})
    assert isinstance(got, Intake) and got.fields["external_id"] == "SUP-123"
    bare = {k: v for k, v in no_readable.items() if k not in ("numberInProject", "project", "reporter")}
    got = youtrack.parse(bare, {})
    assert isinstance(got, Intake) and got.fields["external_id"] == "2-123" and "requester" not in got.fields
    assert isinstance(youtrack.parse({**YOUTRACK_ISSUE_CREATED, "event": "issueUpdated"}, {}), Skip)
    with pytest.raises(ValidationError, match="event"):
        youtrack.parse({k: v for k, v in YOUTRACK_ISSUE_CREATED.items() if k != "event"}, {})


# ---- what real accounts send: wiki markup, HTML, legacy bodies, created times, unread fields ---------

FIXTURES = Path(__file__).parents[1] / "fixtures"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-01-08T10:12:07Z", datetime(2025, 1, 8, 10, 12, 7, tzinfo=UTC)),  # Zendesk
        ("2025-01-08T10:12:07.672717030Z", datetime(2025, 1, 8, 10, 12, 7, 672717, tzinfo=UTC)),  # nanoseconds
        ("2025-01-08T10:12:07.000+0000", datetime(2025, 1, 8, 10, 12, 7, tzinfo=UTC)),  # Jira
        ("2018-01-11T13:08:04.000+0100", datetime(2018, 1, 11, 12, 8, 4, tzinfo=UTC)),  # Jira Server, CET
        ("2018-1-11 13:08:04", datetime(2018, 1, 11, 13, 8, 4, tzinfo=UTC)),  # unpadded, no zone: UTC
        ("Wed, 8 Jan, 2025 at 10:12 AM", datetime(2025, 1, 8, 10, 12, tzinfo=UTC)),  # Freshdesk placeholder
        ("8 Jan, 2025 at 10:12 PM", datetime(2025, 1, 8, 22, 12, tzinfo=UTC)),
        ("Wed, 8 Jan, 2025 at 10:12 AM +0530", datetime(2025, 1, 8, 4, 42, tzinfo=UTC)),
        ("January 8, 2025 10:12", datetime(2025, 1, 8, 10, 12, tzinfo=UTC)),
        ("Wed, 08 Jan 2025 10:12:07 +0200", datetime(2025, 1, 8, 8, 12, 7, tzinfo=UTC)),  # RFC 2822
        ("31.12.2024 10:00", datetime(2024, 12, 31, 10, 0, tzinfo=UTC)),
        (1736331127, datetime(2025, 1, 8, 10, 12, 7, tzinfo=UTC)),  # epoch seconds
        (1736331127000, datetime(2025, 1, 8, 10, 12, 7, tzinfo=UTC)),  # epoch milliseconds (YouTrack)
        ("1736331127000", datetime(2025, 1, 8, 10, 12, 7, tzinfo=UTC)),
        (99999999999999999, None),  # out of range: dropped, never OverflowError
        ("99999999999999999", None),
        (1e308, None),
        (float("nan"), None),
        (float("inf"), None),
        (-5, None),
        ("0001-01-01T00:00:00+01:00", None),  # converting it to UTC would overflow
        ("9999-12-31T23:59:59-14:00", None),
        ("2201-01-01T00:00:00Z", None),
        ("1969-12-31T23:59:59Z", None),
        ("2025-13-45T10:00:00Z", None),
        ("31/12/2024 10:00", None),  # day or month first? not guessed
        ("{{ticket.created_at_with_timestamp}}", None),  # a placeholder left unrendered
        ("yesterday", None),
        ("", None),
        ("x" * 100, None),
        (True, None),
        (None, None),
        ([2025, 1, 8], None),
        ({"date": "2025-01-08"}, None),
    ],
)
def test_parse_time_reads_what_the_systems_write_and_drops_the_rest(value: object, expected: datetime | None) -> None:
    assert parse_time(value) == expected


def test_jira_server_webhook_with_wiki_markup_and_a_string_timestamp() -> None:
    got = jira.parse(fixture("jira_server_issue_created.json"), {})
    assert isinstance(got, Intake)
    assert got.delivery_id == "10203:jira:issue_created"  # Server sends no X-Atlassian-Webhook-Identifier
    assert got.fields == {
        "external_id": "PAY-118",
        "subject": "SEPA export fails with ERR 42 since 2.14",
        "body": "\n".join(
            [
                "## What happens",
                "",
                "Since the 2.14 upgrade the SEPA export for Acme Ltd fails; @jdoe saw it first.",
                "",
                "### Steps",
                "",
                "1. Open Payroll > Exports",
                "2. Pick `October 2017`",
                '  1. tick "SEPA"',
                "3. Press Export",
                "",
                "```xml",
                '<Document><Err code="42">*not bold*</Err></Document>',
                "```",
                "",
                "| Company | Employees | Status |",
                "| --- | --- | --- |",
                "| Acme Ltd | 312 | FAILED |",
                "| Beta GmbH | 48 | OK |",
                "",
                "Log: export-2018-01-11.log (https://files.acme.example/logs/export_2018_01_11.log) "
                "[image: error-dialog.png]",
            ]
        ),
        "requester": "m.kowalski@acme.example",
        "customer": {"reporter_name": "mkowalski"},
        "created_at": datetime(2018, 1, 11, 12, 8, 4, tzinfo=UTC),
        "source_ids": {"issue_id": "10203", "issue_key": "PAY-118"},
    }


def test_jira_fields_it_never_reads_cannot_refuse_the_ticket() -> None:
    payload = copy.deepcopy(JIRA_ISSUE_CREATED)
    payload["timestamp"] = "2018-1-11 13:08:04"
    payload["user"] = "not an object"
    payload["changelog"] = None
    payload["issue"]["fields"]["project"] = ["not", "an", "object"]
    payload["issue"]["fields"]["priority"] = None
    payload["issue"]["fields"]["reporter"] = "someone"  # read, but not an object: dropped
    payload["issue"]["fields"]["created"] = "9999-12-31T00:00:00.000+0000"  # absurd: dropped
    payload["issue"]["id"] = 10057  # a number
    got = jira.parse(payload, {})
    assert isinstance(got, Intake)
    assert got.fields == {
        "external_id": "SUP-42",
        "subject": "Payroll run stuck in processing",
        "body": "Our payroll run has been processing for 3 hours.",
        "source_ids": {"issue_id": "10057", "issue_key": "SUP-42"},
    }


def test_zendesk_event_fields_it_never_reads_cannot_refuse_the_ticket() -> None:
    event = copy.deepcopy(ZENDESK_EVENT)
    event["account_id"] = "not-a-number"
    event["detail"].update(
        brand_id=True, tags=None, priority=5, via="web", requester_id=8447388090494, organization_id={"id": 1}
    )
    del event["detail"]["created_at"]  # then the event's own time
    got = zendesk.parse(event, {})
    assert isinstance(got, Intake)
    assert got.fields["customer"] == {"requester_id": "8447388090494"}
    assert got.fields["created_at"] == datetime(2025, 1, 8, 10, 12, 7, 672717, tzinfo=UTC)


def test_zendesk_trigger_with_created_time_html_and_an_overlong_hint() -> None:
    body = {
        **ZENDESK_TRIGGER,
        "ticket_id": 35436,
        "description": "<p>Password reset fails.</p><p>Tried <b>twice</b>:<br>Chrome, Edge</p>",
        "created_at": "2024-04-17T15:18:00Z",  # {{ticket.created_at_with_timestamp}}
        "language": "Português (Brasil)",  # {{ticket.requester.language}}: no language code, dropped
    }
    got = zendesk.parse(body, {})
    assert isinstance(got, Intake)
    assert got.fields == {
        "external_id": "35436",
        "subject": "Cannot log in",
        "body": "Password reset fails.\n\nTried twice:\nChrome, Edge",
        "requester": "jane@acme.example",
        "created_at": datetime(2024, 4, 17, 15, 18, tzinfo=UTC),
        "source_ids": {"ticket_id": "35436"},
    }
    unrendered = zendesk.parse({**ZENDESK_TRIGGER, "created_at": "not a time"}, {})
    assert isinstance(unrendered, Intake) and "created_at" not in unrendered.fields
    # a plain-text description that only mentions a tag stays as typed
    plain = zendesk.parse({**ZENDESK_TRIGGER, "description": "The <div> on line 2\nis gone"}, {})
    assert isinstance(plain, Intake) and plain.fields["body"] == "The <div> on line 2\nis gone"


FRESHDESK_LEGACY_TEXT = "\n".join(
    [
        "Hi,",
        "",
        "the PDF of my November payslip opens blank & empty.",
        "Steps I tried:",
        "",
        "- Chrome and Firefox",
        "- re-downloading from the portal (https://portal.beta.example/payslips)",
        "",
        "Regards,",
        "Tom Becker",
    ]
)


def test_freshdesk_html_description() -> None:
    got = freshdesk.parse(fixture("freshdesk_html_ticket_created.json"), {})
    assert isinstance(got, Intake)
    assert got.delivery_id == "1043:ticket_created"
    assert got.fields == {
        "external_id": "1043",
        "subject": "Overtime missing from December payslip",
        "body": "\n".join(
            [
                "Hello,",
                "",
                "the overtime I logged in December (12 hours) is not on my payslip.",
                "",
                "1. Logged in the timesheet (https://time.beta.example/sheets/2024-12)",
                "2. Approved by my manager on 20.12.",
                "",
                "Could you check?",
                "Thanks & regards,",
                "Tom",
            ]
        ),
        "requester": "tom@beta.example",
        "customer": {"name": "Beta GmbH"},
        "created_at": datetime(2025, 1, 8, 10, 12, 7, tzinfo=UTC),
        "source_ids": {"ticket_id": "1043"},
    }


def test_freshdesk_legacy_wrapper_is_the_same_event() -> None:
    got = freshdesk.parse(fixture("freshdesk_legacy_ticket_created.json"), {})
    assert isinstance(got, Intake)
    assert got.delivery_id == "4521:ticket_created"  # the modern body's key: the two formats dedupe
    assert got.fields == {
        "external_id": "4521",
        "subject": "Payslip PDF is blank",
        "body": FRESHDESK_LEGACY_TEXT,
        "requester": "tom@beta.example",
        "customer": {"name": "Beta GmbH"},
        "created_at": datetime(2025, 1, 8, 10, 12, tzinfo=UTC),
        "source_ids": {"ticket_id": "4521"},
    }
    modern = freshdesk.parse({"ticket_id": "4521", "subject": "Payslip PDF is blank", "description": "x"}, {})
    assert isinstance(modern, Intake) and modern.delivery_id == got.delivery_id


def test_freshdesk_legacy_variants() -> None:
    inner = fixture("freshdesk_legacy_ticket_created.json")["freshdesk_webhook"]
    # the ticket_-prefixed requester keys, a plain-text description only, no event, no created time
    renamed = {k: v for k, v in inner.items() if k not in ("requester_email", "requester_name", "triggered_event")}
    renamed.update(
        ticket_requester_name="Tom Becker",
        ticket_description="",
        ticket_description_text="PDF is blank.\nPlease help.",
        ticket_created_at="",
    )
    got = freshdesk.parse({"freshdesk_webhook": renamed}, {})
    assert isinstance(got, Intake)
    assert got.fields["requester"] == "Tom Becker"
    assert got.fields["body"] == "PDF is blank.\nPlease help."
    assert "created_at" not in got.fields
    updated = {"freshdesk_webhook": {**inner, "triggered_event": "{status:{from:Open,to:Resolved}}"}}
    skipped = freshdesk.parse(updated, {})
    assert isinstance(skipped, Skip) and skipped.event == "{status:{from:Open,to:Resolved}}"
    with pytest.raises(ValidationError, match=r"freshdesk_webhook\.ticket_id"):
        freshdesk.parse({"freshdesk_webhook": {k: v for k, v in inner.items() if k != "ticket_id"}}, {})
    with pytest.raises(PayloadError) as exc:
        freshdesk.parse({"freshdesk_webhook": {"ticket_id": 1, "ticket_subject": "", "ticket_description": ""}}, {})
    assert exc.value.field == "freshdesk_webhook.ticket_description"


def test_freshdesk_modern_body_leniency() -> None:
    body = {
        **FRESHDESK_BODY,
        "ticket_id": 1042,
        "description": "",
        "description_text": "Plain text\nfrom description_text",
        "created_at": "Wed, 8 Jan, 2025 at 10:12 AM",
        "tier": None,
        "company": {"name": "not text"},
        "priority": "Medium",
        "status": 2,
    }
    got = freshdesk.parse(body, {})
    assert isinstance(got, Intake)
    assert got.fields == {
        "external_id": "1042",
        "subject": "Wrong tax code on payslip",
        "body": "Plain text\nfrom description_text",
        "requester": "tom@beta.example",
        "created_at": datetime(2025, 1, 8, 10, 12, tzinfo=UTC),
        "source_ids": {"ticket_id": "1042"},
    }


def test_youtrack_created_time_ids_and_leniency() -> None:
    payload = {
        **copy.deepcopy(YOUTRACK_ISSUE_CREATED),
        "created": 99999999999999999,  # out of range: dropped, the ticket kept
        "idReadable": None,
        "numberInProject": "123",
        "reporter": None,
        "updated": "whenever",
    }
    got = youtrack.parse(payload, {})
    assert isinstance(got, Intake)
    assert got.fields == {
        "external_id": "SUP-123",
        "subject": "SSO login loops back to the sign-in page",
        "body": "Since this morning every user of **Acme** is sent back to sign-in.",
        "source_ids": {"issue_id": "2-123", "id_readable": "SUP-123"},
    }
    bare = youtrack.parse({"event": "issueCreated", "id": "2-9", "summary": "x", "project": "SUP"}, {})
    assert isinstance(bare, Intake)
    assert bare.fields["external_id"] == "2-9" and bare.fields["source_ids"] == {"issue_id": "2-9"}
