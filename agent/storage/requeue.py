"""Give failed tickets back to the queue (`triage requeue`).

A worker requeues a ticket by itself after a transient failure (agent/errors.py `is_transient`) until
TRIAGE_MAX_ATTEMPTS run out; then the ticket is `failed`, its audit's `failed` event saying
``transient: true``. Once the cause is gone (the LLM or Chroma server is back, the KB re-ingested),
those tickets deserve another run: `requeue_failed` finds them (or the failed tickets whose error
contains a given text, e.g. ``Error finding id`` for the ones failed by a stale KB client before that
error counted as transient) and sets them `received` with their attempts reset. A requeued ticket
resumes from its checkpoint (thread id = ticket id), so the steps it finished are not redone.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update

from agent.domain import utcnow
from agent.storage.tickets import AuditRow, TicketRow, TicketStore


@dataclass(frozen=True)
class FailedTicket:
    id: str
    error: str
    transient: bool  # what the worker's `failed` audit event recorded


def failed_tickets(store: TicketStore) -> list[FailedTicket]:
    """Every `failed` ticket, oldest first, with its last recorded failure."""
    with store.session() as s:
        rows = s.execute(
            select(TicketRow.id, TicketRow.error).where(TicketRow.status == "failed").order_by(TicketRow.created_at)
        ).all()
        ids = [r.id for r in rows]
        last: dict[str, bool] = {}
        if ids:
            for ticket_id, detail in s.execute(
                select(AuditRow.ticket_id, AuditRow.detail)
                .where(AuditRow.ticket_id.in_(ids), AuditRow.node == "worker", AuditRow.event == "failed")
                .order_by(AuditRow.id)
            ):
                last[ticket_id] = bool((detail or {}).get("transient"))
    return [FailedTicket(r.id, r.error or "", last.get(r.id, False)) for r in rows]


def select_failed(store: TicketStore, *, error_contains: str | None = None) -> list[FailedTicket]:
    """The failed tickets to requeue: those whose failure was transient, or (with `error_contains`)
    those whose error contains that text (case-insensitive), transient or not."""
    wanted = error_contains.casefold() if error_contains else None
    return [t for t in failed_tickets(store) if (wanted in t.error.casefold() if wanted is not None else t.transient)]


def requeue(store: TicketStore, ticket_ids: list[str], reason: str) -> list[str]:
    """Set these `failed` tickets `received` (attempts reset, an audit event saying why); returns the
    ids actually requeued (a ticket no longer `failed` is left alone)."""
    done: list[str] = []
    for ticket_id in ticket_ids:
        now = utcnow()
        with store.writing() as s:
            res = s.execute(
                update(TicketRow)
                .where(TicketRow.id == ticket_id, TicketRow.status == "failed")
                .values(status="received", attempts=0, lease_owner=None, lease_until=None, updated_at=now)
            )
            if res.rowcount != 1:  # type: ignore[attr-defined]
                continue
            s.add(AuditRow(ticket_id=ticket_id, at=now, node="requeue", event="requeued", detail={"reason": reason}))
            done.append(ticket_id)
    return done
