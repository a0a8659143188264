"""The write-back ledger on the service's database: table `writebacks`, one row per (ticket, step).

Implements `tools.ticketing.Ledger` (the Protocol `tools.ticketing.apply` runs a plan through; its
docstring is the contract). Share the ticket store's engine (`Ledger(store.engine)`): SQLite or
PostgreSQL. The table comes from the migrations (`agent.storage.db.migrate`), never `create_all`.

A step is a claim: `run_step` marks the row `pending` with an owner (this process and call) and a
lease (`step_lease_s`) that a heartbeat renews while the call runs, so the claim lives exactly as
long as its owner does. Another worker reaching the step while the claim is live waits for it
(`busy_wait_s`) and skips it once done, or raises `StepInFlight` (retryable, nothing written); a
claim whose lease ran out (its owner died, kill -9) is retaken, and a retaken note or reply first
looks for its marker in the ticketing system (`recover`), so a write that landed before the crash
is recorded instead of posted again.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import Boolean, DateTime, Integer, String, Text, UniqueConstraint, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column

from agent.storage.db import Base, ensure_migrated, make_engine
from tools.http import WriteBackError
from tools.ticketing import StepOutcome, StepRecord
from tools.ticketing.plan import StepInFlight, StepStatus

log = logging.getLogger("triage.ledger")

DEFAULT_STEP_LEASE_S = 15.0
_LIVE: set[str] = set()  # owners of claims whose call runs in this process now
_LIVE_LOCK = threading.Lock()


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(dt: datetime | None) -> datetime | None:
    return dt.replace(tzinfo=UTC) if dt is not None and dt.tzinfo is None else dt


class WritebackRow(Base):
    __tablename__ = "writebacks"
    __table_args__ = (UniqueConstraint("ticket_id", "step", name="uq_writeback_step"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(String(64), index=True)
    step: Mapped[str] = mapped_column(String(32))
    system: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    retryable: Mapped[bool] = mapped_column(Boolean, default=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    response: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    # the claim of a pending step: who holds it and until when (renewed while its call runs)
    owner: Mapped[str | None] = mapped_column(String(96), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


def _record(row: WritebackRow) -> StepRecord:
    updated = _aware(row.updated_at)
    assert updated is not None
    return StepRecord(
        ticket_id=row.ticket_id,
        step=row.step,
        system=row.system,
        external_id=row.external_id,
        status=row.status,  # type: ignore[arg-type]
        attempts=row.attempts,
        retryable=row.retryable,
        last_error=row.last_error,
        response=row.response,
        updated_at=updated,
    )


@dataclass(frozen=True)
class _Claim:
    outcome: Literal["run", "retake", "done", "busy"]
    holder: str | None = None  # busy: who holds it
    until: datetime | None = None  # busy: until when


def _process_id() -> str:
    return f"{socket.gethostname()[:40]}-{os.getpid()}"


def owner_is_dead(owner: str) -> bool:
    """Whether a claim's owner is known dead without waiting for its lease: it ran on this host and
    its process is gone, or it names this very process (same pid after a restart) but no call of
    this process holds it. An owner on another host is alive until its lease runs out."""
    host, _, rest = owner.rpartition("-")[0].rpartition("-")
    pid_text = rest
    if host != socket.gethostname()[:40] or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        with _LIVE_LOCK:
            return owner not in _LIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # exists, someone else's
        return False
    return False


class Ledger:
    """Idempotency per (ticket_id, step) on a SQLAlchemy engine (share the ticket store's)."""

    def __init__(
        self,
        engine: Engine,
        *,
        step_lease_s: float = DEFAULT_STEP_LEASE_S,
        busy_wait_s: float | None = None,
        poll_s: float = 0.2,
    ) -> None:
        """`step_lease_s`: how long a claim outlives a silent owner (renewed every third of it while
        the call runs); `busy_wait_s` (default: one lease): how long a second worker waits for a step
        another live owner holds before giving up with `StepInFlight`."""
        if step_lease_s <= 0:
            raise ValueError(f"step_lease_s must be positive, got {step_lease_s}")
        self.engine = engine
        self.step_lease_s = step_lease_s
        self.busy_wait_s = step_lease_s if busy_wait_s is None else busy_wait_s
        self.poll_s = poll_s
        self._process = _process_id()
        ensure_migrated(engine)

    @classmethod
    def from_url(cls, url: str, **options: float) -> Ledger:
        return cls(make_engine(url), **options)  # type: ignore[arg-type]

    def _row(self, s: Session, ticket_id: str, step: str) -> WritebackRow | None:
        return s.scalar(select(WritebackRow).where(WritebackRow.ticket_id == ticket_id, WritebackRow.step == step))

    def get(self, ticket_id: str, step: str) -> StepRecord | None:
        with Session(self.engine) as s:
            row = self._row(s, ticket_id, step)
            return _record(row) if row else None

    def steps(self, ticket_id: str) -> list[StepRecord]:
        with Session(self.engine) as s:
            rows = s.scalars(select(WritebackRow).where(WritebackRow.ticket_id == ticket_id).order_by(WritebackRow.id))
            return [_record(r) for r in rows]

    def failed(self, ticket_id: str | None = None) -> list[StepRecord]:
        """Failed steps (all tickets, or one), oldest first: what a retry job or an operator looks at."""
        query = select(WritebackRow).where(WritebackRow.status == "failed")
        if ticket_id is not None:
            query = query.where(WritebackRow.ticket_id == ticket_id)
        with Session(self.engine) as s:
            return [_record(r) for r in s.scalars(query.order_by(WritebackRow.updated_at, WritebackRow.id))]

    def holder(self, ticket_id: str, step: str) -> tuple[str | None, datetime | None]:
        """(owner, lease end) of a step's claim: both None when no one holds it."""
        with Session(self.engine) as s:
            row = self._row(s, ticket_id, step)
            return (row.owner, _aware(row.lease_until)) if row is not None else (None, None)

    # ---- the claim -------------------------------------------------------------------------------
    def _claim(self, ticket_id: str, step: str, system: str, external_id: str, owner: str) -> _Claim:
        """Take the step for `owner` unless it is done or held by another live owner.

        A row that exists and is not done (pending from a dead owner, or failed) is a retake: the
        call may have reached the system before, so the caller looks for its marker first. The
        take is one conditional UPDATE, so two workers never both take it."""
        for _ in range(3):
            now = _now()
            with Session(self.engine) as s, s.begin():
                row = self._row(s, ticket_id, step)
                if row is not None:
                    if row.status == "done":
                        return _Claim("done")
                    until = _aware(row.lease_until)
                    if (
                        row.status == "pending"
                        and row.owner
                        and until is not None
                        and until > now
                        and not owner_is_dead(row.owner)
                    ):
                        return _Claim("busy", row.owner, until)
                    retake = row.status == "pending" or (row.status == "failed" and row.retryable)
                    res = s.execute(
                        update(WritebackRow)
                        .where(
                            WritebackRow.id == row.id,
                            WritebackRow.status == row.status,
                            WritebackRow.attempts == row.attempts,
                        )
                        .values(
                            status="pending",
                            attempts=row.attempts + 1,
                            updated_at=now,
                            system=system,
                            external_id=external_id,
                            owner=owner,
                            lease_until=now + timedelta(seconds=self.step_lease_s),
                        )
                    )
                    if res.rowcount == 1:  # type: ignore[attr-defined]
                        return _Claim("retake" if retake else "run")
                    continue  # another worker changed it between our read and update: read again
            try:
                with Session(self.engine) as s, s.begin():
                    s.add(
                        WritebackRow(
                            ticket_id=ticket_id,
                            step=step,
                            system=system,
                            external_id=external_id,
                            status="pending",
                            attempts=1,
                            retryable=True,
                            owner=owner,
                            lease_until=now + timedelta(seconds=self.step_lease_s),
                            created_at=now,
                            updated_at=now,
                        )
                    )
                return _Claim("run")
            except IntegrityError:  # another run inserted it first: read it again
                continue
        raise RuntimeError(f"write-back ledger: could not claim step {step!r} of ticket {ticket_id}")

    def _renew(self, ticket_id: str, step: str, owner: str) -> bool:
        with Session(self.engine) as s, s.begin():
            res = s.execute(
                update(WritebackRow)
                .where(
                    WritebackRow.ticket_id == ticket_id,
                    WritebackRow.step == step,
                    WritebackRow.owner == owner,
                    WritebackRow.status == "pending",
                )
                .values(lease_until=_now() + timedelta(seconds=self.step_lease_s))
            )
            return res.rowcount == 1  # type: ignore[attr-defined]

    def _heartbeat(self, ticket_id: str, step: str, owner: str) -> Callable[[], None]:
        """Renew the claim every third of a lease until the returned function is called."""
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(self.step_lease_s / 3):
                try:
                    if not self._renew(ticket_id, step, owner):
                        log.warning("write-back %s/%s: the claim of %s was lost while its call ran",
                                    ticket_id, step, owner)  # fmt: skip
                        return
                except SQLAlchemyError as exc:  # the database is away: try again next beat
                    log.warning("write-back %s/%s: could not renew the claim: %s", ticket_id, step, exc)

        thread = threading.Thread(target=beat, name=f"ledger-heartbeat-{step}", daemon=True)
        thread.start()

        def done() -> None:
            stop.set()
            thread.join(5)

        return done

    def _finish(self, ticket_id: str, step: str, owner: str, *, status: StepStatus, **values: object) -> None:
        """Record the end of our call. A `done` is always recorded (the write happened); a failure
        only while we still hold the claim (a newer owner's run is not overwritten)."""
        with Session(self.engine) as s, s.begin():
            row = self._row(s, ticket_id, step)
            assert row is not None
            if row.status == "done" or (status != "done" and row.owner != owner):
                return
            row.status, row.updated_at, row.owner, row.lease_until = status, _now(), None, None
            for key, value in values.items():
                setattr(row, key, value)

    def _wait_for(self, ticket_id: str, step: str, claim: _Claim) -> _Claim:
        """Wait (up to `busy_wait_s`) while another live owner holds the step."""
        deadline = time.monotonic() + self.busy_wait_s
        while time.monotonic() < deadline:
            time.sleep(self.poll_s)
            with Session(self.engine) as s:
                row = self._row(s, ticket_id, step)
                if row is None or row.status != "pending" or not row.owner:
                    return _Claim("run")  # done, failed or released: claim it (again) to find out
                until = _aware(row.lease_until)
                if until is None or until <= _now() or owner_is_dead(row.owner):
                    return _Claim("run")  # its owner died: retake
                claim = _Claim("busy", row.owner, until)
        return claim

    def run_step(
        self,
        ticket_id: str,
        step: str,
        fn: Callable[[], str],
        *,
        system: str = "",
        external_id: str = "",
        recover: Callable[[], str | None] | None = None,
    ) -> StepOutcome | None:
        """Run `fn` unless this step of this ticket is done already (see the module doc).

        Returns None when skipped (done before, or by the live owner we waited for), else the
        outcome; a failure is recorded and re-raised; `StepInFlight` when another live owner holds it.
        """
        owner = f"{self._process}-{uuid.uuid4().hex[:8]}"
        with _LIVE_LOCK:
            _LIVE.add(owner)
        try:
            return self._run_claimed(ticket_id, step, fn, system, external_id, recover, owner)
        finally:
            with _LIVE_LOCK:
                _LIVE.discard(owner)

    def _run_claimed(
        self,
        ticket_id: str,
        step: str,
        fn: Callable[[], str],
        system: str,
        external_id: str,
        recover: Callable[[], str | None] | None,
        owner: str,
    ) -> StepOutcome | None:
        claim = self._claim(ticket_id, step, system, external_id, owner)
        if claim.outcome == "busy":
            waited = self._wait_for(ticket_id, step, claim)
            if waited.outcome == "busy":
                raise StepInFlight(
                    f"write-back step {step!r} of ticket {ticket_id} is being written by {waited.holder} (its claim "
                    f"runs to {waited.until:%H:%M:%S} UTC and is renewed while it works); nothing was written "
                    "here: retry later, the step is skipped once it is done",
                    system=system,
                )
            claim = self._claim(ticket_id, step, system, external_id, owner)
            if claim.outcome == "busy":
                raise StepInFlight(
                    f"write-back step {step!r} of ticket {ticket_id} was taken by {claim.holder} just now; "
                    "nothing was written here: retry later",
                    system=system,
                )
        if claim.outcome == "done":
            return None
        stop = self._heartbeat(ticket_id, step, owner)
        try:
            found = recover() if claim.outcome == "retake" and recover is not None else None
            response = f"already written before a restart: {found}" if found else fn()
        except WriteBackError as exc:
            stop()
            self._finish(ticket_id, step, owner, status="failed", last_error=str(exc), retryable=exc.retryable)
            raise
        except Exception as exc:  # a bug or an unexpected answer: visible, not silently retried
            stop()
            self._finish(ticket_id, step, owner, status="failed", last_error=f"{type(exc).__name__}: {exc}",
                         retryable=False)  # fmt: skip
            raise
        except BaseException:  # the process is going down (KeyboardInterrupt, SystemExit): keep it pending
            stop()
            raise
        stop()
        self._finish(ticket_id, step, owner, status="done", response=response[:2000], last_error=None)
        return StepOutcome(step=step, status="done", response=response)  # type: ignore[arg-type]
