"""The retry policy and error translation of tools/http.py, at the transport layer (httpx.MockTransport)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from tools.http import (
    ApiClient,
    PermanentWriteBackError,
    RetryPolicy,
    TransientWriteBackError,
    server_wait_s,
)

NOW = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)
FAST = RetryPolicy(max_attempts=4, max_elapsed_s=5, backoff_initial_s=0.01, backoff_max_s=0.05, jitter_s=0.0)


def _resp(status: int = 429, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, headers=headers or {})


def test_retry_after_seconds_and_http_date() -> None:
    assert server_wait_s(_resp(429, {"Retry-After": "7"}), NOW) == 7.0
    later = format_datetime(NOW + timedelta(seconds=42), usegmt=True)
    assert server_wait_s(_resp(429, {"Retry-After": later}), NOW) == pytest.approx(42.0)
    past = format_datetime(NOW - timedelta(seconds=42), usegmt=True)
    assert server_wait_s(_resp(429, {"Retry-After": past}), NOW) == 0.0


def test_jira_rate_limit_reset_iso_timestamp() -> None:
    # Jira documents the format yyyy-MM-ddTHH:mmZ
    assert server_wait_s(_resp(429, {"X-RateLimit-Reset": "2026-11-23T12:02Z"}), NOW) == pytest.approx(120.0)
    assert server_wait_s(_resp(429, {"X-RateLimit-Reset": "2026-11-23T12:00:05.500+00:00"}), NOW) == pytest.approx(5.5)
    # Retry-After wins when both are present
    both = _resp(429, {"Retry-After": "3", "X-RateLimit-Reset": "2026-11-23T12:02Z"})
    assert server_wait_s(both, NOW) == 3.0
    assert server_wait_s(_resp(), NOW) is None
    assert server_wait_s(_resp(429, {"Retry-After": "soon"}), NOW) is None


def test_only_transient_statuses_are_retryable() -> None:
    policy = RetryPolicy()
    assert all(policy.is_retryable_status(s) for s in (408, 429, 500, 502, 503, 504))
    assert not any(policy.is_retryable_status(s) for s in (400, 401, 403, 404, 409, 422, 501, 505))


def test_backoff_grows_exponentially_and_is_capped() -> None:
    policy = RetryPolicy(backoff_initial_s=1, backoff_max_s=5, jitter_s=0)
    assert [policy.backoff(n) for n in (1, 2, 3, 4)] == [1, 2, 4, 5]
    jittered = RetryPolicy(backoff_initial_s=1, backoff_max_s=5, jitter_s=0.5)
    assert all(1 <= jittered.backoff(1) <= 1.5 for _ in range(50))


def _client(handler: httpx.MockTransport, policy: RetryPolicy = FAST) -> tuple[ApiClient, list[float]]:
    slept: list[float] = []
    return ApiClient("zendesk", "https://acme.zendesk.com", policy=policy, transport=handler, sleep=slept.append), slept


def test_5xx_is_retried_until_success() -> None:
    answers = iter([503, 502, 200])
    seen: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(next(answers), json={"ok": True})

    api, slept = _client(httpx.MockTransport(handle))
    assert api.request("PUT", "/api/v2/tickets/1", json_body={}).status_code == 200
    assert len(seen) == 3 and api.last.attempts == 3 and len(slept) == 2


def test_retry_after_is_used_for_the_wait_and_capped() -> None:
    answers = iter([_resp(429, {"Retry-After": "1.5"}), _resp(503, {"Retry-After": "1"}), httpx.Response(200)])
    api, slept = _client(httpx.MockTransport(lambda _r: next(answers)), RetryPolicy(backoff_initial_s=0.01, jitter_s=0))
    api.request("GET", "/x")
    assert slept == [1.5, 1.0]


def test_server_wait_longer_than_the_budget_gives_up_at_once() -> None:
    calls: list[int] = []

    def handle(_r: httpx.Request) -> httpx.Response:
        calls.append(1)
        return _resp(429, {"Retry-After": "3600"})

    api, slept = _client(httpx.MockTransport(handle))
    with pytest.raises(TransientWriteBackError) as err:
        api.request("GET", "/x")
    assert len(calls) == 1 and slept == []
    assert err.value.retry_after_s == 3600 and err.value.status == 429


def test_4xx_is_never_retried_and_says_how_to_fix() -> None:
    calls: list[int] = []

    def handle(_r: httpx.Request) -> httpx.Response:
        calls.append(1)
        body = {"error": "RecordInvalid", "details": {"priority": [{"description": "Priority: critical is not valid"}]}}
        return httpx.Response(422, json=body)

    api, _ = _client(httpx.MockTransport(handle))
    with pytest.raises(PermanentWriteBackError) as err:
        api.request("PUT", "/api/v2/tickets/9", json_body={"ticket": {"priority": "critical"}})
    assert len(calls) == 1
    message = str(err.value)
    assert err.value.status == 422
    assert "zendesk PUT /api/v2/tickets/9" in message and "422" in message
    assert "details.priority.description: Priority: critical is not valid" in message
    assert "How to fix" in message


def test_attempt_budget_ends_in_a_typed_transient_error() -> None:
    api, slept = _client(httpx.MockTransport(lambda _r: httpx.Response(500, text="boom")))
    with pytest.raises(TransientWriteBackError) as err:
        api.request("PUT", "/x", json_body={})
    assert err.value.attempts == 4 and len(slept) == 3 and err.value.retryable
    assert "gave up after 4 attempt(s)" in str(err.value) and "HTTP 500 boom" in str(err.value)


def _flaky(first: Exception | httpx.Response) -> tuple[httpx.MockTransport, list[str]]:
    """A transport whose first request fails with `first` (raised, or answered), then succeeds."""
    seen: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request.method)
        if len(seen) == 1:
            if isinstance(first, Exception):
                raise first
            return first
        return httpx.Response(201, json={"ok": True})

    return httpx.MockTransport(handle), seen


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ReadTimeout("read timed out"),
        httpx.RemoteProtocolError("peer closed"),
        httpx.Response(500),
        httpx.Response(504),
    ],
    ids=["read-timeout", "dropped", "500", "504"],
)
def test_a_post_that_may_have_been_stored_is_not_sent_twice_in_one_call(failure: Exception | httpx.Response) -> None:
    """After a read timeout, a dropped connection or a 5xx the system may have stored the comment: the call
    fails (retryable) after one attempt, and the ledger's retake looks for the comment's marker first."""
    transport, seen = _flaky(failure)
    api, _ = _client(transport)
    with pytest.raises(TransientWriteBackError) as err:
        api.request("POST", "/api/v2/tickets/9/comments", json_body={})
    assert seen == ["POST"] and err.value.retryable and "may have reached the system" in str(err.value)
    # the same failures on an idempotent PUT are retried within the call
    transport, seen = _flaky(failure)
    api, _ = _client(transport)
    assert api.request("PUT", "/api/v2/tickets/9", json_body={}).status_code == 201 and seen == ["PUT", "PUT"]
    # ... unless the caller says it is not (a Zendesk PUT that adds a comment)
    transport, seen = _flaky(failure)
    api, _ = _client(transport)
    with pytest.raises(TransientWriteBackError):
        api.request("PUT", "/api/v2/tickets/9", json_body={"ticket": {"comment": {}}}, idempotent=False)
    assert seen == ["PUT"]


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectError("refused"),
        httpx.ConnectTimeout("connect timed out"),
        httpx.Response(429),
        httpx.Response(503),
    ],
    ids=["refused", "connect-timeout", "429", "503"],
)
def test_a_post_that_surely_did_not_arrive_is_retried(failure: Exception | httpx.Response) -> None:
    transport, seen = _flaky(failure)
    api, _ = _client(transport)
    assert api.request("POST", "/api/v2/tickets/9/comments", json_body={}).status_code == 201
    assert seen == ["POST", "POST"]


def test_time_budget_stops_retrying() -> None:
    policy = RetryPolicy(max_attempts=100, max_elapsed_s=0.3, backoff_initial_s=0.05, backoff_max_s=0.05, jitter_s=0)
    api = ApiClient(
        "jira", "https://x.atlassian.net", policy=policy, transport=httpx.MockTransport(lambda _r: _resp(503))
    )
    with pytest.raises(TransientWriteBackError) as err:
        api.request("GET", "/x")
    assert 3 <= err.value.attempts < 15 and err.value.elapsed_s < 1.0


def test_connection_errors_are_retried_but_misuse_is_not() -> None:
    attempts: list[int] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        attempts.append(1)
        raise httpx.ConnectError("refused", request=request)

    api, _ = _client(httpx.MockTransport(refuse))
    with pytest.raises(TransientWriteBackError):
        api.request("GET", "/x")
    assert len(attempts) == 4

    bad = ApiClient("freshdesk", "ftp://nowhere.example", policy=FAST)
    with pytest.raises(httpx.UnsupportedProtocol):
        bad.request("GET", "/x")
