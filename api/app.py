"""FastAPI application: the only module that wires api/ to the rest."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from agent.service import Agent
from agent.settings import Settings, get_settings
from agent.tickets import TicketStore
from agent.worker import Worker
from agent.writeback import open_writeback
from api import intake, keys, reviews, tickets, webhooks
from api.deps import Services
from api.sla import router as sla_router

log = logging.getLogger("triage.api")
REVIEW_PAGE = Path(__file__).parent / "static" / "review"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = TicketStore(settings.db_url)
        worker: Worker | None = None
        agent: Agent | None = None
        if settings.worker_enabled:
            agent = Agent.from_settings(settings, writeback=True, engine=store.engine)
            worker = Worker(
                store,
                agent,
                lease_s=settings.worker_lease_s,
                poll_s=settings.worker_poll_s,
                max_attempts=settings.max_attempts,
            )
            worker.start()
        if agent is not None:  # the retry endpoint shares the worker's write-back clients and ledger
            ticketing, ledger = agent.context.ticketing, agent.context.ledger
        else:
            ticketing, ledger = open_writeback(settings, store.engine)
        app.state.services = Services(settings, store, worker, ticketing, ledger)
        # review verdicts share the worker's store; cited documents open from the worker's knowledge base
        app.state.reviews = worker.reviews if worker is not None else None
        app.state.knowledge = agent.context.knowledge if agent is not None else None
        log.info(
            "triage API ready (worker %s, llm %s, write-back to %s)",
            "on" if worker else "off",
            settings.llm,
            ", ".join(ticketing) or "nothing",
        )
        try:
            yield
        finally:
            if worker is not None:
                worker.stop()
            for system in ticketing.values():
                system.close()

    app = FastAPI(title="Support triage", version="0.1.0", lifespan=lifespan)
    app.include_router(webhooks.router)
    app.include_router(tickets.router)
    app.include_router(sla_router)
    app.include_router(intake.router)
    app.include_router(reviews.router)
    app.include_router(keys.router)
    # The agents' review page: static HTML/JS/CSS, open (it asks for a key; every API call it makes sends it).
    # GET /review redirects to /review/, which serves index.html.
    app.mount("/review", StaticFiles(directory=REVIEW_PAGE, html=True), name="review")

    @app.get("/healthz", tags=["ops"])  # open: no key (load balancers, probes)
    async def healthz(request: Request) -> dict[str, object]:
        services: Services = request.app.state.services
        return {
            "status": "ok",
            "worker": services.worker is not None,
            "llm": settings.llm,
            "tickets": await run_in_threadpool(services.store.counts),
        }

    @app.exception_handler(HTTPException)
    async def http_error(_req: Request, exc: HTTPException) -> JSONResponse:
        names = {
            400: "bad_request",
            401: "unauthorized",
            403: "forbidden",
            404: "not_found",
            409: "conflict",
            413: "too_large",
            422: "invalid",
            503: "not_configured",
        }
        return JSONResponse(
            {"error": names.get(exc.status_code, "error"), "detail": exc.detail},
            status_code=exc.status_code,
            headers=exc.headers,
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(_req: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"field": ".".join(map(str, e["loc"])), "problem": e["msg"]} for e in exc.errors()]
        return JSONResponse({"error": "invalid", "detail": {"errors": errors}}, status_code=422)

    return app
