"""Exactly once, by ticket and by write (issue 16, part 4), on the real parts: SQLite and PostgreSQL,
the service on loopback, the real adapters against the fake ticketing servers (real HTTP), and a
worker process killed -9 between "the system accepted the comment" and "the ledger recorded it"."""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic import command
from sqlalchemy import create_engine, text

from agent.storage.db import alembic_config, migrate
from agent.storage.ledger import Ledger
from agent.storage.tickets import TicketStore
from tests.integration.conftest import serve_in_thread
from tests.integration.test_webhooks_providers import settings_for, ticket_count, zendesk_post
from tests.integration.test_writeback_e2e import pg_url as pg_url  # the fixture: a throwaway schema
from tests.unit.test_webhook_providers import ZENDESK_EVENT
from tools.ticketing import TicketingSystem, WriteBackPlan, apply
from tools.ticketing.plan import marker_for
from tools.ticketing.testing import FAKES, FakeServer

pytestmark = pytest.mark.integration


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'triage.db'}"
    else:
        yield request.getfixturevalue("pg_url")


def _fields(external_id: str, subject: str = "Payslip missing") -> dict[str, Any]:
    return {"external_id": external_id, "subject": subject, "body": "Anna did not get her payslip."}


# ---- by ticket ------------------------------------------------------------------------------------
def test_the_same_zendesk_ticket_under_two_event_ids_is_one_ticket(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    with serve_in_thread(settings) as url, httpx.Client(base_url=url, timeout=30) as client:
        first = zendesk_post(client, ZENDESK_EVENT)
        assert first.status_code == 202, first.text
        again = copy.deepcopy(ZENDESK_EVENT)
        again["id"] = str(uuid.uuid4())  # Zendesk (or a second trigger) announces ticket 5158 anew
        second = zendesk_post(client, again)
        assert second.status_code == 200, second.text
        assert second.json() == {"ticket_id": first.json()["ticket_id"], "duplicate": True}
        assert ticket_count(client) == 1
        # an update of that ticket is a lifecycle event (stored once), never a new ticket
        update = {
            **copy.deepcopy(ZENDESK_EVENT),
            "id": str(uuid.uuid4()),
            "type": "zen:event-type:ticket.status_changed",
        }
        assert zendesk_post(client, update).status_code == 202
        assert ticket_count(client) == 1
        # another Zendesk ticket is another ticket
        other = copy.deepcopy(ZENDESK_EVENT)
        other["id"], other["detail"]["id"] = str(uuid.uuid4()), "5159"
        assert zendesk_post(client, other).status_code == 202
        assert ticket_count(client) == 2


def test_200_tickets_reposted_under_new_delivery_ids_stay_200(db_url: str) -> None:
    store = TicketStore(db_url)
    ids = [store.create_or_get("zendesk", f"d-{i}", _fields(f"Z-{i}"))[0] for i in range(200)]
    again = [store.create_or_get("zendesk", f"new-{i}", _fields(f"Z-{i}", "changed subject")) for i in range(200)]
    assert [tid for tid, _ in again] == ids and not any(created for _, created in again)
    assert sum(store.counts().values()) == 200
    kept = store.get(ids[7])
    assert kept is not None and kept["ticket"]["subject"] == "Payslip missing"  # the first one stands
    # the same external id from another source is another ticket; so is one with another id
    assert store.create_or_get("jira", "d-0", _fields("Z-0"))[1]
    assert store.create_or_get("zendesk", "d-x", _fields("Z-200"))[1]
    # a redelivery is still found by its delivery id
    assert store.create_or_get("zendesk", "d-3", _fields("Z-3")) == (ids[3], False)
    assert store.find_by_external("zendesk", " Z-5 ") == ids[5]
    assert sum(store.counts().values()) == 202


def test_tickets_without_an_external_id_are_deduplicated_on_the_delivery_only(db_url: str) -> None:
    store = TicketStore(db_url)
    a, created_a = store.create_or_get("generic", "d-1", _fields(""))
    b, created_b = store.create_or_get("generic", "d-2", _fields(""))
    assert created_a and created_b and a != b
    assert store.create_or_get("generic", "d-1", _fields("")) == (a, False)


def test_concurrent_deliveries_of_one_ticket_make_one_row(db_url: str) -> None:
    """Eight deliveries of the same source ticket at once (different delivery ids): one row, and
    every caller gets its id (the losers through the unique index's IntegrityError)."""
    store = TicketStore(db_url)
    barrier = threading.Barrier(8)

    def deliver(i: int) -> tuple[str, bool]:
        barrier.wait(10)
        return store.create_or_get("freshdesk", f"race-{i}", _fields("4242"))

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(deliver, range(8)))
    assert len({tid for tid, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert sum(store.counts().values()) == 1


def test_the_migration_keys_the_oldest_of_existing_duplicates(db_url: str) -> None:
    """A database at 0002 holding the same source ticket twice (made before this fix): upgraded, the
    oldest keeps the external key and stands for the ticket; the duplicate is kept, unkeyed."""
    engine = create_engine(db_url)
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0002_ticket_events")
    rows = [("old", "d-1", "Z-1", "2026-01-01 10:00:00"), ("dup", "d-2", "Z-1", "2026-01-02 10:00:00"),
            ("solo", "d-3", "Z-2", "2026-01-03 10:00:00"), ("empty", "d-4", "", "2026-01-04 10:00:00")]  # fmt: skip
    with engine.begin() as conn:
        for tid, delivery, ext, at in rows:
            conn.execute(
                text(
                    "insert into tickets (id, source, delivery_id, external_id, status, payload, attempts, "
                    "created_at, updated_at) values (:id, 'zendesk', :d, :e, 'completed', :p, 1, :at, :at)"
                ),
                {"id": tid, "d": delivery, "e": ext, "at": at, "p": json.dumps({"id": tid})},
            )
    migrate(engine)
    with engine.connect() as conn:
        keys = {r[0]: r[1] for r in conn.execute(text("select id, external_key from tickets"))}
    assert keys == {"old": "Z-1", "dup": None, "solo": "Z-2", "empty": None}
    store = TicketStore(engine)
    assert store.create_or_get("zendesk", "d-9", _fields("Z-1")) == ("old", False)
    assert store.create_or_get("zendesk", "d-10", _fields("Z-2")) == ("solo", False)
    engine.dispose()


# ---- by write: claims ---------------------------------------------------------------------------
def test_two_workers_applying_one_plan_at_once_write_every_step_once(db_url: str) -> None:
    """The issue's case: a ticket worked twice (a lease outlived) made both workers write tags and
    resolve. Two ledgers (two workers) on one database apply the same plan at the same time, the
    fake answering slowly: every step reaches Zendesk exactly once."""
    url = db_url
    with FAKES["zendesk"]() as zd:
        zd.seed("77")
        for _ in range(8):
            zd.inject(None, delay_s=0.3)
        plan = WriteBackPlan(
            ticket_id=uuid.uuid4().hex, external_id="77", action="auto_resolve", reply="Do this.",
            note="AI triage", priority="high", tags=["ai-triage"],
        )  # fmt: skip
        workers = [Ledger.from_url(url, step_lease_s=5.0, busy_wait_s=20.0, poll_s=0.05) for _ in range(2)]
        barrier = threading.Barrier(2)

        def work(ledger: Ledger) -> bool:
            barrier.wait(10)
            return apply(plan, zd.adapter(), ledger).ok

        with ThreadPoolExecutor(2) as pool:
            assert all(pool.map(work, workers))
        ticket = zd.tickets["77"]
        assert [c["public"] for c in ticket["comments"]] == [True, False]
        assert len(zd.accepted("PUT")) == 5  # reply, note, priority, tags, resolve: once each
        assert ticket["status"] == "solved" and ticket["tags"] == ["ai-triage"]


# ---- by write: a kill -9 between the POST and the ledger's "done" ---------------------------------
CHILD = """
import json, sys
from agent.storage.ledger import Ledger
from tools.ticketing import (Freshdesk, FreshdeskConfig, Jira, JiraConfig, WriteBackPlan, YouTrack,
                             YouTrackConfig, Zendesk, ZendeskConfig, apply)
args = json.loads(sys.argv[1])
kinds = {"zendesk": (Zendesk, ZendeskConfig), "jira": (Jira, JiraConfig), "freshdesk": (Freshdesk, FreshdeskConfig),
         "youtrack": (YouTrack, YouTrackConfig)}
cls, config = kinds[args["system"]]
system = cls(config.model_validate(args["config"]))
apply(WriteBackPlan.model_validate(args["plan"]), system, Ledger.from_url(args["db"]))
"""
EXTERNAL = {"zendesk": "123", "jira": "SUP-7", "freshdesk": "55", "youtrack": "HD-12"}
# the comment request of each system: where the fake holds its answer after applying it
COMMENT_CALL = {
    "zendesk": ("PUT", "/api/v2/tickets/"),
    "jira": ("POST", "/comment"),
    "freshdesk": ("POST", "/"),  # /reply or /notes
    "youtrack": ("POST", "/comments"),
}


def comments(system: str, fake: FakeServer, external_id: str) -> list[str]:
    t = fake.tickets[external_id]
    if system == "zendesk":
        return [c["body"] for c in t["comments"]]
    if system == "freshdesk":
        return [c["body"] for c in t["conversations"]]
    return [c["text"] for c in t["comments"]]


class Unmarked:
    """The same adapter without its marker look-up: what a resumed step did before markers."""

    def __init__(self, inner: TicketingSystem) -> None:
        self.inner = inner
        self.name = inner.name

    def __getattr__(self, name: str) -> Any:
        if name == "find_marker":
            raise AttributeError(name)
        return getattr(self.inner, name)


def _kill_in_flight(system: str, fake: FakeServer, plan: WriteBackPlan, db: str) -> None:
    """Run the plan in a worker process; kill -9 it once the system holds the first comment, before
    its answer arrives (the fake holds it 120 s), so the ledger row stays `pending`."""
    method, path = COMMENT_CALL[system]
    fake.inject(None, hold_s=120, method=method, path_contains=path)
    config = fake.config_values(timeout_s=300.0)
    config["retry"] = config["retry"].model_dump()
    if system == "youtrack":
        config["note_group_id"] = "3-7"
    args = {"system": system, "config": config, "plan": plan.model_dump(mode="json"), "db": db}
    child = subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(args)], env={**os.environ})
    try:
        deadline = time.monotonic() + 120
        while not comments(system, fake, plan.external_id):
            assert child.poll() is None, "the worker process ended before its comment reached the system"
            assert time.monotonic() < deadline, "the comment never reached the fake system"
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(30)


@pytest.mark.parametrize("system", sorted(FAKES))
def test_a_kill_between_the_post_and_done_leaves_one_comment(system: str, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'triage.db'}"
    ext = EXTERNAL[system]
    with FAKES[system]() as fake:
        fake.seed(ext)
        plan = WriteBackPlan(
            ticket_id=uuid.uuid4().hex, external_id=ext, action="auto_resolve",
            reply="Reset it from Settings > Security.", note="AI triage: account, 0.93",
        )  # fmt: skip
        _kill_in_flight(system, fake, plan, db)
        ledger = Ledger.from_url(db)
        record = ledger.get(plan.ticket_id, "reply")
        assert record is not None and record.status == "pending"  # in flight when the worker died

        overrides = {"note_group_id": "3-7"} if system == "youtrack" else {}
        report = apply(plan, fake.adapter(**overrides), ledger)  # the resumed step, in another process
        assert report.ok, report
        posted = comments(system, fake, ext)
        replies = [c for c in posted if marker_for(plan.ticket_id, "reply") in c]
        notes = [c for c in posted if marker_for(plan.ticket_id, "note") in c]
        assert len(replies) == 1 and len(notes) == 1, posted
        assert "Reset it from Settings" in replies[0]
        record = ledger.get(plan.ticket_id, "reply")
        assert record is not None and record.status == "done"
        assert (record.response or "").startswith("already written before a restart")


def test_without_the_marker_look_up_the_same_kill_posts_the_reply_twice(tmp_path: Path) -> None:
    """The control: the same crash, resumed by an adapter that cannot look its marker up."""
    db = f"sqlite:///{tmp_path / 'triage.db'}"
    with FAKES["zendesk"]() as fake:
        fake.seed("123")
        plan = WriteBackPlan(ticket_id=uuid.uuid4().hex, external_id="123", action="auto_resolve", reply="Hi.")
        _kill_in_flight("zendesk", fake, plan, db)
        report = apply(plan, Unmarked(fake.adapter()), Ledger.from_url(db))  # pyright: ignore[reportArgumentType]
        assert report.ok
        assert len([c for c in comments("zendesk", fake, "123") if c.startswith("Hi.")]) == 2
