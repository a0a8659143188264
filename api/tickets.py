from __future__ import annotations

from fastapi import APIRouter, HTTPException
from fastapi.concurrency import run_in_threadpool

from api.deps import ApiKey, ServicesDep
from api.schemas import TicketOut

router = APIRouter(tags=["tickets"])


@router.get("/tickets/{ticket_id}", response_model=TicketOut)
async def get_ticket(ticket_id: str, services: ServicesDep, _auth: ApiKey) -> TicketOut:
    row = await run_in_threadpool(services.store.get, ticket_id)
    if row is None:
        raise HTTPException(404, detail=f"no ticket {ticket_id!r}")
    result = row["result"] or {}
    return TicketOut.model_validate(
        {
            "ticket_id": row["id"],
            "external_id": row["external_id"],
            "source": row["source"],
            "status": row["status"],
            "created_at": row["created_at"],
            "updated_at": row["updated_at"],
            "attempts": row["attempts"],
            "error": row["error"],
            "triage": result.get("triage"),
            "decision": result.get("decision"),
            "reply": result.get("reply"),
            "handoff_note": result.get("handoff_note"),
            "retrieved": result.get("retrieved", []),
            "policy_version": result.get("policy_version"),
            "prompts": result.get("prompts", {}),
            "audit": row["audit"],
        }
    )
