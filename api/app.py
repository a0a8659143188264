"""FastAPI application: the only module that wires api/ to the rest."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import ExitStack, asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.telemetry import TelemetryConfig
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from agent.runtime.model_server import ModelSupervisor, local_model, probe
from agent.runtime.process import open_worker
from agent.runtime.worker import Worker
from agent.runtime.writeback import open_writeback
from agent.settings import Settings, get_settings
from agent.storage import open_database
from agent.storage.intake_batch import IntakeWriter
from api.deps import MaybePrincipalDep, Services
from api.middleware import (
    COMMON_HEADERS,
    REVIEW_HEADERS,
    IntakeMetrics,
    RequestLimits,
    ResponseHeaders,
    StaticFilesWithHeaders,
)
from api.routes import intake, keys, reviews, tickets, webhooks
from api.routes.dashboard import router as dashboard_router
from api.routes.kpis import router as kpis_router
from api.routes.metrics import router as metrics_router
from api.routes.sla import router as sla_router

log = logging.getLogger("triage.api")
REVIEW_PAGE = Path(__file__).parent / "static" / "review"
DASHBOARD_PAGE = Path(__file__).parent / "static" / "dashboard"


def create_app(settings: Settings | None = None, *, model: ModelSupervisor | None = None) -> FastAPI:
    """`model`: the bundled model's process when the caller started it (`triage serve` does, to stop a
    bad start before serving); else the lifespan starts one for llamacpp/... (or shares a running one)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with ExitStack() as stack:
            # the bundled model in its own process (started, checked and restarted here; a bad model path
            # or a broken llama.cpp build stops the start with a message), shared by every worker by URL
            run_settings, app.state.model = (settings, model) if model else stack.enter_context(local_model(settings))
            store = open_database(settings.db_url)  # migrated to the current schema first
            # new tickets of concurrent deliveries share one transaction (group commit), each answered
            # after its commit; stopped (what is queued stored first) after the server stopped taking requests
            app.state.intake = IntakeWriter(store).start()
            stack.callback(app.state.intake.close)
            worker: Worker | None = None
            if settings.worker_enabled:  # the same wiring as `triage worker` (agent/runtime/process.py)
                worker = stack.enter_context(open_worker(run_settings, store))
                worker.start()
                # the retry endpoint shares the worker's write-back clients and ledger
                ticketing, ledger = worker.agent.context.ticketing, worker.agent.context.ledger
            else:
                ticketing, ledger = open_writeback(settings, store.engine)
                for system in ticketing.values():
                    stack.callback(system.close)
            app.state.services = Services(settings, store, worker, ticketing, ledger)
            # review verdicts share the worker's store; cited documents open from the worker's knowledge base
            app.state.reviews = worker.reviews if worker is not None else None
            app.state.knowledge = worker.agent.context.knowledge if worker is not None else None
            log.info(
                "triage API ready (worker %s, llm %s, write-back to %s)",
                "on" if worker else "off",
                settings.llm,
                ", ".join(ticketing) or "nothing",
            )
            yield

    # FastAPI's built-in OpenTelemetry hook looks up the global providers on every request (~5% of an
    # intake request's CPU); this service exports Prometheus metrics (/metrics) and no OpenTelemetry
    telemetry: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}
    app = FastAPI(title="Support triage", version="0.1.0", lifespan=lifespan, telemetry=telemetry)
    # the last added runs first: security headers on every response, the 431 included
    # innermost: the signed webhooks straight to their handlers, past FastAPI's router (api/routes/webhooks.py)
    app.add_middleware(webhooks.SignedIntakeRoutes)
    app.add_middleware(RequestLimits, max_bytes=settings.max_header_bytes)
    app.add_middleware(ResponseHeaders, headers=COMMON_HEADERS)
    app.add_middleware(IntakeMetrics)  # outermost: counts the 431s and 413s too
    app.include_router(webhooks.router)
    app.include_router(tickets.router)
    app.include_router(sla_router)
    app.include_router(kpis_router)
    app.include_router(intake.router)
    app.include_router(reviews.router)
    app.include_router(keys.router)
    app.include_router(metrics_router)
    app.include_router(dashboard_router)  # GET /dashboard/data, before the page's mount at /dashboard
    # The agents' review page: static HTML/JS/CSS, open (it asks for a key; every API call it makes sends it).
    # GET /review redirects to /review/, which serves index.html.
    # CSP (own-origin script, style and API calls only), X-Frame-Options and the common headers.
    review_page = StaticFilesWithHeaders(directory=REVIEW_PAGE, html=True, headers=REVIEW_HEADERS)
    app.mount("/review", review_page, name="review")
    # the dashboard page (api/static/dashboard/): open like the review page; its data call needs an agent key
    dashboard_page = StaticFilesWithHeaders(directory=DASHBOARD_PAGE, html=True, headers=REVIEW_HEADERS)
    app.mount("/dashboard", dashboard_page, name="dashboard")

    @app.get("/healthz", tags=["ops"])  # open: no key (load balancers, probes)
    async def healthz(request: Request, who: MaybePrincipalDep) -> dict[str, object]:
        """{"status": "ok"} while the service is up (any caller, never 401); with an agent or admin
        key also the worker, the LLM and ticket counts."""
        if who is None or not who.allows("agent"):
            return {"status": "ok"}
        services: Services = request.app.state.services
        return {
            "status": "ok",
            "worker": services.worker is not None,
            "llm": settings.llm,
            "tickets": await run_in_threadpool(services.store.counts),
        }

    @app.get("/readyz", tags=["ops"])
    async def readyz(request: Request, who: MaybePrincipalDep) -> JSONResponse:
        """Readiness: 200 when this process can take work (database answers; the model process is
        ready when this server runs or shares one), else 503. Without a key only the verdict; with an
        agent key also what was checked (the model's state, pid, restarts, last problem)."""
        services: Services = request.app.state.services
        checks = await run_in_threadpool(readiness, settings, services, request.app.state.model)
        ready = all(c["ok"] for c in checks.values())
        body: dict[str, object] = {"status": "ready" if ready else "not_ready"}
        if who is not None and who.allows("agent"):
            body["checks"] = checks
        return JSONResponse(body, status_code=200 if ready else 503)

    # Starlette's HTTPException too (FastAPI's derives from it): an unknown path or a wrong method
    # answers in the same shape as our own errors
    @app.exception_handler(StarletteHTTPException)
    async def http_error(_req: Request, exc: StarletteHTTPException) -> JSONResponse:
        names = {
            400: "bad_request",
            401: "unauthorized",
            403: "forbidden",
            404: "not_found",
            405: "method_not_allowed",
            409: "conflict",
            413: "too_large",
            422: "invalid",
            431: "headers_too_large",
            503: "not_configured",
        }
        return JSONResponse(
            {"error": names.get(exc.status_code, "error"), "detail": exc.detail},
            status_code=exc.status_code,
            headers=exc.headers,
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(_req: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": ".".join(map(str, e["loc"])), "problem": str(e["msg"]).removeprefix("Value error, ")}
            for e in exc.errors()
        ]
        return JSONResponse({"error": "invalid", "detail": {"errors": errors}}, status_code=422)

    return app


def readiness(settings: Settings, services: Services, model: ModelSupervisor | None) -> dict[str, dict[str, object]]:
    """What /readyz checks, each {ok, ...}: the database, the Chroma server when TRIAGE_CHROMA_URL is set,
    and for llamacpp/... the model process."""
    checks: dict[str, dict[str, object]] = {}
    try:
        services.store.counts()
        checks["database"] = {"ok": True}
    except SQLAlchemyError as exc:
        checks["database"] = {"ok": False, "problem": type(exc).__name__}
    checks["worker"] = {"ok": True, "running": services.worker is not None}
    if settings.chroma_url:  # the KB in a Chroma server (scaled): this process ingests and serves /kb/docs from it
        from agent.runtime.topology import http_ok

        up = http_ok(f"{settings.chroma_url.rstrip('/')}/api/v2/heartbeat")
        checks["knowledge"] = {"ok": up, "state": "reachable" if up else "unreachable", "url": settings.chroma_url}
    if model is not None:
        status = model.status()
        checks["model"] = {"ok": status["state"] == "ready", **status}
    elif settings.llm.startswith("llamacpp/") and services.worker is not None:
        found = probe(settings.model_server_url)
        checks["model"] = {"ok": found is not None, "state": "shared" if found else "unreachable",
                           "url": settings.model_server_url}  # fmt: skip
    return checks
