"""Bad input over real HTTP (the real app under uvicorn on loopback, no worker), on SQLite and on
PostgreSQL (which, unlike SQLite, enforces VARCHAR(255) and refuses NUL characters).

Every request here is correctly signed and was a 500 before: JSON nested 10,000 deep, a 5,000-digit
integer, delivery and external ids over 255 characters, `at` at datetime's edges, plus oversized
headers and unauthenticated signature headers no parser expected. Each now gets a 4xx naming the
problem (or, for an over-long delivery id, is stored under its hash and still deduped), and a
ticket stored before any of it is exactly as it was afterwards.
"""

from __future__ import annotations

import copy
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select

from agent.settings import Settings
from agent.storage.tickets import TicketRow, TicketStore
from api.app import create_app
from evals.demo import signed_headers
from tests.integration.conftest import serve_in_thread
from tests.integration.test_roles import make_key
from tests.integration.test_webhooks_providers import FD_TOKEN, JIRA_SECRET, KEY, YT_TOKEN, ZD_SECRET, settings_for
from tests.integration.test_writeback_e2e import pg_url as pg_url  # the fixture: a throwaway schema
from tests.unit.test_webhook_providers import (
    FRESHDESK_BODY,
    JIRA_ISSUE_CREATED,
    YOUTRACK_ISSUE_CREATED,
    ZENDESK_EVENT,
    ZENDESK_TRIGGER,
)
from tools.signing import sign_hub, sign_zendesk

pytestmark = pytest.mark.integration
AUTH = {"authorization": f"Bearer {KEY}"}
GENERIC = {"external_id": "EXT-1", "subject": "Payslip missing", "body": "I did not get my October payslip."}
ROUTES = ("generic", "intake", "zendesk", "jira", "freshdesk", "youtrack")
# a valid body for each route: the providers' documented shapes from the unit tests
VALID: dict[str, dict[str, Any]] = {
    "generic": GENERIC,
    "intake": GENERIC,
    "zendesk": ZENDESK_TRIGGER,
    "jira": JIRA_ISSUE_CREATED,
    "freshdesk": FRESHDESK_BODY,
    "youtrack": YOUTRACK_ISSUE_CREATED,
}
PATHS = {"generic": "/webhooks/generic", "intake": "/intake/tickets"} | {
    p: f"/webhooks/{p}" for p in ("zendesk", "jira", "freshdesk", "youtrack")
}


def signed(route: str, body: bytes, secret: str, delivery: str | None = None) -> dict[str, str]:
    """Headers that make `body` a correctly signed (or token-carrying) delivery to `route`.
    `delivery`: the webhook-id, X-Atlassian-Webhook-Identifier or Idempotency-Key to send."""
    headers = {"content-type": "application/json"}
    if route == "generic":
        headers |= signed_headers(secret, body, delivery)
    elif route == "intake":
        headers |= AUTH | ({"Idempotency-Key": delivery} if delivery is not None else {})
    elif route == "zendesk":
        ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        headers |= {"X-Zendesk-Webhook-Signature": sign_zendesk(ZD_SECRET, ts, body)}
        headers |= {"X-Zendesk-Webhook-Signature-Timestamp": ts}
    elif route == "jira":
        headers |= {"X-Hub-Signature": sign_hub(JIRA_SECRET, body)}
        if delivery is not None:
            headers["X-Atlassian-Webhook-Identifier"] = delivery
    elif route == "freshdesk":
        headers["X-Triage-Token"] = FD_TOKEN
    elif route == "youtrack":
        headers["X-YouTrack-Token"] = YT_TOKEN
    return headers


class Sender:
    """Posts correctly signed bodies to each intake route of a running service."""

    def __init__(self, client: httpx.Client, settings: Settings) -> None:
        self.client = client
        secret = settings.webhook_secret
        assert isinstance(secret, SecretStr)
        self.secret = secret.get_secret_value()

    def post(self, route: str, body: bytes | dict[str, Any], delivery: str | None = None) -> httpx.Response:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        return self.client.post(PATHS[route], content=raw, headers=signed(route, raw, self.secret, delivery))


def jira_issue(**issue: object) -> dict[str, Any]:
    """The documented Jira payload with some of `issue`'s members replaced."""
    return {**JIRA_ISSUE_CREATED, "issue": {**JIRA_ISSUE_CREATED["issue"], **issue}}


def with_extra(route: str, extra: bytes) -> bytes:
    """The route's valid body with one more member, `"extra": <extra>` (raw JSON bytes)."""
    base = json.dumps(VALID[route]).encode()
    return base[:-1] + b', "extra": ' + extra + b"}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'triage.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return settings_for(tmp_path, database_url=db_url, max_header_bytes=4096)


@pytest.fixture
def client(settings: Settings) -> Iterator[httpx.Client]:
    with serve_in_thread(settings) as url, httpx.Client(base_url=url, timeout=30) as c:
        yield c


@pytest.fixture
def sender(client: httpx.Client, settings: Settings) -> Sender:
    return Sender(client, settings)


def snapshot(settings: Settings) -> dict[str, Any]:
    """Every stored ticket as GET would show it (row, payload, result, audit), by id."""
    store = TicketStore(settings.db_url)
    try:
        with store.session() as s:
            ids = list(s.scalars(select(TicketRow.id)))
        return {ticket_id: store.get(ticket_id) for ticket_id in ids}
    finally:
        store.engine.dispose()


def stored_delivery_ids(settings: Settings) -> dict[str, str]:
    return {tid: row["audit"][0]["detail"]["delivery_id"] for tid, row in snapshot(settings).items()}


def assert_error(r: httpx.Response, status: int, *fragments: str) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error", "detail"}, body
    for fragment in fragments:
        assert fragment in json.dumps(body["detail"]), (fragment, body)


# ---- JSON nesting and numbers, on every intake route ---------------------------------------------


def test_deep_json_and_huge_numbers_are_422_on_every_route_and_store_nothing(
    sender: Sender, settings: Settings
) -> None:
    kept = sender.post("generic", GENERIC, delivery=f"msg_{uuid.uuid4().hex}")
    assert kept.status_code == 202, kept.text
    before = snapshot(settings)
    for route in ROUTES:
        deep_array = with_extra(route, b"[" * 10_000 + b"]" * 10_000)
        assert_error(sender.post(route, deep_array), 422, "10001 levels deep", "at most 100")  # +1: the body
        deep_object = with_extra(route, b'{"a": ' * 10_000 + b"1" + b"}" * 10_000)
        assert_error(sender.post(route, deep_object), 422, "10001 levels deep")
        assert_error(sender.post(route, with_extra(route, b"9" * 5000)), 422, "5000 characters long")
        assert_error(sender.post(route, with_extra(route, b"1e999")), 422, "64-bit float")
        assert_error(sender.post(route, with_extra(route, b"NaN")), 400, "NaN is not a JSON number")
        assert_error(sender.post(route, b"[" * 10_000), 422, "10000 levels deep")  # unterminated too
    assert snapshot(settings) == before  # nothing stored, nothing changed


def test_a_huge_integer_id_is_refused_and_a_long_digit_string_is_a_422_naming_the_field(sender: Sender) -> None:
    body = json.dumps({**FRESHDESK_BODY, "ticket_id": "PLACEHOLDER"}).replace('"PLACEHOLDER"', "9" * 5000)
    assert_error(sender.post("freshdesk", body.encode()), 422, "5000 characters long")
    r = sender.post("freshdesk", {**FRESHDESK_BODY, "ticket_id": "9" * 5000})
    assert_error(r, 422, "ticket_id", "at most 255")


# ---- over-long ids: hashed delivery ids (deduped), 422 for external ids ---------------------------


def test_delivery_ids_over_255_characters_are_stored_hashed_and_still_dedupe(
    sender: Sender, settings: Settings
) -> None:
    long_id = "msg_" + "m" * 300
    first = sender.post("generic", GENERIC, delivery=long_id)
    assert first.status_code == 202, first.text
    again = sender.post("generic", GENERIC, delivery=long_id)
    assert again.status_code == 200 and again.json() == {"ticket_id": first.json()["ticket_id"], "duplicate": True}
    # an id that differs only past the 255th character is another delivery
    other = sender.post("generic", {**GENERIC, "external_id": "EXT-2"}, delivery=long_id[:-1] + "x")
    assert other.status_code == 202 and other.json()["ticket_id"] != first.json()["ticket_id"]

    identifier = "i" * 300
    jira = sender.post("jira", JIRA_ISSUE_CREATED, delivery=identifier)
    assert jira.status_code == 202, jira.text
    assert sender.post("jira", JIRA_ISSUE_CREATED, delivery=identifier).json()["ticket_id"] == jira.json()["ticket_id"]

    delivered = stored_delivery_ids(settings)
    assert delivered[first.json()["ticket_id"]].startswith("sha256:")
    assert delivered[jira.json()["ticket_id"]].startswith("sha256:")
    assert all(len(d) <= 255 for d in delivered.values())
    assert len(delivered) == 3


def test_derived_delivery_ids_from_ids_near_255_characters_are_hashed(sender: Sender, settings: Settings) -> None:
    """Jira without the identifier header dedupes on `<issue.id>:jira:issue_created`; a Zendesk
    trigger on `trigger:<ticket_id>:ticket.created`: 250-character ids make them longer than 255."""
    issue = copy.deepcopy(JIRA_ISSUE_CREATED)
    issue["issue"]["id"] = "1" * 250
    jira = sender.post("jira", issue)
    assert jira.status_code == 202, jira.text
    assert sender.post("jira", issue).json() == {"ticket_id": jira.json()["ticket_id"], "duplicate": True}

    trigger = {**ZENDESK_TRIGGER, "ticket_id": "7" * 250}
    zendesk = sender.post("zendesk", trigger)
    assert zendesk.status_code == 202, zendesk.text
    assert sender.post("zendesk", trigger).json() == {"ticket_id": zendesk.json()["ticket_id"], "duplicate": True}

    rows = snapshot(settings)
    assert rows[zendesk.json()["ticket_id"]]["external_id"] == "7" * 250  # the external id is kept whole
    assert all(row["audit"][0]["detail"]["delivery_id"].startswith("sha256:") for row in rows.values())


@pytest.mark.parametrize(
    ("route", "field", "payload"),
    [
        ("jira", "issue.key", lambda: jira_issue(key="K" * 300)),
        ("zendesk", "ticket_id", lambda: {**ZENDESK_TRIGGER, "ticket_id": "7" * 300}),
        ("zendesk", "delivery_id", lambda: {**ZENDESK_TRIGGER, "delivery_id": "d" * 300}),
        ("zendesk", "detail.id", lambda: {**ZENDESK_EVENT, "detail": {**ZENDESK_EVENT["detail"], "id": "5" * 300}}),
        ("freshdesk", "ticket_id", lambda: {**FRESHDESK_BODY, "ticket_id": "4" * 300}),
        ("youtrack", "id", lambda: {**YOUTRACK_ISSUE_CREATED, "id": "2" * 300, "idReadable": None}),
        ("generic", "external_id", lambda: {**GENERIC, "external_id": "E" * 300}),
        ("intake", "external_id", lambda: {**GENERIC, "external_id": "E" * 300}),
    ],
)
def test_external_ids_over_255_characters_are_422_naming_the_field(
    sender: Sender, settings: Settings, route: str, field: str, payload: Any
) -> None:
    assert_error(sender.post(route, payload()), 422, field, "at most 255")
    assert snapshot(settings) == {}


@pytest.mark.parametrize(
    ("route", "payload"),
    [
        ("jira", jira_issue(id="1" * 300)),
        ("youtrack", {**YOUTRACK_ISSUE_CREATED, "idReadable": "S" * 300}),
    ],
    ids=["jira-issue.id", "youtrack-idReadable"],
)
def test_optional_ids_over_255_characters_never_reach_the_database_as_they_are(
    sender: Sender, settings: Settings, route: str, payload: dict[str, Any]
) -> None:
    """Ids a ticket can do without (Jira's numeric issue.id next to its key, YouTrack's idReadable next
    to its id) may be refused (422) or dropped by api/schemas.py; either way, no 5xx, and what is
    stored fits its column and dedupes on redelivery."""
    r = sender.post(route, payload)
    assert r.status_code in (202, 422), r.text
    if r.status_code == 422:
        return
    assert sender.post(route, payload).json() == {"ticket_id": r.json()["ticket_id"], "duplicate": True}
    row = snapshot(settings)[r.json()["ticket_id"]]
    assert len(row["external_id"]) <= 255 and len(row["audit"][0]["detail"]["delivery_id"]) <= 255


def test_idempotency_keys_are_never_cut_short(sender: Sender, client: httpx.Client, settings: Settings) -> None:
    """Two 255-character Idempotency-Keys differing only at the end are two tickets (the key id prefix
    made them longer than 255, and cutting them at 255 deduped the second into the first); a
    256-character key is a 422 naming the header."""
    webhook_key = make_key(client, "webhook", "intake-sender")["key"]
    headers = {"content-type": "application/json", "authorization": f"Bearer {webhook_key}"}
    a, b = "k" * 254 + "a", "k" * 254 + "b"
    ids = []
    for key, ext in ((a, "I-1"), (b, "I-2")):
        body = json.dumps({**GENERIC, "external_id": ext})
        r = client.post("/intake/tickets", content=body, headers={**headers, "Idempotency-Key": key})
        assert r.status_code == 202, r.text
        resend = client.post("/intake/tickets", content=body, headers={**headers, "Idempotency-Key": key})
        assert resend.status_code == 200 and resend.json()["ticket_id"] == r.json()["ticket_id"]
        ids.append(r.json()["ticket_id"])
    assert ids[0] != ids[1]
    too_long = client.post("/intake/tickets", json=GENERIC, headers={**headers, "Idempotency-Key": "k" * 256})
    assert_error(too_long, 422, "header.idempotency-key", "at most 255")
    assert len(snapshot(settings)) == 2


def test_nul_and_lone_surrogates_in_ids_and_text_are_stored_as_replacement_characters(
    sender: Sender, settings: Settings
) -> None:
    odd = {"ticket_id": "35\u00006", "subject": "cut emoji \ud83d", "delivery_id": "d\x00"}
    raw = json.dumps({**ZENDESK_TRIGGER, **odd})
    r = sender.post("zendesk", raw.encode())  # json.dumps escapes both: \u0000, \ud83d
    assert r.status_code == 202, r.text
    row = snapshot(settings)[r.json()["ticket_id"]]
    assert row["external_id"] == "35\ufffd6" and row["ticket"]["subject"] == "cut emoji \ufffd"
    assert sender.post("zendesk", raw.encode()).status_code == 200  # the same delivery id after cleaning


# ---- datetimes at the edges ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "/sla/at-risk?at=0001-01-01T00:00:00%2B14:00",
        "/sla/at-risk?at=9999-12-31T23:59:59-12:00",
        "/routing/on-duty?at=0001-01-02T00:00:00Z",
        "/routing/on-duty?at=9999-12-31T00:00:00Z",
        "/routing/on-duty?at=1969-12-31T23:59:59Z",
        "/sla/at-risk?at=2200-01-01T00:00:00Z",
    ],
)
def test_at_outside_1970_to_2200_is_422_saying_the_range(client: httpx.Client, query: str) -> None:
    r = client.get(query, headers=AUTH)
    assert_error(r, 422, "query.at", "out of range", "1970-01-01T00:00:00Z", "2200-01-01T00:00:00Z")


@pytest.mark.parametrize("at", ["1970-01-01T00:00:00Z", "2199-12-31T23:59:59Z", "2199-12-31T11:00:00-12:00"])
def test_at_inside_the_window_answers(client: httpx.Client, at: str) -> None:
    for path in ("/sla/at-risk", "/routing/on-duty"):
        r = client.get(path, params={"at": at}, headers=AUTH)
        assert r.status_code == 200, r.text


# ---- headers -------------------------------------------------------------------------------------


def test_headers_over_the_limit_are_431_and_under_it_pass(client: httpx.Client, settings: Settings) -> None:
    assert settings.max_header_bytes == 4096
    big = client.get("/healthz", headers={"x-padding": "p" * 5000})
    assert_error(big, 431, "5", "the limit is 4096", "TRIAGE_MAX_HEADER_BYTES")
    assert big.json()["error"] == "headers_too_large"
    many = client.get("/healthz", headers=[(f"x-h{i}", "v" * 40) for i in range(100)])
    assert many.status_code == 431
    assert client.get("/healthz", headers={"x-padding": "p" * 3000}).status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/tickets/%00"),
        ("GET", "/reviews/ab%00c"),
        ("POST", "/reviews/%00"),
        ("POST", "/tickets/%00/writeback/retry"),
        ("DELETE", "/admin/keys/%00"),
        ("GET", "/reviews?queue=%00"),
    ],
)
def test_a_nul_in_the_url_is_400(client: httpx.Client, method: str, path: str) -> None:
    """PostgreSQL refuses NUL in text: looking up `/tickets/%00` was a database error, a 500."""
    r = client.request(method, path, headers=AUTH, json={"action": "approve"})
    assert_error(r, 400, "NUL character")


@pytest.mark.parametrize(("declared", "status"), [("9" * 5000, 413), ("99999999999999999999", 413), ("\u00b2", 422)])
def test_absurd_content_lengths_are_413_not_a_crash(tmp_path: Path, declared: str, status: int) -> None:
    """Straight into the ASGI app (uvicorn's parsers refuse these before the app sees them; another
    server may not): int() of 5,000 digits raised ValueError, and '²' passed str.isdigit()."""
    app = create_app(settings_for(tmp_path))
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": "/webhooks/freshdesk", "raw_path": b"/webhooks/freshdesk", "query_string": b"",
        "headers": [(b"content-length", declared.encode("latin-1")), (b"x-triage-token", FD_TOKEN.encode())],
        "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
    }  # fmt: skip
    with TestClient(app) as started:  # runs the lifespan (the store)
        assert started.portal is not None
        started.portal.call(app, scope, receive, send)
    assert sent[0]["status"] == status, sent
    if status == 413:
        assert b"the limit is 1048576" in sent[1]["body"]


def test_unreadable_signature_timestamps_are_401(client: httpx.Client, settings: Settings) -> None:
    body = json.dumps(GENERIC).encode()
    # a 400-digit webhook-timestamp made `now - timestamp` an OverflowError
    headers = {"webhook-id": "msg_1", "webhook-timestamp": "9" * 400, "webhook-signature": "v1,AAAA"}
    assert_error(client.post("/webhooks/generic", content=body, headers=headers), 401, "integer seconds")
    # '²' (latin-1 byte 0xB2, allowed in a header) passed str.isdigit() and then float() raised
    zd = [(b"X-Zendesk-Webhook-Signature", b"AAAA"), (b"X-Zendesk-Webhook-Signature-Timestamp", b"\xb2")]
    assert_error(client.post("/webhooks/zendesk", content=body, headers=zd), 401, "neither ISO 8601")
    assert snapshot(settings) == {}


# ---- /healthz ------------------------------------------------------------------------------------


def test_healthz_says_only_up_without_an_agent_key(client: httpx.Client) -> None:
    webhook_key = make_key(client, "webhook", "probe")["key"]
    for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": "Bearer trk_x_y"},
                    {"authorization": "Basic eDp5"}, {"authorization": f"Bearer {webhook_key}"}):  # fmt: skip
        r = client.get("/healthz", headers=headers)
        assert r.status_code == 200 and r.json() == {"status": "ok"}, (headers, r.text)
    agent_key = make_key(client, "agent", "ops")["key"]
    for key in (agent_key, KEY):
        full = client.get("/healthz", headers={"authorization": f"Bearer {key}"}).json()
        assert full["status"] == "ok" and full["worker"] is False and full["llm"] == "none"
        assert full["tickets"] == {}


# ---- Jira ADF (rendered by tools/ticketing/adf.py) -----------------------------------------------


def _jira_with(description: object) -> dict[str, Any]:
    issue = copy.deepcopy(JIRA_ISSUE_CREATED)
    issue["issue"]["fields"]["description"] = description
    return issue


def test_adf_with_an_absurd_date_is_stored(sender: Sender, settings: Settings) -> None:
    date = {"type": "date", "attrs": {"timestamp": "99999999999999999"}}
    paragraph = {"type": "paragraph", "content": [{"type": "text", "text": "due "}, date]}
    doc = {"version": 1, "type": "doc", "content": [paragraph]}
    r = sender.post("jira", _jira_with(doc), delivery=str(uuid.uuid4()))
    assert r.status_code == 202, r.text
    assert snapshot(settings)[r.json()["ticket_id"]]["ticket"]["body"].startswith("due ")


def _nested_lists(levels: int) -> bytes:
    """A Jira issue whose ADF description nests `levels` bullet lists (built as text: json.dumps
    itself recurses), the deepest holding the paragraph 'deepest'."""
    opening = '{"type": "bulletList", "content": [{"type": "listItem", "content": ['
    leaf = '{"type": "paragraph", "content": [{"type": "text", "text": "deepest"}]}'
    doc = '{"version": 1, "type": "doc", "content": [' + opening * levels + leaf + "]}]}" * levels + "]}"
    return json.dumps(_jira_with("PLACEHOLDER")).replace('"PLACEHOLDER"', doc).encode()


def test_adf_nested_hundreds_of_levels_is_422_and_within_the_limit_is_rendered(
    sender: Sender, settings: Settings
) -> None:
    assert_error(sender.post("jira", _nested_lists(300)), 422, "levels deep", "at most 100")
    # 23 list levels are 4 x 23 JSON levels, + 5 around them and 3 for the paragraph: 100, the limit
    r = sender.post("jira", _nested_lists(23), delivery=str(uuid.uuid4()))
    assert r.status_code == 202, r.text
    assert "deepest" in snapshot(settings)[r.json()["ticket_id"]]["ticket"]["body"]


# ---- errors keep the app's shape -----------------------------------------------------------------


def test_unknown_paths_and_methods_answer_in_the_error_shape(client: httpx.Client) -> None:
    assert_error(client.get("/no/such/thing"), 404)
    assert client.get("/no/such/thing").json()["error"] == "not_found"
    assert_error(client.get("/webhooks/generic"), 405)
    assert client.get("/webhooks/generic").json()["error"] == "method_not_allowed"
