"""The scaled mode on the real local PostgreSQL: the work queue (SKIP LOCKED claims, leases renewed by a
heartbeat, a dead worker's ticket retaken), LangGraph checkpoints in PostgreSQL shared by separate
worker processes (a ticket paused on one resumes on another without re-running classify), the audit
stored once per event, and `triage prune`. Each test has a schema of its own, dropped afterwards."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text, update

from agent.domain import AuditEvent, Review, Ticket
from agent.runtime.assembly import Agent, open_checkpointer, prune_checkpoints
from agent.runtime.worker import Heartbeat
from agent.settings import Settings
from agent.storage.reviews import ReviewStore
from agent.storage.tickets import TicketRow, TicketStore
from knowledge.embeddings import Embedder
from tests.conftest import clean_env, make_settings
from tests.integration.test_reviews import SSO
from tests.integration.test_writeback_e2e import pg_url as pg_url  # the fixture: a throwaway schema

pytestmark = pytest.mark.integration
PAYSLIP = {"subject": "Payslip missing", "body": "An employee did not receive her payslip email, please resend it."}


def _new(store: TicketStore, i: int, fields: dict[str, str] | None = None) -> str:
    body = fields or {"subject": f"question {i}", "body": f"How do I export payroll report {i}?"}
    ticket_id, created = store.create_or_get("generic", f"d-{i}", {"external_id": f"E-{i}", **body})
    assert created
    return ticket_id


def _until(check: Callable[[], Any], what: str, timeout: float = 120) -> Any:
    """Poll `check` until it returns something truthy (a hang guard, not a speed assertion)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


# ---- the queue ---------------------------------------------------------------------------------
def test_claim_skips_a_row_another_worker_holds_and_every_ticket_goes_once(pg_url: str) -> None:
    store = TicketStore(pg_url)
    ids = [_new(store, i) for i in range(20)]
    other = create_engine(pg_url)
    try:
        with other.connect() as conn, conn.begin():
            # another worker is in the middle of claiming the oldest ticket: its row is locked
            locked = conn.execute(text("SELECT id FROM tickets WHERE id = :i FOR UPDATE"), {"i": ids[0]}).scalar()
            assert locked == ids[0]
            got: list[Ticket | None] = []
            t = threading.Thread(target=lambda: got.append(store.claim("w-skip", 30)))
            t.start()
            t.join(30)
            assert not t.is_alive(), "claim waited on a locked row instead of skipping it"
            assert got[0] is not None and got[0].id == ids[1]  # skipped the locked one, took the next oldest

        claimed: list[str] = []
        lock = threading.Lock()

        def drain(name: str) -> None:
            while (ticket := store.claim(name, 30)) is not None:
                with lock:
                    claimed.append(ticket.id)

        threads = [threading.Thread(target=drain, args=(f"w{i}",)) for i in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(60)
        assert sorted(claimed) == sorted(set(ids) - {ids[1]})  # each of the other 19 exactly once
        assert store.counts() == {"processing": 20}
    finally:
        other.dispose()
        store.engine.dispose()


def test_heartbeat_keeps_the_lease_and_a_dead_workers_ticket_is_retaken(pg_url: str) -> None:
    store = TicketStore(pg_url)
    ticket_id = _new(store, 1)
    try:
        assert store.claim("alive", lease_s=1.0) is not None
        with Heartbeat(store, ticket_id, "alive", lease_s=1.0, every_s=0.2) as beat:
            end = time.monotonic() + 3.0  # three leases long: without renewals it would be claimable
            while time.monotonic() < end:
                assert store.claim("other", 1.0) is None
                time.sleep(0.1)
            assert beat.renewals >= 2 and not beat.lost.is_set()
        # the worker "dies" (no more heartbeats): its ticket is taken once its lease runs out
        retaken = _until(lambda: store.claim("other", 30.0), "the expired lease to be claimable", timeout=30)
        assert retaken.id == ticket_id
        # the old owner has lost it: it can neither renew nor write its result
        assert not store.renew(ticket_id, "alive", 30.0)
        assert not store.holds_lease(ticket_id, "alive") and store.holds_lease(ticket_id, "other")
        assert not store.complete(ticket_id, "alive", "done", None, [])
        with Heartbeat(store, ticket_id, "alive", lease_s=1.0, every_s=0.05) as beat:
            _until(beat.lost.is_set, "the heartbeat to notice the lost lease", timeout=30)
        assert store.complete(ticket_id, "other", "done", None, [])
        audit = store.get(ticket_id)["audit"]  # type: ignore[index]
        assert [a["detail"]["worker"] for a in audit if a["event"] == "claimed"] == ["alive", "other"]
    finally:
        store.engine.dispose()


def test_audit_events_are_stored_once_across_a_review_resume(pg_url: str) -> None:
    store = TicketStore(pg_url)
    reviews = ReviewStore(store)
    ticket_id = _new(store, 1)
    try:
        first = [AuditEvent(node="classify", event="classified"), AuditEvent(node="park", event="parked")]
        assert store.claim("w1", 30) is not None
        assert store.complete(ticket_id, "w1", "awaiting_review", None, first)
        reviews.submit(ticket_id, Review(action="approve", by="olena", role="agent"))
        assert store.claim("w2", 30) is not None
        # a resumed graph hands back its whole audit list: the events before the pause come again
        again = [*first, AuditEvent(node="review", event="approve"), AuditEvent(node="write_back", event="done")]
        assert store.complete(ticket_id, "w2", "done", None, again)
        events = Counter((a["node"], a["event"]) for a in store.get(ticket_id)["audit"])  # type: ignore[index]
        assert events[("classify", "classified")] == 1 and events[("park", "parked")] == 1
        assert events[("review", "approve")] == 1 and events[("write_back", "done")] == 1
        assert events[("review", "submitted")] == 1 and events[("worker", "claimed")] == 2
    finally:
        store.engine.dispose()


# ---- checkpoints -------------------------------------------------------------------------------
@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_a_run_killed_between_saved_writes_and_the_next_checkpoint_resumes_to_the_end(
    engine: str, demo_data_dir: Path, default_embedder: Embedder, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """The root cause of "a checkpoint resumes to an end without a decision": a live snapshot leaves
    out of `next` a task whose writes were saved, so a run killed right after `classify` saved its
    writes looked finished (`next == ()`). It must resume: decide and the rest run, classify does not."""
    url = request.getfixturevalue("pg_url") if engine == "postgresql" else f"sqlite:///{tmp_path / 'triage.db'}"
    settings = make_settings(
        demo_data_dir,
        database_url=url,
        checkpoint_db=tmp_path / "checkpoints.sqlite",
        embedder=default_embedder.identity.spec,  # the demo KB's
        embedder_threads=1,
    )
    store = TicketStore(url)
    ticket = Ticket.model_validate(store.get(_new(store, 1, PAYSLIP))["ticket"])  # type: ignore[index]
    agent = Agent.from_settings(settings, llm="none")
    try:
        agent.graph.invoke({"ticket": ticket}, {"configurable": {"thread_id": ticket.id}}, context=agent.context)
        saver = agent.checkpointer
        assert saver is not None
        config: Any = {"configurable": {"thread_id": ticket.id}}
        ids = [t.config["configurable"]["checkpoint_id"] for t in saver.list(config)]  # newest first
        # the checkpoint `classify` ran from (its saved writes are classify's output)
        ran_from = next(
            c
            for c in ids
            if agent.graph.get_state({"configurable": {**config["configurable"], "checkpoint_id": c}}).next
            == ("classify",)
        )
        _delete_newer(settings, ticket.id, ran_from)  # killed before the checkpoint after classify was saved
        snap = agent.graph.get_state(config)
        assert [t.name for t in snap.tasks] == ["classify"]  # classify ran, its writes are saved ...
        assert snap.next == () and "triage" in snap.values and "decision" not in snap.values  # ... looks finished
        state = agent.run(ticket)
        assert state["decision"].action in ("auto_resolve", "suggest", "handoff")
        nodes = Counter(a.node for a in state["audit"])
        assert nodes["classify"] == 1 and nodes["decide"] == 1, nodes
    finally:
        agent.close()
        store.engine.dispose()


def _delete_newer(settings: Settings, thread_id: str, checkpoint_id: str) -> None:
    if settings.db_url.startswith("postgresql"):
        engine = create_engine(settings.db_url)
        with engine.begin() as conn:
            for table in ("checkpoints", "checkpoint_writes"):
                conn.execute(
                    text(f"DELETE FROM {table} WHERE thread_id = :t AND checkpoint_id > :c"),
                    {"t": thread_id, "c": checkpoint_id},
                )
        engine.dispose()
        return
    import sqlite3

    conn = sqlite3.connect(settings.checkpoint_path)
    with conn:
        for table in ("checkpoints", "writes"):
            conn.execute(f"DELETE FROM {table} WHERE thread_id = ? AND checkpoint_id > ?", (thread_id, checkpoint_id))
    conn.close()


# ---- two worker processes ----------------------------------------------------------------------
@contextmanager
def worker_process(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`triage worker` (python -m api worker) in a child process, killed -9 or terminated on exit."""
    with log.open("ab") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "api", "worker"], env=env, stdout=fh, stderr=subprocess.STDOUT, cwd=log.parent
        )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


def test_two_worker_processes_share_queue_and_checkpoints(
    pg_url: str, demo_data_dir: Path, default_embedder: Embedder, tmp_path: Path
) -> None:
    shutil.copytree(demo_data_dir / "chroma", tmp_path / "chroma")
    env = {
        **clean_env(),
        "TRIAGE_DATA_DIR": str(tmp_path),
        "TRIAGE_DATABASE_URL": pg_url,
        "TRIAGE_LLM": "none",
        "TRIAGE_CONFIG": str(tmp_path / "none.toml"),
        "TRIAGE_WORKER_POLL_S": "0.05",
        "TRIAGE_WORKER_LEASE_S": "3",
        "TRIAGE_WORKER_HEARTBEAT_S": "0.5",
        "TRIAGE_EMBEDDER": default_embedder.identity.spec,  # the demo KB's
        "TRIAGE_EMBEDDER_THREADS": "1",
        "OMP_NUM_THREADS": "1",
    }
    store = TicketStore(pg_url)
    reviews = ReviewStore(store)
    log = tmp_path / "workers.log"
    try:
        paused = _new(store, 1, {k: SSO[k] for k in ("subject", "body")})
        plain = _new(store, 2, PAYSLIP)

        # worker A pauses the SSO ticket for review, then dies hard
        with worker_process(env, log) as a:
            _until(lambda: store.get(paused)["status"] == "awaiting_review", "A to pause the ticket")  # type: ignore[index]
            _until(lambda: store.get(plain)["status"] not in ("received", "processing"), "A to finish the other")  # type: ignore[index]
            os.kill(a.pid, signal.SIGKILL)
            a.wait(10)
        # a ticket a dead worker claimed: B must take it once the 3 s lease runs out
        orphan = _new(store, 3, PAYSLIP)
        taken = store.claim("dead-worker", 3.0)
        assert taken is not None and taken.id == orphan
        reviews.submit(paused, Review(action="approve", by="olena", role="agent"))

        with worker_process(env, log):
            done = _until(lambda: store.get(paused)["status"] not in ("received", "processing"), "B to resume")  # type: ignore[index]
            _until(lambda: store.get(orphan)["status"] not in ("received", "processing"), "B to retake the orphan")  # type: ignore[index]
        got = store.get(paused)
        assert got is not None and got["status"] == "done", (got, log.read_text()[-3000:])
        claims = [a["detail"]["worker"] for a in got["audit"] if a["event"] == "claimed"]
        assert len(claims) == 2 and claims[0] != claims[1]  # paused on A, resumed on B
        events = Counter((a["node"], a["event"]) for a in got["audit"])
        by_node = Counter(a["node"] for a in got["audit"])
        assert by_node["classify"] == 1 and by_node["decide"] == 1 and by_node["retrieve"] == 1, got["audit"]
        assert events[("review", "approve")] == 1 and events[("intake", "received")] == 1
        assert events[("worker", "completed")] == 2  # once paused, once finished
        keys = [(a["at"], a["node"], a["event"]) for a in got["audit"]]
        assert len(keys) == len(set(keys))  # no event stored twice
        verdict = reviews.get(paused)
        assert verdict is not None and verdict["applied_at"] is not None
        assert done

        orphaned = store.get(orphan)
        assert orphaned is not None and orphaned["status"] in ("done", "handed_off", "awaiting_review")
        owners = [a["detail"]["worker"] for a in orphaned["audit"] if a["event"] == "claimed"]
        assert owners[0] == "dead-worker" and len(owners) == 2

        # `triage prune` on PostgreSQL: finished tickets lose their checkpoints, paused ones keep theirs
        settings = make_settings(tmp_path, database_url=pg_url, embedder=default_embedder.identity.spec)
        with store.writing() as s:
            s.execute(update(TicketRow).values(updated_at=TicketRow.updated_at - text("interval '2 days'")))
        dry = subprocess.run(
            [sys.executable, "-m", "api", "prune", "--older-than", "1", "--dry-run"],
            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip
        finished = [t for t in (paused, plain, orphan) if store.get(t)["status"] in ("done", "handed_off")]  # type: ignore[index]
        assert f"of {len(finished)} ticket(s)" in dry.stdout and dry.stdout.startswith("would remove"), dry.stdout
        report = prune_checkpoints(settings, store.engine, older_than_days=1)
        assert report.tickets == len(finished) and report.checkpoints > 0 and not report.dry_run
        again = prune_checkpoints(settings, store.engine, older_than_days=1)
        assert again.tickets == 0 and again.checkpoints == 0
        saver = open_checkpointer(settings)
        try:
            for t in (paused, plain, orphan):
                kept = saver.get_tuple({"configurable": {"thread_id": t}})
                assert (kept is None) == (t in finished), t
        finally:
            from agent.runtime.assembly import close_checkpointer

            close_checkpointer(saver)
    finally:
        store.engine.dispose()
