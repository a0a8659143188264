"""Markers on notes and replies, and the ledger's claims: what a resumed step looks up before it posts,
and when a second worker must keep its hands off a step (the SQL ledger on a real SQLite file)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from agent.storage.ledger import Ledger, WritebackRow, owner_is_dead
from tools.ticketing import Priority, WriteBackPlan, apply
from tools.ticketing.plan import MarkedSystem, StepInFlight, has_marker, marker_for, with_marker

TICKET = "0123456789abcdef0123456789abcdef"


def test_markers_name_the_ticket_and_the_step_in_a_token_no_markup_changes() -> None:
    assert marker_for(TICKET, "reply") == "triage-0123456789ab-reply"
    assert marker_for(f"{TICKET}:approved", "reply") == "triage-0123456789ab-approved-reply"
    assert marker_for(f"{TICKET}:approved", "note") != marker_for(TICKET, "note")
    other = marker_for("old-1", "note")  # not a hex id: its hash, still 12 characters
    assert other.startswith("triage-") and other.endswith("-note") and len(other) == len("triage-0123456789ab-note")
    assert all(c.isalnum() or c == "-" for c in marker_for("a b:c/d", "reply"))


def test_a_marker_is_found_only_as_a_whole_token() -> None:
    m = marker_for(TICKET, "note")
    text = with_marker("Hello,\nthe fix is below.\n", m)
    assert text.endswith(f"\n\nref {m}") and has_marker(text, m)
    assert has_marker(f"<p>ref {m}</p>", m)  # an HTML body keeps it
    assert not has_marker(f"ref {m}x", m) and not has_marker(f"ref x{m}", m)
    assert not has_marker(text, marker_for(TICKET, "reply"))
    assert with_marker("same", None) == "same"


class Marked:
    """A MarkedSystem recording what it was asked (nothing leaves the process)."""

    name = "marked"

    def __init__(self) -> None:
        self.posted: list[tuple[str, str, str | None]] = []
        self.looked: list[str] = []
        self.present: set[str] = set()

    def add_note(self, external_id: str, text: str, *, marker: str | None = None) -> str:
        self.posted.append(("note", text, marker))
        return "note 1"

    def post_reply(self, external_id: str, text: str, *, marker: str | None = None) -> str:
        self.posted.append(("reply", text, marker))
        return "reply 1"

    def find_marker(self, external_id: str, marker: str) -> str | None:
        self.looked.append(marker)
        return f"comment 9 carries {marker}" if marker in self.present else None

    def set_priority(self, external_id: str, priority: Priority) -> str:
        return "priority"

    def set_group(self, external_id: str, group: str) -> str:
        return "group"

    def add_tags(self, external_id: str, tags: Sequence[str]) -> str:
        return "tags"

    def assign(self, external_id: str, assignee: str) -> str:
        return "assign"

    def resolve(self, external_id: str) -> str:
        return "resolved"

    def close(self) -> None:
        pass


PLAN = WriteBackPlan(
    ticket_id=TICKET, external_id="5", action="auto_resolve", reply="Try this.", note="AI triage", tags=["a"]
)


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger.from_url(f"sqlite:///{tmp_path / 'ledger.db'}", step_lease_s=5.0, busy_wait_s=0.3, poll_s=0.02)


def _abandon(ledger: Ledger, step: str, owner: str, lease_until: datetime) -> None:
    """Make the step's row look like another worker's claim (pending, that owner, that lease)."""
    with Session(ledger.engine) as s, s.begin():
        s.execute(
            update(WritebackRow)
            .where(WritebackRow.ticket_id == TICKET, WritebackRow.step == step)
            .values(status="pending", owner=owner, lease_until=lease_until)
        )


def test_the_plan_passes_markers_and_a_first_run_looks_nothing_up(ledger: Ledger) -> None:
    system = Marked()
    assert isinstance(system, MarkedSystem)
    assert apply(PLAN, system, ledger).ok
    assert [(kind, marker) for kind, _, marker in system.posted] == [
        ("reply", marker_for(TICKET, "reply")),
        ("note", marker_for(TICKET, "note")),
    ]
    assert system.looked == []  # nothing was in flight: no look-up costs a request


def test_a_step_left_pending_by_a_dead_owner_is_looked_up_and_not_posted_again(ledger: Ledger) -> None:
    system = Marked()
    assert apply(PLAN, system, ledger).ok
    # the reply's row as a worker on another host left it, its lease run out; the reply landed
    _abandon(ledger, "reply", "elsewhere-7-deadbeef", datetime.now(UTC) - timedelta(seconds=1))
    system.present.add(marker_for(TICKET, "reply"))
    system.posted.clear()
    assert apply(PLAN, system, ledger).ok
    assert system.posted == [] and system.looked == [marker_for(TICKET, "reply")]
    record = ledger.get(TICKET, "reply")
    assert record is not None and record.status == "done" and record.attempts == 2
    assert (record.response or "").startswith("already written before a restart: comment 9")

    # not found in the system: the write never landed, so it is posted (once)
    _abandon(ledger, "note", "elsewhere-7-deadbeef", datetime.now(UTC) - timedelta(seconds=1))
    assert apply(PLAN, system, ledger).ok
    assert [kind for kind, _, _ in system.posted] == ["note"]


def test_a_step_held_by_a_live_owner_elsewhere_is_left_alone(ledger: Ledger) -> None:
    system = Marked()
    assert apply(PLAN, system, ledger).ok
    _abandon(ledger, "tags", "elsewhere-7-cafe0001", datetime.now(UTC) + timedelta(seconds=60))
    report = apply(PLAN, system, ledger)
    failed = report.failed
    assert failed is not None and failed.step == "tags" and failed.retryable
    assert "elsewhere-7-cafe0001" in (failed.error or "")
    assert ledger.holder(TICKET, "tags")[0] == "elsewhere-7-cafe0001"  # its claim untouched
    with pytest.raises(StepInFlight):
        ledger.run_step(TICKET, "tags", lambda: "tags again")


def test_a_claim_of_this_host_whose_process_is_gone_is_retaken_at_once(ledger: Ledger) -> None:
    import socket
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    dead = f"{socket.gethostname()[:40]}-{child.pid}-0000beef"
    assert owner_is_dead(dead)
    assert not owner_is_dead("another-host-1-0000beef")
    ledger.run_step(TICKET, "resolve", lambda: "resolved")
    _abandon(ledger, "resolve", dead, datetime.now(UTC) + timedelta(seconds=60))
    assert ledger.run_step(TICKET, "resolve", lambda: "resolved again") is not None


def test_two_threads_on_one_step_write_it_once(ledger: Ledger) -> None:
    started, release = threading.Event(), threading.Event()
    calls: list[str] = []

    def slow() -> str:
        calls.append("first")
        started.set()
        assert release.wait(10)
        return "first"

    waiting = Ledger(ledger.engine, step_lease_s=5.0, busy_wait_s=10.0, poll_s=0.02)
    results: dict[str, object] = {}
    first = threading.Thread(target=lambda: results.update(a=ledger.run_step(TICKET, "tags", slow)))
    first.start()
    assert started.wait(10)
    second = threading.Thread(
        target=lambda: results.update(b=waiting.run_step(TICKET, "tags", lambda: calls.append("second") or "x"))
    )
    second.start()
    second.join(0.3)
    assert second.is_alive()  # waiting for the live owner, not writing
    release.set()
    first.join(10)
    second.join(10)
    assert calls == ["first"] and results["b"] is None  # skipped once the owner recorded it done


def test_the_claim_is_renewed_while_its_call_runs(tmp_path: Path) -> None:
    ledger = Ledger.from_url(f"sqlite:///{tmp_path / 'l.db'}", step_lease_s=0.6, busy_wait_s=0.1, poll_s=0.02)
    entered, release = threading.Event(), threading.Event()
    leases: list[datetime | None] = []

    def call() -> str:
        entered.set()
        assert release.wait(10)
        return "done"

    worker = threading.Thread(target=lambda: ledger.run_step(TICKET, "assign", call))
    worker.start()
    assert entered.wait(10)
    owner, first_until = ledger.holder(TICKET, "assign")
    assert owner is not None and first_until is not None
    while datetime.now(UTC) <= first_until + timedelta(seconds=0.3):  # past the first lease
        threading.Event().wait(0.05)
    now_owner, later_until = ledger.holder(TICKET, "assign")
    leases.append(later_until)
    with pytest.raises(StepInFlight):  # still held: renewed, not expired
        ledger.run_step(TICKET, "assign", lambda: "stolen")
    release.set()
    worker.join(10)
    assert now_owner == owner and later_until is not None and later_until > first_until
    record = ledger.get(TICKET, "assign")
    assert record is not None and record.status == "done" and record.response == "done"
    assert ledger.holder(TICKET, "assign") == (None, None)
