from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError

from agent.domain import TicketResult
from agent.runtime.writeback import RetryRefused, retry_writeback
from api.deps import AdminDep, AgentDep, Services, ServicesDep
from api.schemas import TicketOut, TicketViewOut

router = APIRouter(tags=["tickets"])

REFUSAL_STATUS = {"not_found": 404, "not_failed": 409, "busy": 409, "no_plan": 409, "not_configured": 503}


# the stored ticket's fields shown at GET /tickets/{id}: what the agent read (its own id is ticket_id)
VIEW_FIELDS = tuple(name for name in TicketViewOut.model_fields)


def ticket_view(payload: object) -> TicketViewOut | None:
    """The stored ticket (a Ticket dump) as the API shows it; None for a row without one."""
    if not isinstance(payload, dict):
        return None
    try:
        return TicketViewOut.model_validate({k: payload[k] for k in VIEW_FIELDS if payload.get(k) is not None})
    except ValidationError:  # a row written by an older version that lacks a field: show the rest
        return None


def ticket_out(row: dict[str, Any]) -> TicketOut:
    result = TicketResult.stored(row["result"])
    fields: dict[str, Any] = {
        "ticket_id": row["id"],
        "external_id": row["external_id"],
        "source": row["source"],
        "status": row["status"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "attempts": row["attempts"],
        "error": row["error"],
        "ticket": ticket_view(row.get("ticket")),
        "audit": row["audit"],
    }
    if result is not None:
        fields.update(result.model_dump(mode="json", exclude={"redactions", "query_language"}))
        if result.writeback is not None:
            fields["writeback"] = {**fields["writeback"], "ok": result.writeback.ok}
    return TicketOut.model_validate(fields)


async def _read(services: Services, ticket_id: str) -> TicketOut:
    row = await run_in_threadpool(services.store.get, ticket_id)
    if row is None:
        raise HTTPException(404, detail=f"no ticket {ticket_id!r}")
    return ticket_out(row)


@router.get("/tickets/{ticket_id}", response_model=TicketOut)
async def get_ticket(ticket_id: str, services: ServicesDep, _who: AgentDep) -> TicketOut:
    return await _read(services, ticket_id)


@router.post(
    "/tickets/{ticket_id}/writeback/retry",
    response_model=TicketOut,
    responses={
        404: {"description": "unknown ticket"},
        409: {"description": "the ticket is not writeback_failed, or a retry of it is running"},
        503: {"description": "the ticket's ticketing system is not configured on this server"},
    },
)
async def retry_ticket_writeback(ticket_id: str, services: ServicesDep, who: AdminDep) -> TicketOut:
    """Re-apply a `writeback_failed` ticket's write-back plan: steps already done are skipped, the rest
    run in order. Answers the ticket afterwards: `status` and `writeback` say whether it worked this time.
    Needs the admin role; the audit event records who retried (`detail.by`)."""
    if services.ledger is None:
        raise HTTPException(503, detail="write-back is not set up on this server")
    try:
        await run_in_threadpool(
            retry_writeback,
            services.store,
            services.ticketing,
            services.ledger,
            ticket_id,
            lease_s=services.settings.worker_lease_s,
            by=who.audit(),
        )
    except RetryRefused as exc:
        raise HTTPException(REFUSAL_STATUS[exc.reason], detail=str(exc)) from exc
    return await _read(services, ticket_id)
