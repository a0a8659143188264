"""`GET /metrics`: Prometheus's text format (agent/metrics.py says what is counted and where)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.concurrency import run_in_threadpool

from agent.metrics import CONTENT_TYPE_LATEST, StoreCounts, exposition
from api.deps import AgentDep, ServicesDep

router = APIRouter(tags=["ops"])


@router.get("/metrics", response_class=Response)
async def metrics(services: ServicesDep, _who: AgentDep) -> Response:
    """This process's counters and histograms (intake, graph nodes, tickets, LLM calls, decisions,
    write-back failures) and, read from the database at each scrape, tickets by status, queue depth and
    age, tickets awaiting review and failed write-backs. Scrape with an agent key
    (`authorization: {credentials: trk_...}` in Prometheus's scrape config)."""
    store = services.store

    def read() -> StoreCounts:
        by_status = store.counts()
        depth, age = store.queue_snapshot()
        return StoreCounts(
            by_status=by_status,
            queue_depth=depth,
            oldest_queued_age_s=age,
            awaiting_review=by_status.get("awaiting_review", 0),
            writeback_failed=by_status.get("writeback_failed", 0),
        )

    body = await run_in_threadpool(lambda: exposition(read))
    return Response(body, media_type=CONTENT_TYPE_LATEST)
