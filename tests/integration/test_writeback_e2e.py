"""A ticket created in Zendesk, Jira, Freshdesk or YouTrack comes back triaged, written through that
system's API exactly once: the real service on loopback (webhook -> worker -> graph -> write_back),
the system's fake server (a real HTTP app) with injected 429s and 5xxs, replays, a failed write-back
left visible and retried through the API and the CLI, and a resumed graph run.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from agent.domain import Ticket
from agent.graph.policy import load_policy
from agent.graph.routing import cached_team
from agent.runtime.assembly import Agent, sqlite_checkpointer
from agent.settings import REPO_ROOT, Settings
from tests.conftest import clean_env, make_settings
from tests.integration.conftest import post_ticket, serve_in_thread, wait_finished
from tests.integration.test_webhooks_providers import FD_TOKEN, JIRA_SECRET, PROVIDER_SECRETS, YT_TOKEN, ZD_SECRET
from tests.unit.test_webhook_providers import (
    FRESHDESK_BODY,
    JIRA_ISSUE_CREATED,
    YOUTRACK_ISSUE_CREATED,
    ZENDESK_EVENT,
)
from tools.signing import sign_hub, sign_zendesk
from tools.ticketing import Priority, TicketingSystem
from tools.ticketing.testing import (
    FAST_RETRY,
    FakeFreshdesk,
    FakeJira,
    FakeServer,
    FakeYouTrack,
    FakeZendesk,
)

pytestmark = pytest.mark.integration
KEY = "test-api-key"
STANDARD_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # tests.conftest.make_settings
POLICY = REPO_ROOT / "agent" / "graph" / "policy.yaml"
TEAM = REPO_ROOT / "agent" / "graph" / "routing.yaml"
AUTH = {"authorization": f"Bearer {KEY}"}
SYSTEMS = ["zendesk", "jira", "freshdesk", "youtrack"]
EXTERNAL_ID = {"zendesk": "5158", "jira": "SUP-42", "freshdesk": "1042", "youtrack": "SUP-123"}
FAKES: dict[str, type[FakeServer]] = {
    "zendesk": FakeZendesk,
    "jira": FakeJira,
    "freshdesk": FakeFreshdesk,
    "youtrack": FakeYouTrack,
}
# what each system calls our priorities and the payroll-support queue (adapter defaults + our mapping)
PRIORITY: dict[str, dict[str, Any]] = {
    "zendesk": {"low": "low", "normal": "normal", "high": "high", "urgent": "urgent"},
    "jira": {"low": "Low", "normal": "Medium", "high": "High", "urgent": "Highest"},
    "freshdesk": {"low": 1, "normal": 2, "high": 3, "urgent": 4},
    "youtrack": {"low": "Minor", "normal": "Normal", "high": "Major", "urgent": "Critical"},
}
GROUP_ID = {"zendesk": "360001", "jira": "Payroll", "freshdesk": "77", "youtrack": "Payroll"}
GROUP_SEEN: dict[str, Any] = {"zendesk": 360001, "jira": ["Payroll"], "freshdesk": 77, "youtrack": "Payroll"}
STEPS = ["reply", "note", "priority", "group", "tags", "resolve"]

PAYSLIP = (
    "Employee did not get her payslip",
    "Hello, Maria says she never received her October payslip email. Could you resend it?",
)
BREACH = (
    "We were hacked",
    "Someone logged into our admin account from an unknown country and changed bank details.",
)


# ---- the systems as their webhooks send a new ticket, and as their fakes hold it -----------------
def webhook(system: str, external_id: str, subject: str, body: str) -> tuple[str, bytes, dict[str, str]]:
    """(path, raw body, headers) of the system's ticket-created webhook, signed as it signs it."""
    headers = {"content-type": "application/json"}
    if system == "zendesk":
        payload = copy.deepcopy(ZENDESK_EVENT)
        payload["id"] = str(uuid.uuid4())
        payload["detail"].update(id=external_id, subject=subject, description=body)
        raw = json.dumps(payload).encode()
        ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        headers["X-Zendesk-Webhook-Signature"] = sign_zendesk(ZD_SECRET, ts, raw)
        headers["X-Zendesk-Webhook-Signature-Timestamp"] = ts
    elif system == "jira":
        payload = copy.deepcopy(JIRA_ISSUE_CREATED)
        payload["issue"]["key"] = external_id
        payload["issue"]["fields"].update(summary=subject, description=body)
        raw = json.dumps(payload).encode()
        headers["X-Hub-Signature"] = sign_hub(JIRA_SECRET, raw)
        headers["X-Atlassian-Webhook-Identifier"] = str(uuid.uuid4())
    elif system == "freshdesk":
        payload = {**FRESHDESK_BODY, "ticket_id": external_id, "subject": subject, "description": body}
        raw = json.dumps(payload).encode()
        headers["X-Triage-Token"] = FD_TOKEN
    else:
        payload = {**YOUTRACK_ISSUE_CREATED, "idReadable": external_id, "summary": subject, "description": body}
        raw = json.dumps(payload).encode()
        headers["X-YouTrack-Token"] = YT_TOKEN
    return f"/webhooks/{system}", raw, headers


@dataclass
class Seen:
    """A ticket as the fake system holds it, in the same shape for every system."""

    replies: list[str]
    notes: list[str]
    priority: Any
    group: Any
    tags: list[str]
    assignee: Any
    resolved: bool


def _unmarked(texts: list[str]) -> list[str]:
    """Comments without the marker footer every note and reply carries (`ref triage-<id>-<step>`)."""
    return [re.sub(r"\n\nref triage-[a-z0-9-]+$", "", t) for t in texts]


def seen(system: str, fake: FakeServer, external_id: str) -> Seen:
    got = _seen(system, fake, external_id)
    got.replies, got.notes = _unmarked(got.replies), _unmarked(got.notes)
    return got


def _seen(system: str, fake: FakeServer, external_id: str) -> Seen:
    t = fake.tickets[external_id]
    if system == "zendesk":
        comments = [(c["body"], c["public"]) for c in t["comments"]]
        return Seen(
            [b for b, public in comments if public],
            [b for b, public in comments if not public],
            t["priority"],
            t["group_id"],
            t["tags"],
            t["assignee_id"],
            t["status"] == "solved",
        )
    if system == "jira":
        return Seen(
            [c["text"] for c in t["comments"] if not c["internal"]],
            [c["text"] for c in t["comments"] if c["internal"]],
            t["priority"],
            t["components"],
            t["labels"],
            t["assignee"],
            t["status"] == "Resolved",
        )
    if system == "freshdesk":
        return Seen(
            [c["body"] for c in t["conversations"] if not c["private"]],
            [c["body"] for c in t["conversations"] if c["private"]],
            t["priority"],
            t["group_id"],
            t["tags"],
            t["responder_id"],
            t["status"] == 4,
        )
    fields = t["fields"]
    return Seen(
        [c["text"] for c in t["comments"] if not c["permittedGroups"]],
        [c["text"] for c in t["comments"] if c["permittedGroups"]],
        fields.get("priority"),
        fields.get("subsystem"),
        t["tags"],
        fields.get("assignee"),
        fields.get("state") == "Fixed",
    )


def writes(fake: FakeServer) -> list[str]:
    """Accepted write requests (every plan step is exactly one write, whatever the system)."""
    return [f"{r.method} {r.path}" for r in fake.calls if r.method != "GET"]


def credentials(system: str, fake: FakeServer) -> dict[str, Any]:
    prefix = {"zendesk": "zendesk_", "jira": "jira_", "freshdesk": "freshdesk_", "youtrack": "youtrack_"}[system]
    values: dict[str, Any] = {f"{prefix}url": fake.url}
    for key, value in fake.credentials.items():
        values[f"{prefix}{key}"] = value
    if system == "youtrack":
        values["youtrack_note_group_id"] = "3-7"
    return values


def writeback_config(system: str, **extra: Any) -> dict[str, Any]:
    return {system: {"retry": FAST_RETRY.model_dump(), "timeout_s": 3.0, **extra}}


@pytest.fixture
def wb_settings(demo_data_dir: Path, tmp_path: Path) -> Iterator[Any]:
    """settings_for(system, fake, **writeback_extra): the demo KB, a fresh DB, write-back to the fake."""

    def build(system: str, fake: FakeServer, groups: dict[str, str] | None = None, **extra: Any) -> Settings:
        return make_settings(
            demo_data_dir,
            database_url=f"sqlite:///{tmp_path / 'triage.db'}",
            checkpoint_db=tmp_path / "checkpoints.sqlite",
            writeback=writeback_config(system, groups=groups or {"payroll-support": GROUP_ID[system]}, **extra),
            **PROVIDER_SECRETS,
            **credentials(system, fake),
        )

    yield build


def send(client: httpx.Client, delivery: tuple[str, bytes, dict[str, str]]) -> httpx.Response:
    path, raw, headers = delivery
    return client.post(path, content=raw, headers=headers)


def prio(got: dict[str, Any]) -> Priority:
    return got["triage"]["priority"]["value"]


# ---- the whole path, per system ------------------------------------------------------------------
@pytest.mark.parametrize("system", SYSTEMS)
def test_ticket_is_triaged_and_written_back_once_despite_429_and_503(system: str, wb_settings: Any) -> None:
    ext = EXTERNAL_ID[system]
    with FAKES[system]() as fake:
        fake.seed(ext)
        settings: Settings = wb_settings(system, fake)
        fake.inject(429, retry_after="1")  # the reply: rate limited once, then accepted
        fake.inject(None)
        fake.inject(503, times=2)  # the note: two 503s, then accepted
        with serve_in_thread(settings) as url, httpx.Client(base_url=url, timeout=30) as client:
            delivery = webhook(system, ext, *PAYSLIP)
            r = send(client, delivery)
            assert r.status_code == 202, r.text
            got = wait_finished(client, r.json()["ticket_id"], KEY)

            assert got["status"] == "done", got
            assert got["source"] == system and got["external_id"] == ext
            assert got["decision"]["action"] == "auto_resolve"
            wb = got["writeback"]
            assert wb["status"] == "done" and wb["ok"] and wb["system"] == system and wb["external_id"] == ext
            assert [(s["step"], s["status"]) for s in wb["steps"]] == [(s, "done") for s in STEPS]
            assert ("write_back", "written") in [(a["node"], a["event"]) for a in got["audit"]]

            assert [r.status if r.status >= 300 else "ok" for r in fake.requests[:5]] == [429, "ok", 503, 503, "ok"]
            assert len(writes(fake)) == len(STEPS), writes(fake)  # one accepted write per step
            t = seen(system, fake, ext)
            assert t.replies == [got["reply"]["text"]] and "[KB-009]" in t.replies[0]
            assert len(t.notes) == 1
            note = t.notes[0]
            assert "auto-resolved" in note and "payslips" in note and got["policy_version"] in note
            assert "KB-009" in note and got["decision"]["reason"][:40] in note
            assert t.priority == PRIORITY[system][prio(got)]
            assert t.group == GROUP_SEEN[system]
            assert {"ai-triage", "ai-auto-resolved", "payslips"} <= set(t.tags)
            assert t.resolved

            # the system redelivers the webhook: same ticket, nothing written again
            again = send(client, delivery)
            assert again.status_code == 200 and again.json() == {"ticket_id": got["ticket_id"], "duplicate": True}
            time.sleep(0.5)
            assert len(writes(fake)) == len(STEPS)


def test_handed_off_ticket_gets_an_internal_note_queue_and_assignee_but_no_reply(wb_settings: Any) -> None:
    system, ext = "zendesk", "7001"
    with FakeZendesk() as fake:
        fake.seed(ext)
        # the policy's queues and the routing team file's escalation queues (security, payroll-escalations, ...)
        names = {c.queue for c in load_policy(POLICY).categories.values()} | {
            r.queue for r in cached_team(TEAM).rules if r.queue
        }
        queues = {q: str(10 + i) for i, q in enumerate(sorted(names))}
        settings: Settings = wb_settings(
            system, fake, groups=queues, assignees={q: "900" + g for q, g in queues.items()}
        )
        with serve_in_thread(settings) as url, httpx.Client(base_url=url, timeout=30) as client:
            r = send(client, webhook(system, ext, *BREACH))
            got = wait_finished(client, r.json()["ticket_id"], KEY)
    assert got["status"] == "handed_off" and got["decision"]["action"] == "handoff", got
    queue = got["routing"]["queue"]  # routing's queue (security for a breach), not the category's
    assert queue == "security"
    assert [s["step"] for s in got["writeback"]["steps"]] == ["note", "priority", "group", "tags", "assign"]
    t = seen(system, fake, ext)
    assert t.replies == [] and not t.resolved
    assert t.notes == [got["handoff_note"] + f"\nPolicy {got['policy_version']}; ticket {got['ticket_id']}"]
    assert t.group == int(queues[queue]) and t.assignee == int("900" + queues[queue])
    assert {"ai-triage", "ai-handoff", "ai-risk-security"} <= set(t.tags)
    assert t.priority == PRIORITY[system][prio(got)]


def test_generic_ticket_is_not_written_back_and_the_audit_says_why(wb_settings: Any) -> None:
    with FakeZendesk() as fake:
        settings: Settings = wb_settings("zendesk", fake)
        ticket = {"external_id": "5158", "subject": PAYSLIP[0], "body": PAYSLIP[1]}
        with serve_in_thread(settings) as url, httpx.Client(base_url=url, timeout=30) as client:
            r = post_ticket(client, STANDARD_SECRET, ticket)
            got = wait_finished(client, r.json()["ticket_id"], KEY)
    assert got["status"] == "done"
    assert got["writeback"]["status"] == "skipped" and got["writeback"]["ok"]
    assert "'generic' is not a ticketing system" in got["writeback"]["reason"]
    assert ("write_back", "skipped") in [(a["node"], a["event"]) for a in got["audit"]]
    assert fake.requests == []


# ---- failure stays visible and is retried once fixed ---------------------------------------------
def _fail_the_note(fake: FakeServer, failure: str) -> None:
    fake.inject(None)  # the reply goes through
    if failure == "permanent":
        fake.inject(403)  # the note is refused: not retried
    else:
        fake.inject(503, times=FAST_RETRY.max_attempts)  # the note: the retry budget runs out


def _assert_failed_at_note(got: dict[str, Any], system: str, failure: str) -> None:
    assert got["status"] == "writeback_failed", got
    wb = got["writeback"]
    assert wb["status"] == "failed" and not wb["ok"] and wb["failed_step"] == "note"
    assert wb["retryable"] is (failure == "exhausted")
    assert ("403" in wb["error"]) if failure == "permanent" else ("gave up after" in wb["error"])
    assert [(s["step"], s["status"]) for s in wb["steps"]] == [("reply", "done"), ("note", "failed")] + [
        (s, "not_run") for s in STEPS[2:]
    ]
    assert got["error"].startswith(f"write-back to {system} failed at step note")
    # the triage result is intact
    assert got["decision"]["action"] == "auto_resolve" and "[KB-009]" in got["reply"]["text"]
    assert got["triage"]["category"]["value"] == "payslips"
    failed = [a for a in got["audit"] if (a["node"], a["event"]) == ("write_back", "failed")]
    assert failed and failed[0]["detail"]["failed_step"] == "note"


@pytest.mark.parametrize(("system", "failure"), [(s, f) for s in SYSTEMS for f in ("permanent", "exhausted")])
def test_failed_write_back_is_visible_and_the_retry_endpoint_finishes_it(
    system: str, failure: str, wb_settings: Any
) -> None:
    ext = EXTERNAL_ID[system]
    with FAKES[system]() as fake:
        fake.seed(ext)
        settings: Settings = wb_settings(system, fake)
        _fail_the_note(fake, failure)
        with serve_in_thread(settings) as url, httpx.Client(base_url=url, timeout=30) as client:
            r = send(client, webhook(system, ext, *PAYSLIP))
            ticket_id = r.json()["ticket_id"]
            got = wait_finished(client, ticket_id, KEY)
            _assert_failed_at_note(got, system, failure)
            t = seen(system, fake, ext)
            assert len(t.replies) == 1 and t.notes == [] and not t.resolved
            assert client.get("/healthz", headers=AUTH).json()["tickets"] == {"writeback_failed": 1}

            # the fake is fixed (its faults are used up); an operator retries
            retry = f"/tickets/{ticket_id}/writeback/retry"
            assert client.post(retry).status_code == 401
            assert client.post("/tickets/nope/writeback/retry", headers=AUTH).status_code == 404
            r = client.post(retry, headers=AUTH)
            assert r.status_code == 200, r.text
            done = r.json()
            assert done["status"] == "done" and done["error"] is None
            assert done["writeback"]["runs"] == 2 and done["writeback"]["ok"]
            assert [(s["step"], s["status"]) for s in done["writeback"]["steps"]] == [("reply", "skipped")] + [
                (s, "done") for s in STEPS[1:]
            ]
            assert done["reply"] == got["reply"] and done["decision"] == got["decision"]  # result intact
            assert ("writeback_retry", "written") in [(a["node"], a["event"]) for a in done["audit"]]
            t = seen(system, fake, ext)
            assert len(t.replies) == 1 and len(t.notes) == 1 and t.resolved  # the reply was not re-posted
            assert len(writes(fake)) == len(STEPS)

            again = client.post(retry, headers=AUTH)
            assert again.status_code == 409 and "'done'" in again.json()["detail"]


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL whose tables live in a fresh schema of their own (dropped afterwards)."""
    base = os.environ.get("TRIAGE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    schema = f"wb_{uuid.uuid4().hex[:10]}"
    try:
        admin = create_engine(base)
        with admin.begin() as conn:
            conn.execute(text(f"create schema {schema}"))
    except (OperationalError, ImportError):
        pytest.skip(f"no PostgreSQL at {base}")
    try:
        yield f"{base}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"drop schema {schema} cascade"))
        admin.dispose()


def test_on_postgresql_the_ledger_shares_the_tickets_database(wb_settings: Any, pg_url: str) -> None:
    system, ext = "youtrack", EXTERNAL_ID["youtrack"]
    with FakeYouTrack() as fake:
        fake.seed(ext)
        settings: Settings = wb_settings(system, fake).model_copy(update={"database_url": pg_url})
        _fail_the_note(fake, "exhausted")
        with serve_in_thread(settings) as url, httpx.Client(base_url=url, timeout=30) as client:
            ticket_id = send(client, webhook(system, ext, *PAYSLIP)).json()["ticket_id"]
            _assert_failed_at_note(wait_finished(client, ticket_id, KEY), system, "exhausted")
            r = client.post(f"/tickets/{ticket_id}/writeback/retry", headers=AUTH)
            assert r.status_code == 200 and r.json()["status"] == "done", r.text
    engine = create_engine(pg_url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("select step, status, attempts from writebacks where ticket_id = :t order by id"), {"t": ticket_id}
        ).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [("reply", "done", 1), ("note", "done", 2)] + [(s, "done", 1) for s in STEPS[2:]]
    t = seen(system, fake, ext)
    assert len(t.replies) == 1 and len(t.notes) == 1 and t.resolved


def _cli(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api", "writeback", "retry", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_retries_every_failed_write_back(wb_settings: Any, tmp_path: Path) -> None:
    system, ext = "freshdesk", EXTERNAL_ID["freshdesk"]
    with FakeFreshdesk() as fake:
        fake.seed(ext)
        settings: Settings = wb_settings(system, fake)
        _fail_the_note(fake, "exhausted")
        with serve_in_thread(settings) as url, httpx.Client(base_url=url, timeout=30) as client:
            ticket_id = send(client, webhook(system, ext, *PAYSLIP)).json()["ticket_id"]
            _assert_failed_at_note(wait_finished(client, ticket_id, KEY), system, "exhausted")

            env = clean_env()
            env.update(
                PYTHONPATH=str(REPO_ROOT),
                TRIAGE_CONFIG=str(tmp_path / "none.toml"),
                TRIAGE_DATABASE_URL=settings.db_url,
                TRIAGE_DATA_DIR=str(tmp_path),
                TRIAGE_FRESHDESK_URL=fake.url,
                TRIAGE_FRESHDESK_API_KEY=fake.api_key,
                TRIAGE_WRITEBACK=json.dumps(settings.writeback),
            )
            fake.inject(503, times=FAST_RETRY.max_attempts)  # still down at the first retry
            first = _cli(env, tmp_path, "--all")
            assert first.returncode == 1 and "still writeback_failed at note (transient)" in first.stderr, first
            assert len(seen(system, fake, ext).replies) == 1

            ok = _cli(env, tmp_path, "--all")  # the system is back
            assert ok.returncode == 0, ok.stderr
            assert f"{ticket_id}: done (freshdesk {ext}: reply skipped, note done" in ok.stdout

            got = client.get(f"/tickets/{ticket_id}", headers=AUTH).json()
            assert got["status"] == "done" and got["writeback"]["runs"] == 3
            t = seen(system, fake, ext)
            assert len(t.replies) == 1 and len(t.notes) == 1 and t.resolved
            assert len(writes(fake)) == len(STEPS)

            nothing = _cli(env, tmp_path, "--all")
            assert nothing.returncode == 0 and "no ticket is writeback_failed" in nothing.stdout
            refused = _cli(env, tmp_path, ticket_id)
            assert refused.returncode == 1 and "only a writeback_failed ticket" in refused.stderr


# ---- the graph: a resumed or replayed run never posts twice ---------------------------------------
class Crash(Exception):
    """Stands for the worker dying in the middle of the write_back node."""


class CrashAfterReply:
    """The real adapter, except the process "dies" the first time the note is due (after the reply
    was posted), as a kill -9 between two steps would leave it."""

    def __init__(self, inner: TicketingSystem) -> None:
        self.inner = inner
        self.crashed = False

    @property
    def name(self) -> str:
        return self.inner.name

    def add_note(self, external_id: str, text: str) -> str:
        if not self.crashed:
            self.crashed = True
            raise Crash("worker died")
        return self.inner.add_note(external_id, text)

    def post_reply(self, external_id: str, text: str) -> str:
        return self.inner.post_reply(external_id, text)

    def set_priority(self, external_id: str, priority: Priority) -> str:
        return self.inner.set_priority(external_id, priority)

    def set_group(self, external_id: str, group: str) -> str:
        return self.inner.set_group(external_id, group)

    def add_tags(self, external_id: str, tags: Sequence[str]) -> str:
        return self.inner.add_tags(external_id, tags)

    def assign(self, external_id: str, assignee: str) -> str:
        return self.inner.assign(external_id, assignee)

    def resolve(self, external_id: str) -> str:
        return self.inner.resolve(external_id)

    def close(self) -> None:
        self.inner.close()


def test_resumed_and_replayed_graph_runs_post_nothing_twice(wb_settings: Any) -> None:
    with FakeJira() as fake:
        fake.seed("SUP-7")
        settings: Settings = wb_settings("jira", fake)
        base = Agent.from_settings(settings, durable=False, llm="none", writeback=True)
        crashing = CrashAfterReply(fake.adapter())
        ctx = replace(base.context, ticketing={"jira": crashing})
        agent = Agent(ctx, sqlite_checkpointer(settings))
        ticket = Ticket(id=uuid.uuid4().hex, external_id="SUP-7", source="jira", subject=PAYSLIP[0], body=PAYSLIP[1])

        with pytest.raises(Crash):
            agent.run(ticket)
        config: Any = {"configurable": {"thread_id": ticket.id}}
        assert agent.graph.get_state(config).next == ("write_back",)  # checkpointed before the node
        assert len(seen("jira", fake, "SUP-7").replies) == 1

        state = agent.run(ticket)  # resume: LangGraph re-runs write_back from its start
        wb = state["writeback"]
        assert wb.ok and [(s.step, s.status) for s in wb.steps] == [("reply", "skipped")] + [
            (s, "done") for s in STEPS[1:]
        ]
        t = seen("jira", fake, "SUP-7")
        assert len(t.replies) == 1 and len(t.notes) == 1 and t.resolved
        assert len(writes(fake)) == len(STEPS)

        # the whole graph again for the same ticket (a replay, no checkpoint): every step skipped
        before = len(fake.requests)
        again = Agent(ctx).run(ticket)
        assert {s.status for s in again["writeback"].steps} == {"skipped"}
        assert len(fake.requests) == before
        base.close()
