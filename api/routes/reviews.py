"""Review of suggested replies: the queue, one ticket, and the verdict (approve | edit | reject).

A verdict is recorded and the ticket queued in one transaction (`agent/reviews.py`); the worker
resumes the paused graph with it, which writes the approved reply back (or hands the ticket off).
The request returns at once (202): nothing slow or external happens on this path.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, model_validator

from agent.domain import Citation, Review, TicketResult
from agent.storage.reviews import ReviewError, ReviewStore
from api.deps import AgentDep, Services, ServicesDep

router = APIRouter(tags=["reviews"])


class ReviewIn(BaseModel):
    action: Literal["approve", "edit", "reject"]
    text: str | None = Field(default=None, max_length=20_000, description="edit: the reply to send instead")
    reason: str | None = Field(default=None, max_length=2_000, description="reject: why (required)")
    category: str | None = Field(default=None, max_length=64, description="the right category, if triage got it wrong")

    @model_validator(mode="after")
    def _needs(self) -> ReviewIn:
        if self.action == "edit" and not (self.text or "").strip():
            raise ValueError("edit needs 'text': the reply to send")
        if self.action == "reject" and not (self.reason or "").strip():
            raise ValueError("reject needs 'reason': it goes to whoever takes the ticket over")
        return self


class ReviewItem(BaseModel):
    ticket_id: str
    external_id: str
    source: str
    subject: str
    created_at: Any
    category: str | None
    category_confidence: float | None
    priority: str | None
    language: str | None
    queue: str | None
    reason: str | None
    draft_excerpt: str


class Queued(BaseModel):
    ticket_id: str
    status: str
    action: str


def reviews_of(request: Request) -> ReviewStore:
    store: ReviewStore | None = getattr(request.app.state, "reviews", None)
    if store is None:
        services: Services = request.app.state.services
        store = ReviewStore(services.store)
        request.app.state.reviews = store
    return store


def _item(row: dict[str, Any]) -> ReviewItem:
    result = TicketResult.stored(row["result"])
    triage = result.triage if result else None
    decision = result.decision if result else None
    text = result.reply.text if result and result.reply else ""
    return ReviewItem(
        ticket_id=row["id"],
        external_id=row["external_id"],
        source=row["source"],
        subject=str(row["ticket"].get("subject") or ""),
        created_at=row["created_at"],
        category=triage.category.value if triage else None,
        category_confidence=triage.category.confidence if triage else None,
        priority=triage.priority.value if triage else None,
        language=triage.language.value if triage else None,
        queue=decision.queue if decision else None,
        reason=decision.reason if decision else None,
        draft_excerpt=text[:200],
    )


@router.get("/reviews", response_model=list[ReviewItem])
async def list_reviews(
    services: ServicesDep,
    _who: AgentDep,
    queue: str | None = None,
    category: str | None = None,
    language: str | None = None,
    priority: str | None = None,
    limit: int = Query(default=100, ge=1, le=500),
) -> list[ReviewItem]:
    """Suggested replies waiting for a human, oldest first, optionally filtered."""

    def load() -> list[ReviewItem]:
        items: list[ReviewItem] = []
        for ticket_id in services.store.ids_with_status("awaiting_review"):
            row = services.store.get(ticket_id)
            if row is None or row["status"] != "awaiting_review":
                continue
            item = _item(row)
            wanted = {"queue": queue, "category": category, "language": language, "priority": priority}
            if all(v is None or getattr(item, k) == v for k, v in wanted.items()):
                items.append(item)
            if len(items) >= limit:
                break
        return items

    return await run_in_threadpool(load)


@router.get("/reviews/{ticket_id}")
async def get_review(ticket_id: str, request: Request, services: ServicesDep, _who: AgentDep) -> dict[str, Any]:
    """One ticket for review: the customer's text, triage with confidences, the decision and why,
    the draft, the cited and retrieved documents, and the verdict once given."""
    row = await run_in_threadpool(services.store.get, ticket_id)
    if row is None:
        raise HTTPException(404, detail=f"no ticket {ticket_id!r}")
    result = TicketResult.stored(row["result"])
    verdict = await run_in_threadpool(reviews_of(request).get, ticket_id)
    reply = result.reply if result else None
    titles = {d.doc_id: d.title for d in result.retrieved} if result else {}
    # results stored before replies carried `sources` name only the ids: the titles come from retrieval
    cited = (reply.sources or [Citation(doc_id=c, title=titles.get(c)) for c in reply.citations]) if reply else []
    return {
        "ticket_id": row["id"],
        "external_id": row["external_id"],
        "source": row["source"],
        "status": row["status"],
        "created_at": row["created_at"],
        "subject": row["ticket"].get("subject"),
        "body": row["ticket"].get("body"),
        "requester": row["ticket"].get("requester"),
        "customer": row["ticket"].get("customer"),
        "triage": result.triage.model_dump(mode="json") if result else None,
        "decision": result.decision.model_dump(mode="json") if result else None,
        "draft": reply.text if reply else None,
        "draft_language": reply.language if reply else None,
        "grounded": reply.grounded if reply else None,
        "citations": [{"doc_id": c.doc_id, "title": c.title, "url": f"/kb/docs/{c.doc_id}"} for c in cited],
        "retrieved": [d.model_dump(mode="json") for d in result.retrieved] if result else [],
        "routing": result.routing.model_dump(mode="json") if result and result.routing else None,
        "review": verdict,
    }


@router.post(
    "/reviews/{ticket_id}",
    status_code=202,
    response_model=Queued,
    responses={
        404: {"description": "unknown ticket"},
        409: {"description": "the ticket is not awaiting review, or was already reviewed"},
        422: {"description": "edit without text, reject without reason"},
    },
)
async def submit_review(
    ticket_id: str, body: ReviewIn, request: Request, services: ServicesDep, who: AgentDep
) -> JSONResponse:
    """approve (send the draft as is), edit (send `text` instead) or reject (hand off, with `reason`)."""
    verdict = Review(
        action=body.action,
        text=body.text.strip() if body.action == "edit" and body.text else None,
        reason=body.reason.strip() if body.reason else None,
        category=body.category,
        by=who.name,
        role=who.role,
        key_id=who.key_id,
    )
    try:
        await run_in_threadpool(reviews_of(request).submit, ticket_id, verdict)
    except ReviewError as exc:
        raise HTTPException(404 if exc.code == "not_found" else 409, detail=str(exc)) from exc
    if services.worker is not None:
        services.worker.notify()
    return JSONResponse(
        Queued(ticket_id=ticket_id, status="received", action=body.action).model_dump(), status_code=202
    )


@router.get("/kb/docs/{doc_id}")
async def kb_document(doc_id: str, request: Request, services: ServicesDep, _who: AgentDep) -> dict[str, Any]:
    """A knowledge document a draft cites, so the reviewer can open it."""
    knowledge = getattr(request.app.state, "knowledge", None)
    if knowledge is None:
        from agent.runtime.assembly import open_knowledge

        knowledge = await run_in_threadpool(open_knowledge, services.settings)
        request.app.state.knowledge = knowledge
    text = await run_in_threadpool(knowledge.document_text, doc_id)
    if not text:
        raise HTTPException(404, detail=f"no document {doc_id!r} in the knowledge base")
    return {"doc_id": doc_id, "text": text}
