"""HTTP to the outside world: one httpx client factory and one retry policy, declared as data.

Only transient failures are retried: connection errors and timeouts, 408, 429 and 5xx (not 501/505).
A server's own wait (`Retry-After` in seconds or as an HTTP-date, Jira's `X-RateLimit-Reset` ISO
timestamp) is honoured up to a cap; otherwise the wait is exponential backoff with jitter. Every call
gives up after a bounded number of attempts and a bounded total time with a typed error:

- `TransientWriteBackError`: the system kept failing transiently; the same call can be retried later.
- `PermanentWriteBackError`: the system rejected the call (a 4xx): retrying will not help; the
  message names the system, the endpoint, the status, the API's own error text and how to fix it.
- `WriteBackConfigError`: the call could not even be built from the configuration (misuse).
"""

from __future__ import annotations

import email.utils
import json
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from tenacity import RetryCallState, RetryError, Retrying, retry_if_exception_type, retry_if_not_exception_type

USER_AGENT = "triage-service/0.1 (+write-back)"


class WriteBackError(Exception):
    """Base of every write-back failure."""

    retryable: bool = False

    def __init__(self, message: str, *, system: str, method: str = "", endpoint: str = "") -> None:
        super().__init__(message)
        self.system = system
        self.method = method
        self.endpoint = endpoint


class TransientWriteBackError(WriteBackError):
    """The system kept failing transiently (network, 429, 5xx) until the retry budget ran out."""

    retryable = True

    def __init__(
        self,
        message: str,
        *,
        system: str,
        method: str,
        endpoint: str,
        attempts: int,
        elapsed_s: float,
        status: int | None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message, system=system, method=method, endpoint=endpoint)
        self.attempts = attempts
        self.elapsed_s = elapsed_s
        self.status = status
        self.retry_after_s = retry_after_s


class PermanentWriteBackError(WriteBackError):
    """The system rejected the call (4xx): it is not retried; the message says how to fix it."""

    def __init__(self, message: str, *, system: str, method: str, endpoint: str, status: int, api_error: str) -> None:
        super().__init__(message, system=system, method=method, endpoint=endpoint)
        self.status = status
        self.api_error = api_error


class WriteBackConfigError(WriteBackError):
    """The call cannot be built from the configuration (an unmapped group, a missing setting)."""


# ---- the policy ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class RetryPolicy:
    """When and how long to retry, as data. Defaults suit a worker; tests shrink the waits."""

    max_attempts: int = 6
    max_elapsed_s: float = 30.0  # total budget for one call, waits included
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 8.0
    jitter_s: float = 0.5
    max_server_wait_s: float = 30.0  # cap on a wait the server asks for (Retry-After, X-RateLimit-Reset)
    retry_statuses: frozenset[int] = frozenset({408, 429})  # retried on top of 5xx
    never_retry_5xx: frozenset[int] = frozenset({501, 505})

    def is_retryable_status(self, status: int) -> bool:
        if status in self.retry_statuses:
            return True
        return 500 <= status < 600 and status not in self.never_retry_5xx

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter before attempt `attempt + 1` (attempt is 1-based)."""
        base = min(self.backoff_max_s, self.backoff_initial_s * 2 ** (attempt - 1))
        return base + random.uniform(0, self.jitter_s)


def server_wait_s(response: httpx.Response, now: datetime | None = None) -> float | None:
    """Seconds the server asks us to wait: `Retry-After` (seconds or HTTP-date), else
    `X-RateLimit-Reset` (Jira: ISO 8601 timestamp; epoch seconds also accepted). None if neither."""
    now = now or datetime.now(UTC)
    retry_after = response.headers.get("retry-after")
    if retry_after:
        value = retry_after.strip()
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            when = None
        if when is not None:
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            return max(0.0, (when - now).total_seconds())
    reset = response.headers.get("x-ratelimit-reset")
    if reset:
        value = reset.strip()
        try:
            number = float(value)
        except ValueError:
            number = None
        if number is not None:
            # epoch seconds (GitHub style); a small number is a delta in seconds
            return max(0.0, number - now.timestamp()) if number > 1e9 else max(0.0, number)
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(0.0, (when - now).total_seconds())
    return None


# ---- the client ---------------------------------------------------------------------------------
def make_client(
    base_url: str,
    *,
    auth: httpx.Auth | tuple[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    timeout_s: float = 10.0,
    transport: httpx.BaseTransport | None = None,
) -> httpx.Client:
    """An httpx client for one system: JSON, no redirects (a redirect means a wrong base URL)."""
    return httpx.Client(
        base_url=base_url.rstrip("/"),
        auth=auth,
        headers={"user-agent": USER_AGENT, "accept": "application/json", **(headers or {})},
        timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 5.0)),
        follow_redirects=False,
        transport=transport,
    )


# Only these transport failures are transient; UnsupportedProtocol, InvalidURL etc. are misuse.
TRANSIENT_TRANSPORT_ERRORS: tuple[type[Exception], ...] = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
)
# Failures that prove the request never reached the server: the only ones a POST (not idempotent: a
# comment, a reply) is retried on within one call. After a read timeout or a dropped connection the
# system may have stored the comment; the call fails transiently instead and the write-back ledger's
# retake looks for the comment's marker before posting again (agent/storage/ledger.py).
NOT_SENT_TRANSPORT_ERRORS: tuple[type[Exception], ...] = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# statuses that say the request was not processed (a POST may be sent again)
NOT_PROCESSED_STATUSES = frozenset({408, 429, 503})

DEFAULT_HINTS: dict[int, str] = {
    400: "the request was rejected as invalid: check that the values this service maps to (priority, "
    "group/queue, assignee, status/transition names and ids in the {system} settings) exist in {system}",
    401: "check the {system} credentials: the token may be wrong, revoked or expired",
    403: "the account authenticates but lacks permission for this: give it agent/project permissions in {system}",
    404: "check the {system} base URL and that the ticket exists and is visible to the account",
    409: "the ticket was changed concurrently: retry the write-back",
    422: "the request was rejected as invalid: check the mapped values in the {system} settings exist in {system}",
}


class _Retryable(Exception):
    def __init__(self, response: httpx.Response | None, error: Exception | None = None) -> None:
        super().__init__(str(error) if error else f"HTTP {response.status_code if response else '?'}")
        self.response = response
        self.error = error


class _SentMaybe(_Retryable):
    """A transient failure of a POST that may have taken effect: not retried within the call."""


@dataclass
class CallStats:
    """What the last call cost: attempts and the waits between them (seconds)."""

    attempts: int = 0
    waits: list[float] = field(default_factory=list[float])


class ApiClient:
    """One system's REST API: every request retried per the policy, failures translated to typed errors."""

    def __init__(
        self,
        system: str,
        base_url: str,
        *,
        auth: httpx.Auth | tuple[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout_s: float = 10.0,
        policy: RetryPolicy | None = None,
        hints: Mapping[int, str] | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.system = system
        self.policy = policy or RetryPolicy()
        self.hints = {**DEFAULT_HINTS, **(hints or {})}
        self.client = make_client(base_url, auth=auth, headers=headers, timeout_s=timeout_s, transport=transport)
        self._sleep = sleep
        self.last = CallStats()

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- tenacity plumbing: wait and stop both read the failed attempt's response --------------
    def _asked_wait(self, state: RetryCallState) -> float | None:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Retryable) and exc.response is not None:
            return server_wait_s(exc.response)
        return None

    def _wait(self, state: RetryCallState) -> float:
        asked = self._asked_wait(state)
        wait = (
            min(asked, self.policy.max_server_wait_s)
            if asked is not None
            else self.policy.backoff(state.attempt_number)
        )
        remaining = self.policy.max_elapsed_s - (state.seconds_since_start or 0.0)
        wait = max(0.0, min(wait, remaining))
        self.last.waits.append(wait)
        return wait

    def _stop(self, state: RetryCallState) -> bool:
        if state.attempt_number >= self.policy.max_attempts:
            return True
        elapsed = state.seconds_since_start or 0.0
        if elapsed >= self.policy.max_elapsed_s:
            return True
        asked = self._asked_wait(state)
        # the server wants us back later than the budget allows (or than the cap): give up now
        return asked is not None and (
            asked > self.policy.max_server_wait_s or elapsed + asked > self.policy.max_elapsed_s
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
    ) -> httpx.Response:
        """Send one logical request; retries transient failures; returns a 2xx response or raises.

        A request that is not idempotent (default: a POST; a Zendesk PUT that adds a comment says so
        itself) is retried only when it surely did not take effect (see NOT_SENT_TRANSPORT_ERRORS);
        otherwise it fails at once with a retryable `TransientWriteBackError`."""
        self.last = CallStats()
        started = time.monotonic()
        if idempotent is None:
            idempotent = method.upper() != "POST"

        def attempt() -> httpx.Response:
            self.last.attempts += 1
            try:
                response = self.client.request(method, path, json=json_body, params=params)
            except TRANSIENT_TRANSPORT_ERRORS as exc:
                if idempotent or isinstance(exc, NOT_SENT_TRANSPORT_ERRORS):
                    raise _Retryable(None, exc) from exc
                raise _SentMaybe(None, exc) from exc
            if response.is_success:
                return response
            if self.policy.is_retryable_status(response.status_code):
                if idempotent or response.status_code in NOT_PROCESSED_STATUSES:
                    raise _Retryable(response)
                raise _SentMaybe(response)
            raise self._permanent(method, path, response)

        retrying = Retrying(
            retry=retry_if_exception_type(_Retryable) & retry_if_not_exception_type(_SentMaybe),
            stop=self._stop,
            wait=self._wait,
            sleep=self._sleep,
            reraise=False,
        )
        try:
            return retrying(attempt)
        except (RetryError, _SentMaybe) as err:
            exc = err.last_attempt.exception() if isinstance(err, RetryError) else err
            assert isinstance(exc, _Retryable)
            sent_maybe = isinstance(exc, _SentMaybe)
            status = exc.response.status_code if exc.response is not None else None
            asked = server_wait_s(exc.response) if exc.response is not None else None
            cause = (
                f"HTTP {status} {_api_error_text(exc.response)}".strip()
                if exc.response is not None
                else repr(exc.error)
            )
            elapsed = time.monotonic() - started
            raise TransientWriteBackError(
                f"{self.system} {method} {path}: gave up after {self.last.attempts} attempt(s) in {elapsed:.1f}s "
                f"(budget {self.policy.max_attempts} attempts / {self.policy.max_elapsed_s:g}s); "
                f"last failure: {cause}. "
                + (
                    "The request may have reached the system, so it was not sent again in this call: "
                    if sent_maybe
                    else ""
                )
                + "This is transient (network, rate limit or server error): the step is recorded as failed and "
                "can be retried later.",
                system=self.system,
                method=method,
                endpoint=path,
                attempts=self.last.attempts,
                elapsed_s=elapsed,
                status=status,
                retry_after_s=asked,
            ) from exc.error

    def request_json(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
    ) -> dict[str, Any]:
        """`request`, then the body as a JSON object ({} for an empty or non-object body).

        A write the system accepted must never fail on how its answer is formatted: a failure after
        success would be recorded as failed and posted again on retry.
        """
        response = self.request(method, path, json_body=json_body, params=params, idempotent=idempotent)
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
            return {}
        return body if isinstance(body, dict) else {}  # pyright: ignore[reportUnknownVariableType]

    def _permanent(self, method: str, path: str, response: httpx.Response) -> PermanentWriteBackError:
        status = response.status_code
        api_error = _api_error_text(response)
        hint = self.hints.get(status) or (self.hints[400] if 400 <= status < 500 else "see the API's error text")
        reason = response.reason_phrase
        message = (
            f"{self.system} {method} {path} returned HTTP {status}{' ' + reason if reason else ''}: "
            f"{api_error or '(no error text)'}. How to fix: {hint.format(system=self.system)}. Not retried."
        )
        return PermanentWriteBackError(
            message, system=self.system, method=method, endpoint=path, status=status, api_error=api_error
        )


def _api_error_text(response: httpx.Response | None, limit: int = 400) -> str:
    """The API's own error text, flattened: `errors.priority: is invalid; error: RecordInvalid`."""
    if response is None:
        return ""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        return " ".join(response.text.split())[:limit]
    parts: list[str] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():  # pyright: ignore[reportUnknownVariableType]
                walk(value, f"{path}.{key}" if path else str(key))  # pyright: ignore[reportUnknownArgumentType]
        elif isinstance(node, list):
            for item in node:  # pyright: ignore[reportUnknownVariableType]
                walk(item, path)
        elif node is not None and node != "":
            parts.append(f"{path}: {node}" if path else str(node))

    walk(body, "")
    return "; ".join(parts)[:limit]
