"""The intake fast path (api/routes/webhooks.py SignedIntakeRoutes): the signed webhooks answered past
FastAPI's router give the same answers as FastAPI's own routing of the same handlers (status, body,
headers), for good and for bad input, and are counted once in the intake metrics. Two real servers on
loopback (uvicorn, SQLite), one with the fast path and one with it taken out of the middleware."""

from __future__ import annotations

import hmac
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import create_engine

import agent.storage.keys as keystore
from api.app import create_app
from api.routes.webhooks import SignedIntakeRoutes, get_route_path
from evals.demo import signed_headers
from tests.conftest import make_settings
from tests.netutil import app_in_thread

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VARYING = {"date", "server"}  # headers that differ between any two answers


@contextmanager
def _serve(data: Path, *, fast: bool) -> Iterator[httpx.Client]:
    settings = make_settings(data, database_url=f"sqlite:///{data / 'triage.db'}", worker_enabled=False,
                             max_body_bytes=4096)  # fmt: skip
    app = create_app(settings)
    assert any(m.cls is SignedIntakeRoutes for m in app.user_middleware)
    if not fast:
        app.user_middleware = [m for m in app.user_middleware if m.cls is not SignedIntakeRoutes]
    with app_in_thread(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    with (
        _serve(tmp_path_factory.mktemp("fast"), fast=True) as fast,
        _serve(tmp_path_factory.mktemp("slow"), fast=False) as slow,
    ):
        yield fast, slow


def _ticket(external_id: str, **extra: Any) -> bytes:
    return json.dumps(
        {"external_id": external_id, "subject": "Payslip missing", "body": "No payslip.", **extra}
    ).encode()


def _answer(r: httpx.Response) -> tuple[int, Any, dict[str, str]]:
    try:
        body: Any = r.json()
    except ValueError:
        body = r.text
    if isinstance(body, dict) and "ticket_id" in body:
        body = {**body, "ticket_id": "<id>"}  # a fresh id per server
    headers = {k: v for k, v in r.headers.items() if k not in VARYING}
    if "location" in headers:  # a redirect names its own server's port
        headers["location"] = headers["location"].removeprefix(
            f"{r.request.url.scheme}://{r.request.url.netloc.decode()}"
        )
    return r.status_code, body, headers


# (name, method, path, body, headers: "signed" signs the body with the right secret, else as given)
CASES: list[tuple[str, str, str, bytes, str | dict[str, str]]] = [
    ("new ticket", "POST", "/webhooks/generic", _ticket("F-1"), "signed"),
    ("redelivery", "POST", "/webhooks/generic", _ticket("F-1"), "signed-again"),
    ("same ticket, new delivery", "POST", "/webhooks/generic", _ticket("F-1"), "signed"),
    ("no signature", "POST", "/webhooks/generic", _ticket("F-2"), {"content-type": "application/json"}),
    ("not JSON", "POST", "/webhooks/generic", b"{nope", "signed"),
    ("not an object", "POST", "/webhooks/generic", b"[1, 2]", "signed"),
    ("missing fields", "POST", "/webhooks/generic", b'{"external_id": "F-3"}', "signed"),
    ("a field too long", "POST", "/webhooks/generic", _ticket("F-4", language="x" * 99), "signed"),
    ("a 200-digit number", "POST", "/webhooks/generic", b'{"external_id": ' + b"9" * 200 + b"}", "signed"),
    ("nested too deep", "POST", "/webhooks/generic", b"[" * 150 + b"]" * 150, "signed"),
    ("body over the limit", "POST", "/webhooks/generic", _ticket("F-5", body="x" * 5000), "signed"),
    (
        "a lifecycle event",
        "POST",
        "/webhooks/generic",
        json.dumps({"kind": "status", "external_id": "F-1", "at": "2026-01-02T03:04:05Z", "status": "solved"}).encode(),
        "signed",
    ),
    ("unknown provider", "POST", "/webhooks/nope", b"{}", {"content-type": "application/json"}),
    ("unconfigured provider", "POST", "/webhooks/zendesk", b"{}", {"content-type": "application/json"}),
    ("jira without its secret", "POST", "/webhooks/jira", b"{}", {}),
    ("trailing slash", "POST", "/webhooks/generic/", _ticket("F-6"), "signed"),
    ("a provider path with a slash", "POST", "/webhooks/zendesk/x", b"{}", {}),
    ("wrong method", "GET", "/webhooks/generic", b"", {}),
    ("wrong method on a provider", "PUT", "/webhooks/zendesk", b"{}", {}),
    ("NUL in the query", "POST", "/webhooks/generic?x=%00", _ticket("F-7"), "signed"),
]


def test_the_fast_path_answers_exactly_as_fastapi_routing_does(servers: tuple[httpx.Client, httpx.Client]) -> None:
    fast, slow = servers
    answers: dict[str, tuple[Any, Any]] = {}
    previous: dict[str, str] = {}
    for name, method, path, body, headers in CASES:
        got = []
        for client in (fast, slow):
            if headers == "signed":
                h = signed_headers(SECRET, body)
            elif headers == "signed-again":  # the previous delivery, byte for byte
                h = signed_headers(SECRET, body, msg_id=previous[client.base_url.host + str(client.base_url.port)])
            else:
                assert not isinstance(headers, str)
                h = dict(headers)
            previous[client.base_url.host + str(client.base_url.port)] = h.get("webhook-id", "")
            got.append(_answer(client.request(method, path, content=body, headers=h)))
        answers[name] = (got[0], got[1])
        assert got[0] == got[1], f"{name}: fast path {got[0]} != FastAPI {got[1]}"
    # the cases reach what they are named for (so the comparison above compares something)
    status = {name: a[0][0] for name, a in answers.items()}
    assert status["new ticket"] == 202 and status["redelivery"] == 200 and status["same ticket, new delivery"] == 200
    assert status["no signature"] == 401 and status["not JSON"] == 400 and status["not an object"] == 400
    assert status["missing fields"] == status["a field too long"] == status["a 200-digit number"] == 422
    assert status["nested too deep"] == 422 and status["body over the limit"] == 413
    assert status["a lifecycle event"] == 202 and status["unknown provider"] == 404
    assert status["unconfigured provider"] == status["jira without its secret"] == 503
    assert status["wrong method"] == status["wrong method on a provider"] == 405
    assert status["NUL in the query"] == 400
    assert answers["new ticket"][0][2]["x-content-type-options"] == "nosniff"  # our middleware still runs
    assert answers["no signature"][0][1]["error"] == "unauthorized"


def test_a_fast_path_request_is_counted_once(servers: tuple[httpx.Client, httpx.Client]) -> None:
    fast, _slow = servers

    def count(result: str) -> float:
        return REGISTRY.get_sample_value("triage_intake_requests_total", {"source": "generic", "result": result}) or 0.0

    accepted, unauthorized = count("accepted"), count("unauthorized")
    body = _ticket("F-count")
    assert fast.post("/webhooks/generic", content=body, headers=signed_headers(SECRET, body)).status_code == 202
    assert fast.post("/webhooks/generic", content=body).status_code == 401
    assert count("accepted") == accepted + 1 and count("unauthorized") == unauthorized + 1


def test_route_path_drops_the_root_path_as_starlette_does() -> None:
    from starlette._utils import get_route_path as starlette_route_path

    for path, root in [("/webhooks/generic", ""), ("/api/webhooks/generic", "/api"), ("/api", "/api"),
                       ("/apix/webhooks/generic", "/api"), ("/other", "/api")]:  # fmt: skip
        scope = {"path": path, "root_path": root}
        assert get_route_path(scope) == starlette_route_path(scope)


# ---- API keys answered from memory (agent/storage/keys.py KeyStore.cached) -------------------------------


@pytest.fixture
def key_db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'keys.db'}"


def test_a_live_key_is_answered_from_memory_and_a_revoked_one_at_once(
    key_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = keystore.KeyStore(create_engine(key_db))
    created = keys.create("zendesk", "webhook", "t")
    assert keys.cached(created.key) is None  # never read yet: the database decides
    assert keys.authenticate(created.key).id == created.info.id
    hit = keys.cached(created.key)
    assert hit is not None and hit.id == created.info.id and hit.role == "webhook"
    assert keys.cached(created.key[:-2] + "zz") is None  # a wrong secret is never answered from memory
    assert keys.cached("junk") is None
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest
    monkeypatch.setattr(keystore.hmac, "compare_digest", lambda a, b: calls.append((a, b)) or real(a, b))
    keys.cached(created.key)
    assert len(calls) == 1 and len(calls[0][0]) == len(calls[0][1]) == 64  # the constant-time compare, once
    keys.revoke(created.info.id, "admin")
    assert keys.cached(created.key) is None
    with pytest.raises(keystore.KeyRefused, match="revoked"):
        keys.authenticate(created.key)


def test_a_key_revoked_elsewhere_is_refused_within_the_cache_time(key_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keystore, "KEY_CACHE_SECONDS", 0.3)
    api, cli = keystore.KeyStore(create_engine(key_db)), keystore.KeyStore(create_engine(key_db))  # two processes
    created = cli.create("zendesk", "webhook", "t")
    api.authenticate(created.key)
    cli.revoke(created.info.id, "admin")
    assert api.cached(created.key) is not None  # still in this process's memory, for at most the cache time
    time.sleep(0.35)
    assert api.cached(created.key) is None
    with pytest.raises(keystore.KeyRefused, match="revoked"):
        api.authenticate(created.key)


def test_a_key_due_a_last_used_write_goes_to_the_database(key_db: str, monkeypatch: pytest.MonkeyPatch) -> None:

    keys = keystore.KeyStore(create_engine(key_db))
    created = keys.create("zendesk", "webhook", "t")
    keys.authenticate(created.key)
    assert keys.cached(created.key) is not None
    monkeypatch.setattr(keystore, "LAST_USED_EVERY", timedelta(0))
    assert keys.cached(created.key) is None  # authenticate records the use


def test_intake_with_a_key_over_http_and_its_revocation(tmp_path: Path) -> None:
    """POST /intake/tickets with a webhook key (async auth, the key from memory after the first), then
    revoked through the API: refused on the very next request."""
    with _serve(tmp_path, fast=True) as client:
        admin = {"authorization": "Bearer test-api-key"}
        made = client.post("/admin/keys", json={"name": "sender", "role": "webhook"}, headers=admin)
        assert made.status_code == 201, made.text
        key = {"authorization": f"Bearer {made.json()['key']}"}
        first = client.post("/intake/tickets", content=_ticket("K-1"), headers=key)
        assert first.status_code == 202, first.text
        again = client.post("/intake/tickets", content=_ticket("K-1"), headers=key)
        assert again.status_code == 200 and again.json() == {"ticket_id": first.json()["ticket_id"], "duplicate": True}
        long_key = client.post("/intake/tickets", content=_ticket("K-2"), headers={**key, "idempotency-key": "x" * 300})
        assert long_key.status_code == 422 and long_key.json()["error"] == "invalid"
        unknown = {"authorization": "Bearer trk_nope"}
        assert client.post("/intake/tickets", content=_ticket("K-3"), headers=unknown).status_code == 401
        assert client.delete(f"/admin/keys/{made.json()['id']}", headers=admin).status_code == 200
        refused = client.post("/intake/tickets", content=_ticket("K-4"), headers=key)
        assert refused.status_code == 401 and "revoked" in refused.json()["detail"]
