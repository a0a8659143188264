"""The PayFlow admin API the actions call, over `tools.http.ApiClient` (retry policy, typed errors).

Endpoints (bearer token; JSON; every POST takes an `Idempotency-Key` header: the same key with the
same body returns the first answer again and has no second effect, the same key with another body
is refused 422):

    POST /api/v1/users/password-reset   {email | login}                                  -> 202
    POST /api/v1/payslips/resend        {company?, employee_id | employee_email, period,
                                         send_to?}                                       -> 202
    GET  /api/v1/payroll-runs/{run_id}?company=...                                       -> 200 run
    GET  /api/v1/payroll-runs?company=...&period=YYYY-MM                                 -> 200 {runs}
    POST /api/v1/problems               {rca_id, ticket_external_id, summary}            -> 200/201

Errors: 401 bad token, 404 unknown user/employee/run, 409 refused by a business rule (SSO-managed
account, payslip not published yet, 5 resends a day), 422 invalid body, 429/503 transient. Fakes:
`tools.actions.testing.FakePayFlow` (a real app on loopback).
"""

from __future__ import annotations

import contextvars
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from typing import Any, Protocol, runtime_checkable

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from tools.actions.registry import PlannedRequest
from tools.http import ApiClient
from tools.ticketing.base import RetrySettings

SYSTEM = "payflow"
IDEMPOTENCY_HEADER = "Idempotency-Key"


class PayFlowConfig(BaseModel):
    """Where the PayFlow admin API is and how to authenticate (settings: TRIAGE_PAYFLOW_*)."""

    model_config = ConfigDict(extra="forbid")

    base_url: str = Field(description="e.g. https://admin-api.payflow.example (no /api/v1)")
    token: SecretStr = Field(description="a service token with the support-actions scope")
    timeout_s: float = Field(default=10.0, gt=0)
    retry: RetrySettings = Field(default_factory=RetrySettings)

    @field_validator("base_url")
    @classmethod
    def _url(cls, v: str) -> str:
        v = v.strip().rstrip("/")
        if not v.startswith(("http://", "https://")):
            raise ValueError(f"base_url must be an http(s) URL such as https://admin-api.payflow.example, got {v!r}")
        return v


@runtime_checkable
class ActionBackend(Protocol):
    """Whatever executes a planned request: the real client, or a test double."""

    def send(self, request: PlannedRequest, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """Send one request; return the JSON answer; raise tools.http.WriteBackError subclasses."""
        ...


# The key of the request being sent; read by the auth flow so that every retry of one logical
# request carries the same key (ApiClient.request has no per-call headers).
_IDEMPOTENCY_KEY: contextvars.ContextVar[str | None] = contextvars.ContextVar("idempotency_key", default=None)


class _BearerWithIdempotency(httpx.Auth):
    def __init__(self, token: SecretStr) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token.get_secret_value()}"
        key = _IDEMPOTENCY_KEY.get()
        if key and request.method in ("POST", "PUT", "PATCH", "DELETE"):
            request.headers[IDEMPOTENCY_HEADER] = key
        yield request


@contextmanager
def _idempotency(key: str | None) -> Iterator[None]:
    token = _IDEMPOTENCY_KEY.set(key)
    try:
        yield
    finally:
        _IDEMPOTENCY_KEY.reset(token)


class PayFlowClient:
    """`ActionBackend` over HTTP: retries transient failures (429 with Retry-After, 5xx, timeouts)
    with the configured budget; a 4xx is a `PermanentWriteBackError` whose message says how to fix it."""

    def __init__(self, config: PayFlowConfig, *, transport: httpx.BaseTransport | None = None) -> None:
        self.config = config
        self.api = ApiClient(
            SYSTEM,
            config.base_url,
            auth=_BearerWithIdempotency(config.token),
            timeout_s=config.timeout_s,
            policy=config.retry.policy(),
            hints={
                401: "check TRIAGE_PAYFLOW_TOKEN: the service token may be wrong, revoked or expired",
                403: "the PayFlow service token lacks the support-actions scope",
                404: "the user, employee, pay run or record does not exist in PayFlow (or not in this "
                "customer's company): check the arguments; if every call 404s, check TRIAGE_PAYFLOW_URL",
                409: "PayFlow refused the action by a business rule (see its error text); a human should "
                "follow up with the customer",
            },
            transport=transport,
        )

    def send(self, request: PlannedRequest, *, idempotency_key: str | None = None) -> dict[str, Any]:
        with _idempotency(idempotency_key):
            # with a key the server applies a repeat once, so a timed-out POST may be sent again;
            # without one it is not idempotent and is never re-sent within the call (tools/http.py)
            return self.api.request_json(
                request.method,
                request.path,
                json_body=request.json_body,
                params=request.params,
                idempotent=True if idempotency_key else None,
            )

    @property
    def attempts(self) -> int:
        """Attempts the last request took (retries included)."""
        return self.api.last.attempts

    def close(self) -> None:
        self.api.close()

    def __enter__(self) -> PayFlowClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
