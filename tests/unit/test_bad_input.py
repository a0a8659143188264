"""Absurd input without HTTP: JSON nesting and number limits, unstorable characters, over-long
delivery ids, moments at the edges of datetime's range, unreadable signature timestamps.

Each case here was a 500 (RecursionError, ValueError past 4300 digits, OverflowError, a database
error) before it became a clear 4xx; tests/integration/test_bad_input_http.py sends them over HTTP.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from fastapi import HTTPException

from agent.graph.routing import load_team
from agent.graph.shifts import coverage_gaps
from agent.graph.sla import EARLIEST, LATEST, at_risk, check_window, clamp_to_window, in_window
from agent.settings import REPO_ROOT
from agent.storage.tickets import MAX_DELIVERY_ID, delivery_key
from api.routes.webhooks import MAX_JSON_DEPTH, MAX_NUMBER_CHARS, json_depth, parse_json
from tools.signing import SignatureError, sign_standard, verify_standard, verify_zendesk

TEAM = load_team(REPO_ROOT / "agent" / "graph" / "routing.yaml")
WHSEC = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
GOOD = {"external_id": "EXT-1", "subject": "Payslip", "body": "missing"}


def refused(body: bytes) -> HTTPException:
    with pytest.raises(HTTPException) as caught:
        parse_json(body)
    return caught.value


def nested(depth: int, kind: str = "array") -> bytes:
    if kind == "array":
        return b'{"a": ' + b"[" * (depth - 1) + b"]" * (depth - 1) + b"}"
    return b'{"a": ' * depth + b"1" + b"}" * depth


# ---- JSON: nesting -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["array", "object"])
def test_json_nested_10000_deep_is_422_naming_the_depth_and_the_limit(kind: str) -> None:
    body = b"[" * 10_000 + b"]" * 10_000 if kind == "array" else nested(10_000, "object")
    exc = refused(body)
    assert exc.status_code == 422
    assert "10000 levels deep" in str(exc.detail) and f"at most {MAX_JSON_DEPTH}" in str(exc.detail)


@pytest.mark.parametrize("kind", ["array", "object"])
def test_json_at_the_depth_limit_parses_one_more_level_does_not(kind: str) -> None:
    assert json_depth(nested(MAX_JSON_DEPTH, kind)) == MAX_JSON_DEPTH
    assert isinstance(parse_json(nested(MAX_JSON_DEPTH, kind)), dict)
    exc = refused(nested(MAX_JSON_DEPTH + 1, kind))
    assert exc.status_code == 422 and f"{MAX_JSON_DEPTH + 1} levels deep" in str(exc.detail)


def test_brackets_inside_strings_and_escaped_quotes_do_not_count() -> None:
    text = "[" * 5000 + '\\" {{{ ' + "]" * 10
    body = json.dumps({"subject": text, "body": '"[["', "n": [[1], {"x": "]"}]}).encode()
    assert json_depth(body) == 3
    assert parse_json(body)["subject"] == text


@pytest.mark.parametrize(
    "body",
    [
        b'"' + b'\\"' * 50_000,  # an unterminated string of escaped quotes: no quadratic re-scan
        b'{"a": "x\\',  # a lone backslash at the very end
        b'{"a": "' + b"[" * 20_000,  # brackets after an unterminated quote are inside the string
    ],
)
def test_unterminated_strings_are_400_not_a_hang_or_a_crash(body: bytes) -> None:
    exc = refused(body)
    assert exc.status_code == 400 and "not valid JSON" in str(exc.detail)


def test_unterminated_nesting_is_still_refused_for_its_depth() -> None:
    exc = refused(b"[" * 10_000)  # json.loads would recurse before finding the missing brackets
    assert exc.status_code == 422 and "10000 levels deep" in str(exc.detail)


# ---- JSON: numbers and constants -----------------------------------------------------------------


def test_a_5000_digit_integer_is_422_before_int_parses_it() -> None:
    exc = refused(b'{"external_id": ' + b"9" * 5000 + b"}")
    assert exc.status_code == 422
    assert "5000 characters long" in str(exc.detail) and "as strings" in str(exc.detail)


def test_numbers_up_to_the_limit_parse() -> None:
    digits = "9" * MAX_NUMBER_CHARS
    assert parse_json(f'{{"n": {digits}, "m": -12, "f": 1.5e300}}'.encode()) == {
        "n": int(digits),
        "m": -12,
        "f": 1.5e300,
    }
    exc = refused(f'{{"n": {digits}9}}'.encode())
    assert exc.status_code == 422 and f"at most {MAX_NUMBER_CHARS}" in str(exc.detail)
    long_float = "0." + "1" * MAX_NUMBER_CHARS
    assert refused(f'{{"f": {long_float}}}'.encode()).status_code == 422


@pytest.mark.parametrize("number", ["1e999", "-1e999", "1E400"])
def test_floats_beyond_double_range_are_422(number: str) -> None:
    exc = refused(f'{{"x": {number}}}'.encode())
    assert exc.status_code == 422 and "64-bit float" in str(exc.detail) and number in str(exc.detail)


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_json(constant: str) -> None:
    exc = refused(f'{{"x": {constant}}}'.encode())
    assert exc.status_code == 400 and f"{constant} is not a JSON number" in str(exc.detail)


def test_json_must_be_utf8_a_byte_order_mark_is_tolerated() -> None:
    """UTF-16 hides quotes and brackets inside characters (U+225B is the bytes 5B 22), which a scan
    of the bytes would misread; JSON on the wire is UTF-8 (RFC 8259)."""
    utf16 = json.dumps({"a": "\u225b" + "[" * 300}).encode("utf-16")
    exc = refused(utf16)
    assert exc.status_code == 400 and "not UTF-8" in str(exc.detail)
    assert parse_json(b"\xef\xbb\xbf" + json.dumps(GOOD).encode()) == GOOD


@pytest.mark.parametrize("body", [b"[1, 2]", b'"text"', b"12", b"null"])
def test_a_body_that_is_not_an_object_is_400(body: bytes) -> None:
    exc = refused(body)
    assert exc.status_code == 400 and "JSON object" in str(exc.detail)


# ---- JSON: characters no database or encoder takes -----------------------------------------------


def test_nul_and_lone_surrogates_become_the_replacement_character() -> None:
    body = b'{"subject": "a\\u0000b", "body": "cut \\ud83d", "k\\udc00": ["\\udfff", "ok \\ud83d\\ude00"]}'
    data = parse_json(body)
    assert data == {"subject": "a\ufffdb", "body": "cut \ufffd", "k\ufffd": ["\ufffd", "ok 😀"]}
    # what is left encodes as UTF-8 (what PostgreSQL and every HTTP client need)
    json.dumps(data, ensure_ascii=False).encode("utf-8")


# ---- delivery ids --------------------------------------------------------------------------------


def test_short_delivery_ids_are_kept_as_they_are() -> None:
    for delivery in ("msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", "trigger:5158:ticket.created", "x" * MAX_DELIVERY_ID):
        assert delivery_key(delivery) == delivery


@pytest.mark.parametrize(
    "delivery",
    ["m" * 256, "1" * 300 + ":jira:issue_created", "é" * 5000, "has\x00nul", "cut\ud83d"],
)
def test_unstorable_delivery_ids_are_stored_as_a_stable_hash(delivery: str) -> None:
    key = delivery_key(delivery)
    assert key.startswith("sha256:") and len(key) == 71 and len(key) <= MAX_DELIVERY_ID
    assert key == delivery_key(delivery)  # a redelivery maps to the same key
    assert delivery_key(key) == key  # idempotent
    assert delivery_key(delivery + "x") != key  # ids that differ only past the column's end do not collide


# ---- datetimes at the edges ----------------------------------------------------------------------

PLUS_14 = timezone(timedelta(hours=14))
MINUS_12 = timezone(timedelta(hours=-12))
EDGES = [
    datetime(1, 1, 1, tzinfo=PLUS_14),  # UTC: the year 0, which datetime cannot hold
    datetime(9999, 12, 31, 23, 59, 59, tzinfo=MINUS_12),  # UTC: the year 10000
    datetime(1, 1, 2, tzinfo=UTC),
    datetime(9999, 12, 31, tzinfo=UTC),
    datetime(1, 1, 1),  # naive: UTC
]


@pytest.mark.parametrize("moment", EDGES, ids=str)
def test_moments_outside_the_window_are_a_value_error_naming_the_range(moment: datetime) -> None:
    assert not in_window(moment)
    with pytest.raises(ValueError, match=r"1970-01-01T00:00:00Z up to .* 2200-01-01T00:00:00Z"):
        check_window(moment, "at")
    with pytest.raises(ValueError, match="out of range"):
        TEAM.on_shift(moment)  # was OverflowError: stepping a day past datetime's range
    for engineer in TEAM.engineers:
        with pytest.raises(ValueError, match="out of range"):
            engineer.shift_end(moment)


def test_the_window_ends_are_usable() -> None:
    for moment in (EARLIEST, LATEST - timedelta(microseconds=1), datetime(2199, 12, 31, 11, tzinfo=MINUS_12)):
        assert in_window(moment)
        TEAM.on_shift(moment)
    assert not in_window(LATEST) and not in_window(EARLIEST - timedelta(microseconds=1))
    assert not in_window(datetime(2199, 12, 31, 12, tzinfo=MINUS_12))  # 2200-01-01T00:00Z
    # offsets count: 1970-01-01T05:00+14:00 is 1969-12-31T15:00Z, before the window
    assert not in_window(datetime(1970, 1, 1, 5, tzinfo=PLUS_14))


def test_deadlines_from_an_absurd_creation_time_are_clamped_into_the_window() -> None:
    early = TEAM.sla.deadlines("urgent", "enterprise", datetime(1, 1, 1, tzinfo=PLUS_14))
    assert early.started_at == EARLIEST and early.first_response_due == EARLIEST + timedelta(minutes=30)
    late = TEAM.sla.deadlines("low", "standard", datetime(9999, 12, 31, 23, 59, tzinfo=MINUS_12))
    assert late.started_at == LATEST and late.resolution_due > LATEST
    assert at_risk(early, datetime(2026, 1, 1, tzinfo=UTC)).state == "breached"
    assert clamp_to_window(datetime(2026, 1, 1, 12, tzinfo=PLUS_14)) == datetime(2025, 12, 31, 22, tzinfo=UTC)
    with pytest.raises(ValueError, match=r"now .* out of range"):
        at_risk(early, datetime(9999, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize("year", [1, 1970, 2199, 9999])
def test_coverage_check_refuses_years_it_cannot_compute(year: int) -> None:
    with pytest.raises(ValueError, match=f"year {year} is out of range"):
        coverage_gaps(TEAM.engineers, [("billing", "L1")], year)


# ---- signature timestamps (checked before anything else, on unauthenticated requests) -------------


@pytest.mark.parametrize("ts", ["9" * 400, "-" + "9" * 30, "²", "1e9"])
def test_absurd_standard_webhooks_timestamps_are_signature_errors(ts: str) -> None:
    headers = {"webhook-id": "msg_1", "webhook-timestamp": ts, "webhook-signature": "v1,AAAA"}
    with pytest.raises(SignatureError, match="integer seconds"):
        verify_standard(WHSEC, headers, b"{}")  # a 400-digit timestamp was OverflowError


def test_a_good_standard_webhooks_signature_still_verifies() -> None:
    now = 1_767_225_600
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(now), "webhook-signature": ""}
    headers["webhook-signature"] = sign_standard(WHSEC, "msg_1", now, b"{}")
    assert verify_standard(WHSEC, headers, b"{}", now=now) == "msg_1"


@pytest.mark.parametrize("ts", ["²", "9" * 400, "١٢٣٤٥٦٧٨٩٠١٢٣٤٥٦٧٨٩٠١"])
def test_unreadable_zendesk_timestamps_are_signature_errors(ts: str) -> None:
    headers = {"X-Zendesk-Webhook-Signature": "AAAA", "X-Zendesk-Webhook-Signature-Timestamp": ts}
    with pytest.raises(SignatureError, match="neither ISO 8601 nor epoch seconds"):
        verify_zendesk("secret", headers, b"{}")  # '²' passed isdigit() and then float() raised


@pytest.mark.parametrize("ts", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00"])
def test_zendesk_timestamps_at_datetimes_edges_are_stale(ts: str) -> None:
    headers = {"X-Zendesk-Webhook-Signature": "AAAA", "X-Zendesk-Webhook-Signature-Timestamp": ts}
    with pytest.raises(SignatureError, match="window"):
        verify_zendesk("secret", headers, b"{}")
