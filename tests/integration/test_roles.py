"""Who may do what, over real HTTP (the real app on loopback, real SQLite, no worker).

Keys of each role are created through POST /admin/keys with the bootstrap TRIAGE_API_KEY; then each
role calls each endpoint. The expected role of every route is read from its dependency, so routes
added later (reviews, ...) are checked too, and a route without an auth dependency fails the build.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.routing import BaseRoute, Mount

from agent.domain import WriteBack
from agent.graph.testing import sample_result
from agent.settings import Settings
from agent.storage.keys import ROLES
from agent.storage.tickets import TicketStore
from api.app import create_app
from tests.conftest import make_settings
from tests.integration.conftest import post_ticket, serve_in_thread
from tests.integration.test_writeback_e2e import credentials, writeback_config
from tools.ticketing import WriteBackPlan
from tools.ticketing.testing.youtrack import FakeYouTrack

pytestmark = pytest.mark.integration
BOOTSTRAP = "test-api-key"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
TICKET = {"external_id": "EXT-1", "subject": "Payslip missing", "body": "I did not get my payslip."}

OPEN = {"/healthz", "/readyz", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}  # no key by design
# intake authenticated by the sender's signature or shared token (verified in the handler, 401 without)
SIGNED = {"/webhooks/generic", "/webhooks/{provider}"}


def bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


@dataclass(frozen=True)
class Endpoint:
    path: str
    methods: frozenset[str]
    dependant: Dependant | None  # None: not a FastAPI route (docs, a mount)
    route: BaseRoute


def endpoints(app: FastAPI) -> list[Endpoint]:
    """Every route of the app, with routers included lazily (FastAPI >= 0.16x) flattened and their
    router-level dependencies in each route's dependant."""
    out: list[Endpoint] = []
    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is not None:
            for ctx in contexts():
                out.append(Endpoint(ctx.path, frozenset(ctx.methods or ()), ctx.dependant, ctx.original_route))
        elif isinstance(route, APIRoute):
            out.append(Endpoint(route.path, frozenset(route.methods or ()), route.dependant, route))
        else:
            out.append(
                Endpoint(getattr(route, "path", ""), frozenset(getattr(route, "methods", None) or ()), None, route)
            )
    return out


def required_role(e: Endpoint) -> str | None:
    """The role an endpoint's dependencies demand (require_role(...) anywhere in its dependency tree)."""
    stack = list(e.dependant.dependencies) if e.dependant is not None else []
    while stack:
        dep = stack.pop()
        role = getattr(dep.call, "required_role", None)
        if role is not None:
            return role
        stack.extend(dep.dependencies)
    return None


def api_endpoints(app: FastAPI) -> list[Endpoint]:
    return [e for e in endpoints(app) if e.dependant is not None]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, database_url=f"sqlite:///{tmp_path / 'triage.db'}", worker_enabled=False)


@pytest.fixture
def client(settings: Settings) -> Iterator[httpx.Client]:
    with serve_in_thread(settings) as url, httpx.Client(base_url=url, timeout=30) as c:
        yield c


def make_key(client: httpx.Client, role: str, name: str | None = None) -> dict[str, Any]:
    r = client.post("/admin/keys", json={"name": name or f"{role}-key", "role": role}, headers=bearer(BOOTSTRAP))
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture
def keys(client: httpx.Client) -> dict[str, str]:
    return {role: make_key(client, role)["key"] for role in ROLES}


# ---- every route is guarded ---------------------------------------------------------------------
def test_every_route_has_an_auth_dependency() -> None:
    """Fails when an endpoint is added without AgentDep / AdminDep / WebhookDep (or is not one of the
    deliberately open or signature-checked paths)."""
    app = create_app(make_settings(Path("/nonexistent"), worker_enabled=False))
    unguarded = []
    for e in endpoints(app):
        if e.path in OPEN or (isinstance(e.route, Mount) and isinstance(e.route.app, StaticFiles)):
            continue  # open by design; static assets (css/js) of the review page
        if e.path in SIGNED and e.dependant is not None:
            continue
        if required_role(e) is None:
            unguarded.append(f"{sorted(e.methods)} {e.path or type(e.route).__name__}")
    assert not unguarded, f"routes without an auth dependency (add AgentDep/AdminDep/WebhookDep): {unguarded}"
    guarded = {e.path: required_role(e) for e in api_endpoints(app)}
    assert guarded["/tickets/{ticket_id}"] == "agent"
    assert guarded["/tickets/{ticket_id}/writeback/retry"] == "admin"
    assert guarded["/sla/at-risk"] == guarded["/routing/on-duty"] == "agent"
    assert guarded["/kpis"] == guarded["/dashboard/data"] == "agent"
    assert guarded["/admin/keys"] == guarded["/admin/keys/{key_id}"] == "admin"
    assert guarded["/intake/tickets"] == "webhook"


def test_signature_checked_routes_refuse_a_key_without_a_signature(client: httpx.Client, keys: dict[str, str]) -> None:
    for role in ROLES:
        for path in ("/webhooks/generic", "/webhooks/jira"):
            r = client.post(path, json=TICKET, headers=bearer(keys[role]))
            assert r.status_code in (401, 503), (role, path, r.text)  # 503: that provider's secret is not set


# ---- each role against each endpoint --------------------------------------------------------------
def test_each_role_against_each_endpoint(client: httpx.Client, keys: dict[str, str]) -> None:
    app = create_app(make_settings(Path("/nonexistent"), worker_enabled=False))
    checked = 0
    for e in api_endpoints(app):
        needed = required_role(e)
        if needed is None:
            continue
        path = re.sub(r"\{[^}]+\}", "nope", e.path)
        for method in sorted(e.methods - {"HEAD"}):
            for role in ROLES:
                r = client.request(method, path, json={}, headers=bearer(keys[role]))
                allowed = role == needed or role == "admin"
                if allowed:
                    assert r.status_code not in (401, 403), (method, path, role, r.text)
                else:
                    assert r.status_code == 403, (method, path, role, r.text)
                    assert f"needs the '{needed}' role" in r.json()["detail"]
                    assert r.json()["error"] == "forbidden"
            anon = client.request(method, path, json={})
            assert anon.status_code == 401 and anon.headers["www-authenticate"] == "Bearer", (method, path)
            checked += 1
    assert checked >= 7


def test_agent_reads_tickets_and_sla_but_not_admin(client: httpx.Client, keys: dict[str, str]) -> None:
    agent = bearer(keys["agent"])
    assert client.get("/sla/at-risk", headers=agent).status_code == 200
    assert client.get("/routing/on-duty", headers=agent).status_code == 200
    assert client.get("/tickets/nope", headers=agent).status_code == 404
    r = client.get("/admin/keys", headers=agent)
    assert r.status_code == 403 and "'admin'" in r.json()["detail"] and "'agent'" in r.json()["detail"]
    assert client.post("/tickets/nope/writeback/retry", headers=agent).status_code == 403


def test_webhook_key_takes_intake_only(client: httpx.Client, keys: dict[str, str]) -> None:
    hook = bearer(keys["webhook"])
    r = client.post("/intake/tickets", json=TICKET, headers=hook)
    assert r.status_code == 202, r.text
    ticket_id = r.json()["ticket_id"]
    again = client.post("/intake/tickets", json=TICKET, headers=hook)  # resent: same ticket
    assert again.status_code == 200 and again.json() == {"ticket_id": ticket_id, "duplicate": True}
    # the same external id under another idempotency key is still the same ticket (issue 16)...
    same = client.post("/intake/tickets", json=TICKET, headers={**hook, "idempotency-key": "d-2"})
    assert same.status_code == 200 and same.json() == {"ticket_id": ticket_id, "duplicate": True}
    # ... and another sender's (key's) ticket with the same external id is its own ticket
    second = bearer(make_key(client, "webhook")["key"])
    theirs = client.post("/intake/tickets", json=TICKET, headers=second)
    assert theirs.status_code == 202 and theirs.json()["ticket_id"] != ticket_id
    # ... another ticket is a new one
    other_ticket = {**TICKET, "external_id": f"{TICKET['external_id']}-2"}
    other = client.post("/intake/tickets", json=other_ticket, headers={**hook, "idempotency-key": "d-3"})
    assert other.status_code == 202 and other.json()["ticket_id"] != ticket_id
    r = client.get(f"/tickets/{ticket_id}", headers=hook)
    assert r.status_code == 403 and "'agent'" in r.json()["detail"]
    assert client.get("/sla/at-risk", headers=hook).status_code == 403
    got = client.get(f"/tickets/{ticket_id}", headers=bearer(keys["agent"])).json()
    assert got["source"] == "api" and got["status"] == "received"
    # an agent key cannot create tickets; bad bodies are named
    assert client.post("/intake/tickets", json=TICKET, headers=bearer(keys["agent"])).status_code == 403
    bad = client.post("/intake/tickets", json={"subject": "x"}, headers=hook)
    assert bad.status_code == 422 and "external_id" in str(bad.json())


def test_signed_webhooks_still_need_no_key(client: httpx.Client) -> None:
    assert post_ticket(client, SECRET, TICKET).status_code == 202


# ---- 401s -------------------------------------------------------------------------------------------
def test_missing_unknown_and_revoked_keys_get_401_saying_how_to_fix(client: httpx.Client, keys: dict[str, str]) -> None:
    r = client.get("/sla/at-risk")
    assert r.status_code == 401 and "missing API key" in r.json()["detail"]
    assert "triage keys create" in r.json()["detail"]
    for wrong in ("wrong", keys["agent"][:-3] + "xyz", "trk_" + "0" * 12 + "_" + "A" * 43):
        r = client.get("/sla/at-risk", headers=bearer(wrong))
        assert r.status_code == 401, wrong
    listed = client.get("/admin/keys", headers=bearer(BOOTSTRAP)).json()
    agent_id = next(k["id"] for k in listed if k["role"] == "agent")
    assert client.get("/sla/at-risk", headers=bearer(keys["agent"])).status_code == 200
    r = client.delete(f"/admin/keys/{agent_id}", headers=bearer(keys["admin"]))
    assert r.status_code == 200 and r.json()["revoked_at"] and r.json()["revoked_by"].startswith("admin-key")
    r = client.get("/sla/at-risk", headers=bearer(keys["agent"]))
    assert r.status_code == 401 and "revoked" in r.json()["detail"]
    assert client.delete("/admin/keys/nope", headers=bearer(BOOTSTRAP)).status_code == 404


def test_bootstrap_key_is_admin_and_key_management_never_shows_secrets(
    client: httpx.Client, keys: dict[str, str]
) -> None:
    boot = bearer(BOOTSTRAP)
    assert client.get("/sla/at-risk", headers=boot).status_code == 200
    assert client.post("/intake/tickets", json=TICKET, headers=boot).status_code == 202
    made = make_key(client, "agent", "anna")
    assert made["key"].startswith(f"trk_{made['id']}_") and made["created_by"] == "bootstrap"
    r = client.get("/admin/keys", headers=bearer(keys["admin"]))
    assert r.status_code == 200
    listed = r.json()
    assert {k["name"] for k in listed} >= {"anna", "webhook-key", "agent-key", "admin-key"}
    text = r.text
    assert all(k.split("_", 2)[2] not in text for k in [*keys.values(), made["key"]])
    assert all("key" not in k and "key_hash" not in k for k in listed)
    used = {k["name"]: k["last_used_at"] for k in listed}
    assert used["admin-key"] is not None and used["anna"] is None
    bad = client.post("/admin/keys", json={"name": "x", "role": "root"}, headers=boot)
    assert bad.status_code == 422


# ---- who did it -------------------------------------------------------------------------------------
def test_write_back_retry_records_who(tmp_path: Path) -> None:
    ext = "2-9"
    with FakeYouTrack() as fake:
        fake.seed(ext)
        settings = make_settings(
            tmp_path,
            database_url=f"sqlite:///{tmp_path / 'triage.db'}",
            worker_enabled=False,
            writeback=writeback_config("youtrack", groups={"payroll-support": "Payroll"}),
            **credentials("youtrack", fake),
        )
        store = TicketStore(settings.db_url)
        ticket_id, _ = store.create_or_get("youtrack", "d-1", {"external_id": ext, "subject": "s", "body": "b"})
        assert store.claim("w", 60) is not None
        plan = WriteBackPlan(ticket_id=ticket_id, external_id=ext, action="handoff", note="for a human", resolve=False)
        failed = WriteBack(
            status="failed", system="youtrack", external_id=ext, failed_step="note", error="503",
            plan=plan,
        )  # fmt: skip
        result = sample_result(decision={"action": "handoff", "reason": "r"}, writeback=failed.model_dump(mode="json"))
        assert store.complete(ticket_id, "w", "writeback_failed", result, [], error="write-back failed")
        store.engine.dispose()
        with serve_in_thread(settings) as url, httpx.Client(base_url=url, timeout=30) as client:
            admin = make_key(client, "admin", "olga")
            agent = make_key(client, "agent", "anna")
            retry = f"/tickets/{ticket_id}/writeback/retry"
            assert client.post(retry, headers=bearer(agent["key"])).status_code == 403
            r = client.post(retry, headers=bearer(admin["key"]))
            assert r.status_code == 200, r.text
            events = [a for a in r.json()["audit"] if a["node"] == "writeback_retry"]
            assert events and events[-1]["detail"]["by"] == {"name": "olga", "role": "admin", "key_id": admin["id"]}


def test_key_store_on_postgresql() -> None:
    """The same table and checks on PostgreSQL (own schema, dropped afterwards)."""
    import os
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    from agent.storage.keys import KeyRefused, KeyStore

    base = os.environ.get("TRIAGE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    schema = f"keys_{uuid.uuid4().hex[:10]}"
    try:
        admin = create_engine(base)
        with admin.begin() as conn:
            conn.execute(text(f"create schema {schema}"))
    except (OperationalError, ImportError):
        pytest.skip(f"no PostgreSQL at {base}")
    try:
        store = TicketStore(f"{base}?options=-csearch_path%3D{schema}")
        keys = KeyStore(store.engine, store.writing)
        created = keys.create("anna", "agent", "t")
        got = keys.authenticate(created.key)
        assert got.role == "agent" and keys.get(got.id).last_used_at is not None  # type: ignore[union-attr]
        keys.revoke(got.id, "t")
        with pytest.raises(KeyRefused, match="revoked"):
            keys.authenticate(created.key)
        store.engine.dispose()
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"drop schema {schema} cascade"))
        admin.dispose()


def test_a_key_name_with_a_control_character_is_refused_not_stored(client: httpx.Client) -> None:
    """A NUL in a name is a 500 from PostgreSQL's driver if it gets that far; it is a 422 naming the field."""
    for name in ("bad\x00name", "tab\there", "bell\x07"):
        r = client.post("/admin/keys", json={"name": name, "role": "agent"}, headers=bearer(BOOTSTRAP))
        assert r.status_code == 422, (name, r.text)
        assert "name" in r.text
    listed = client.get("/admin/keys", headers=bearer(BOOTSTRAP)).json()
    assert not [k for k in listed if "\x00" in k["name"] or "\t" in k["name"]]
