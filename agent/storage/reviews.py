"""Human review of suggested replies: the verdicts, stored with the draft and the final text.

A ticket whose graph paused for review is `awaiting_review`. `submit()` records a support agent's
verdict and puts the ticket back on the work queue (status `received`) in one transaction, only
if it is still awaiting review: two agents clicking at once get one verdict and one 409. A worker
claims it, resumes the graph with the verdict (LangGraph `Command(resume=...)`) and marks the
verdict applied, only after the graph really resumed from its review pause with it (a ticket whose
paused checkpoint is gone is drafted again and paused again; its unapplied verdict is then replaced
by the next one submitted). Every applied verdict stays: it is the feedback `triage export-feedback`
turns into eval data and training history.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, String, Text, select, update
from sqlalchemy.orm import Mapped, mapped_column

from agent.domain import AuditEvent, Review, TicketResult, utcnow
from agent.storage.db import Base
from agent.storage.tickets import AuditRow, TicketRow, TicketStore


class ReviewError(ValueError):
    """A verdict that cannot be taken; `code` is not_found | not_awaiting | already_reviewed."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


class ReviewRow(Base):
    __tablename__ = "reviews"

    ticket_id: Mapped[str] = mapped_column(String(32), primary_key=True)  # one verdict per ticket
    action: Mapped[str] = mapped_column(String(16))
    draft_text: Mapped[str] = mapped_column(Text)
    final_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    category: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reviewer: Mapped[str] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(16), nullable=True)
    key_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    applied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ReviewStore:
    def __init__(self, store: TicketStore) -> None:
        self.store = store  # its table came with the store's migrations

    def submit(self, ticket_id: str, verdict: Review) -> None:
        """Record the verdict and queue the ticket for the worker to resume; see the module doc."""
        with self.store.writing() as s:
            row = s.get(TicketRow, ticket_id)
            if row is None:
                raise ReviewError(f"no ticket {ticket_id!r}", "not_found")
            earlier = s.get(ReviewRow, ticket_id)
            if earlier is not None and (earlier.applied_at is not None or row.status != "awaiting_review"):
                raise ReviewError(f"ticket {ticket_id} was already reviewed", "already_reviewed")
            if earlier is not None:
                # a verdict the graph never resumed with (its checkpoint was gone, the ticket was
                # drafted and paused again): the reviewer judges the new draft; the old one is replaced
                s.delete(earlier)
                s.flush()
            result = TicketResult.stored(row.result)
            draft = result.reply.text if result is not None and result.reply is not None else ""
            res = s.execute(
                update(TicketRow)
                .where(TicketRow.id == ticket_id, TicketRow.status == "awaiting_review")
                .values(status="received", attempts=0, lease_owner=None, lease_until=None, updated_at=utcnow())
            )
            if res.rowcount != 1:  # type: ignore[attr-defined]
                raise ReviewError(f"ticket {ticket_id} is {row.status!r}, not awaiting review", "not_awaiting")
            final = verdict.text if verdict.action == "edit" else (draft if verdict.action == "approve" else None)
            s.add(
                ReviewRow(
                    ticket_id=ticket_id,
                    action=verdict.action,
                    draft_text=draft,
                    final_text=final,
                    reason=verdict.reason,
                    category=verdict.category,
                    reviewer=verdict.by,
                    role=verdict.role,
                    key_id=verdict.key_id,
                    created_at=verdict.at,
                )
            )
            s.flush()
            ev = AuditEvent(
                node="review",
                event="submitted",
                detail={"action": verdict.action, "by": verdict.by, "role": verdict.role, "key_id": verdict.key_id},
            )
            s.add(AuditRow(ticket_id=ticket_id, at=ev.at, node=ev.node, event=ev.event, detail=ev.detail))

    def pending(self, ticket_id: str) -> Review | None:
        """The verdict the worker must resume this ticket with, if one is waiting."""
        with self.store.session() as s:
            row = s.get(ReviewRow, ticket_id)
            if row is None or row.applied_at is not None:
                return None
            return _review(row)

    def get(self, ticket_id: str) -> dict[str, Any] | None:
        with self.store.session() as s:
            row = s.get(ReviewRow, ticket_id)
            return None if row is None else _row_dict(row)

    def mark_applied(self, ticket_id: str) -> None:
        with self.store.writing() as s:
            s.execute(update(ReviewRow).where(ReviewRow.ticket_id == ticket_id).values(applied_at=utcnow()))

    def all(self) -> list[dict[str, Any]]:
        """Every verdict with its ticket (payload and result), oldest first: the feedback export."""
        with self.store.session() as s:
            pairs = s.execute(
                select(ReviewRow, TicketRow)
                .join(TicketRow, TicketRow.id == ReviewRow.ticket_id)
                .order_by(ReviewRow.created_at)
            ).all()
            return [{**_row_dict(r), "ticket": t.payload, "result": t.result} for r, t in pairs]


def _review(row: ReviewRow) -> Review:
    return Review(
        action=row.action,  # type: ignore[arg-type]
        text=row.final_text,
        reason=row.reason,
        category=row.category,
        by=row.reviewer,
        role=row.role,
        key_id=row.key_id,
        at=row.created_at,
    )


def _row_dict(row: ReviewRow) -> dict[str, Any]:
    return {
        "ticket_id": row.ticket_id,
        "action": row.action,
        "draft_text": row.draft_text,
        "final_text": row.final_text,
        "reason": row.reason,
        "category": row.category,
        "reviewer": row.reviewer,
        "role": row.role,
        "created_at": row.created_at,
        "applied_at": row.applied_at,
    }
