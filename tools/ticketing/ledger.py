"""Write-back exactly once per (ticket, step): a durable ledger and the ordered write-back plan.

LangGraph re-runs a node from its start on resume, and a worker may retry a whole ticket, so every
side effect goes through `Ledger.run_step`: a step already `done` is skipped, a step that fails is
recorded `failed` with its error (and whether a later retry can help) and shows in `failed()`.
Running the same plan again re-runs only what is not done.

Table `writebacks` has its own SQLAlchemy metadata and lives on the ticket store's engine
(`Ledger(store.engine)`): SQLite or PostgreSQL.

What "exactly once" cannot cover: if the process dies after the system accepted a call but before
the ledger recorded it, the step stays `pending` and runs again (at-least-once for that window);
the same holds for a timeout after the system received the request.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, Field, model_validator
from sqlalchemy import Boolean, DateTime, Integer, String, Text, UniqueConstraint, create_engine, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from tools.http import WriteBackError
from tools.ticketing.base import Priority, TicketingSystem

Step = Literal["reply", "note", "priority", "group", "tags", "assign", "resolve"]
STEP_ORDER: tuple[Step, ...] = ("reply", "note", "priority", "group", "tags", "assign", "resolve")
StepStatus = Literal["pending", "done", "failed"]


def _now() -> datetime:
    return datetime.now(UTC)


class _Base(DeclarativeBase):
    pass


class WritebackRow(_Base):
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


class StepRecord(BaseModel):
    """One row of the ledger, as read back."""

    ticket_id: str
    step: str
    system: str
    external_id: str
    status: StepStatus
    attempts: int
    retryable: bool
    last_error: str | None
    response: str | None
    updated_at: datetime


def _record(row: WritebackRow) -> StepRecord:
    updated = row.updated_at if row.updated_at.tzinfo else row.updated_at.replace(tzinfo=UTC)
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


class StepOutcome(BaseModel):
    step: Step
    status: Literal["done", "skipped", "failed", "not_run"]  # skipped: done by an earlier run
    response: str | None = None
    error: str | None = None
    retryable: bool | None = None


class Ledger:
    """Idempotency per (ticket_id, step) on a SQLAlchemy engine (share the ticket store's)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        _Base.metadata.create_all(engine)

    @classmethod
    def from_url(cls, url: str) -> Ledger:
        args = {"check_same_thread": False, "timeout": 30} if url.startswith("sqlite") else {}
        return cls(create_engine(url, connect_args=args))

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

    def _begin(self, ticket_id: str, step: str, system: str, external_id: str) -> bool:
        """Mark the step pending (attempts + 1); False if it is already done."""
        for _ in range(2):
            with Session(self.engine) as s, s.begin():
                row = self._row(s, ticket_id, step)
                if row is not None:
                    if row.status == "done":
                        return False
                    row.status, row.attempts, row.updated_at = "pending", row.attempts + 1, _now()
                    row.system, row.external_id = system, external_id
                    return True
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
                        )
                    )
                return True
            except IntegrityError:  # another run inserted it first: read it again
                continue
        raise RuntimeError(f"write-back ledger: could not claim step {step!r} of ticket {ticket_id}")

    def _finish(self, ticket_id: str, step: str, *, status: StepStatus, **values: object) -> None:
        with Session(self.engine) as s, s.begin():
            row = self._row(s, ticket_id, step)
            assert row is not None
            row.status, row.updated_at = status, _now()
            for key, value in values.items():
                setattr(row, key, value)

    def run_step(
        self, ticket_id: str, step: str, fn: Callable[[], str], *, system: str = "", external_id: str = ""
    ) -> StepOutcome | None:
        """Run `fn` unless this step of this ticket is done already.

        Returns None when skipped, else the outcome; a failure is recorded and re-raised.
        """
        if not self._begin(ticket_id, step, system, external_id):
            return None
        try:
            response = fn()
        except WriteBackError as exc:
            self._finish(ticket_id, step, status="failed", last_error=str(exc), retryable=exc.retryable)
            raise
        except Exception as exc:  # a bug or an unexpected answer: visible, not silently retried
            self._finish(ticket_id, step, status="failed", last_error=f"{type(exc).__name__}: {exc}", retryable=False)
            raise
        self._finish(ticket_id, step, status="done", response=response[:2000], last_error=None)
        return StepOutcome(step=step, status="done", response=response)  # type: ignore[arg-type]


# ---- the plan ---------------------------------------------------------------------------------
class WriteBackPlan(BaseModel):
    """What to write back for one ticket, whatever the system. Steps run in STEP_ORDER."""

    ticket_id: str = Field(description="our ticket id (the ledger key)")
    external_id: str = Field(description="the ticketing system's ticket id or key")
    # suggest: a draft parked for a human (an internal note, no reply, not resolved); suggest_approved:
    # the reply a human approved
    action: Literal["auto_resolve", "suggest", "suggest_approved", "handoff"]
    reply: str | None = Field(default=None, description="public reply (never for a handoff or a pending suggest)")
    note: str | None = Field(default=None, description="internal note")
    priority: Priority | None = None
    group: str | None = Field(default=None, description="queue name, mapped per system")
    tags: list[str] = Field(default_factory=list[str])
    assignee: str | None = None
    resolve: bool | None = Field(default=None, description="default: true unless handoff")

    @model_validator(mode="after")
    def _consistent(self) -> WriteBackPlan:
        if self.action == "handoff" and self.reply:
            raise ValueError("a handoff posts no public reply: put the text in `note`")
        if self.action == "handoff" and self.resolve:
            raise ValueError("a handed-off ticket is not resolved")
        if self.action == "suggest" and (self.reply or self.resolve):
            raise ValueError(
                "a suggestion awaiting review posts no public reply and is not resolved: put the draft in `note`"
            )
        return self

    @property
    def should_resolve(self) -> bool:
        return self.action not in ("handoff", "suggest") if self.resolve is None else self.resolve

    def calls(self, system: TicketingSystem) -> list[tuple[Step, Callable[[], str]]]:
        """The plan as ordered (step, call) pairs for this system."""
        ext = self.external_id
        calls: list[tuple[Step, Callable[[], str]]] = []
        if self.reply:
            reply = self.reply
            calls.append(("reply", lambda: system.post_reply(ext, reply)))
        if self.note:
            note = self.note
            calls.append(("note", lambda: system.add_note(ext, note)))
        if self.priority:
            priority = self.priority
            calls.append(("priority", lambda: system.set_priority(ext, priority)))
        if self.group:
            group = self.group
            calls.append(("group", lambda: system.set_group(ext, group)))
        tags = [t for t in self.tags if t.strip()]
        if tags:
            calls.append(("tags", lambda: system.add_tags(ext, tags)))
        if self.assignee:
            assignee = self.assignee
            calls.append(("assign", lambda: system.assign(ext, assignee)))
        if self.should_resolve:
            calls.append(("resolve", lambda: system.resolve(ext)))
        return calls


class WriteBackReport(BaseModel):
    ticket_id: str
    system: str
    outcomes: list[StepOutcome]

    @property
    def ok(self) -> bool:
        return all(o.status in ("done", "skipped") for o in self.outcomes)

    @property
    def failed(self) -> StepOutcome | None:
        return next((o for o in self.outcomes if o.status == "failed"), None)

    @property
    def retryable(self) -> bool:
        failed = self.failed
        return bool(failed and failed.retryable)


def apply(plan: WriteBackPlan, system: TicketingSystem, ledger: Ledger) -> WriteBackReport:
    """Run the plan's steps in order through the ledger; stop at the first failure.

    Steps done by an earlier run are skipped (never posted twice); after a failure the remaining
    steps are `not_run` (a ticket is not resolved when its reply failed). Never raises for a write-back
    failure: the report and `ledger.failed()` say what failed and whether retrying can help; call
    `apply` again with the same plan to retry.
    """
    outcomes: list[StepOutcome] = []
    calls = plan.calls(system)
    for index, (step, call) in enumerate(calls):
        try:
            done = ledger.run_step(plan.ticket_id, step, call, system=system.name, external_id=plan.external_id)
        except WriteBackError as exc:
            outcomes.append(StepOutcome(step=step, status="failed", error=str(exc), retryable=exc.retryable))
            outcomes += [StepOutcome(step=later, status="not_run") for later, _ in calls[index + 1 :]]
            break
        if done is None:
            previous = ledger.get(plan.ticket_id, step)
            outcomes.append(StepOutcome(step=step, status="skipped", response=previous.response if previous else None))
        else:
            outcomes.append(done)
    return WriteBackReport(ticket_id=plan.ticket_id, system=system.name, outcomes=outcomes)


def steps_of(outcomes: Sequence[StepOutcome], status: str) -> list[str]:
    return [o.step for o in outcomes if o.status == status]
