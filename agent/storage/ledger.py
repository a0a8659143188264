"""The write-back ledger on the service's database: table `writebacks`, one row per (ticket, step).

Implements `tools.ticketing.Ledger` (the Protocol `tools.ticketing.apply` runs a plan through; its
docstring is the contract). Share the ticket store's engine (`Ledger(store.engine)`): SQLite or
PostgreSQL. The table comes from the migrations (`agent.storage.db.migrate`), never `create_all`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Boolean, DateTime, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from agent.storage.db import Base, ensure_migrated, make_engine
from tools.http import WriteBackError
from tools.ticketing import StepOutcome, StepRecord
from tools.ticketing.plan import StepStatus


def _now() -> datetime:
    return datetime.now(UTC)


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


class Ledger:
    """Idempotency per (ticket_id, step) on a SQLAlchemy engine (share the ticket store's)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        ensure_migrated(engine)

    @classmethod
    def from_url(cls, url: str) -> Ledger:
        return cls(make_engine(url))

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
