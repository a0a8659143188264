"""`triage serve`, `triage worker` and `triage model serve`: the long-running processes."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from agent.settings import Settings, get_settings
from api.cli.common import fail, model_for
from api.cli.kb import kb_ingest

model_app = typer.Typer(help="The bundled local model, served in its own process.", no_args_is_help=True)


def serve(
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
    ingest: Annotated[bool, typer.Option(help="ingest TRIAGE_KB_PATH before serving")] = True,
    processes: Annotated[
        int,
        typer.Option(
            min=1,
            help="API processes sharing the port (intake on more than one core); more than 1 needs PostgreSQL "
            "and TRIAGE_WORKER_ENABLED=false (the workers run as `triage worker`)",
        ),
    ] = 1,
    access_log: Annotated[
        bool,
        typer.Option(
            help="log a line per request (uvicorn's access log); off by default: at intake rates it costs "
            "~5% of a request's CPU, and the intake counters are at /metrics",
        ),
    ] = False,
) -> None:
    """Serve the API and the in-process worker."""
    import uvicorn

    from api.app import create_app

    settings = get_settings()
    if processes > 1 and settings.worker_enabled:
        fail(
            "--processes above 1 needs TRIAGE_WORKER_ENABLED=false: run the workers as `triage worker` (or `triage up`)"
        )
    if processes > 1 and settings.db_url.startswith("sqlite"):
        fail("--processes above 1 needs PostgreSQL (TRIAGE_DATABASE_URL): SQLite takes one writer at a time")
    _preflight(settings)
    if ingest:
        kb_ingest(settings.kb_path, prune=False)
    if settings.worker_enabled:
        _require_kb(settings)
    h, p = host or settings.host, port or settings.port
    typer.echo(f"API on http://{h}:{p}  (docs: http://{h}:{p}/docs)  LLM: {settings.llm}")
    if settings.llm.startswith("llamacpp/"):
        typer.echo(
            f"model process: {settings.model_server_url} (started and watched by this server; log in "
            f"{settings.data_dir / 'logs' / 'model-server.log'})"
        )
    typer.echo("send the demo tickets with:  make demo   (or: .venv/bin/triage demo)")
    # above our own limit, so an oversized request gets the app's 431 with how to fix it
    max_event = settings.max_header_bytes + 16384
    http, loop = _fast_io()
    with model_for() as (run_settings, model):  # a broken model stops the start here, with how to fix it
        # no line logged per request unless --access-log
        opts: dict[str, Any] = dict(host=h, port=p, log_level="info", access_log=access_log, http=http, loop=loop,
                                    h11_max_incomplete_event_size=max_event)  # fmt: skip
        if processes > 1:  # each process builds its app from the environment and shares the model started here
            _serve_processes(processes, opts)
        else:
            uvicorn.run(create_app(run_settings, model=model), **opts)


# `--processes N`: how long the API processes get to finish after SIGTERM (one still in its startup
# finishes that first: uvicorn only notes the signal), then SIGKILL. Below `triage up`'s stop timeout
# (agent/runtime/topology.py, 20 s), so this supervisor stops its own processes before it is killed.
PROCESS_STOP_S = 12.0
# uvicorn kills an API process that does not answer its supervisor's ping in time as hung (default 5 s):
# on a saturated machine a process still importing or starting can miss that and be killed mid-start
PROCESS_PING_S = 30


def _serve_processes(processes: int, opts: dict[str, Any]) -> None:
    """uvicorn's multiprocess supervisor (what `uvicorn.run(workers=N)` runs), with a bounded stop:
    uvicorn joins its processes with no timeout, so one that ignores SIGTERM (still in its startup, or
    stuck) would keep the supervisor, and a `triage up` waiting for it, forever."""
    import contextlib
    import time

    import uvicorn
    from uvicorn.supervisors import Multiprocess

    class BoundedStop(Multiprocess):
        def join_all(self) -> None:
            deadline = time.monotonic() + PROCESS_STOP_S
            for p in self.processes:
                p.process.join(max(0.0, deadline - time.monotonic()))
            for p in self.processes:
                if p.process.is_alive():
                    typer.echo(
                        f"API process {p.pid} still running {PROCESS_STOP_S:.0f} s after SIGTERM; killed", err=True
                    )
                    p.kill()
                    p.process.join(5)

    config = uvicorn.Config("api.cli.serve:process_app", factory=True, workers=processes,
                            timeout_worker_healthcheck=PROCESS_PING_S, **opts)  # fmt: skip
    sock = config.bind_socket()
    with contextlib.suppress(KeyboardInterrupt):
        BoundedStop(config, sockets=[sock]).run()


def process_app() -> Any:
    """The app of one API process under `--processes N` (uvicorn's factory, in that process). It dies
    with the supervisor that started it (Linux PR_SET_PDEATHSIG), so a supervisor killed -9 (the OOM
    killer, a watchdog) leaves no process behind serving its port."""
    import ctypes
    import multiprocessing
    import os
    import signal
    import sys

    _exit_on_stop_until_started()
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
        parent = multiprocessing.parent_process()
        if parent is not None and parent.pid != os.getppid():  # it died before the prctl
            raise SystemExit(f"the API supervisor (pid {parent.pid}) is gone")
    from api.app import create_app

    return create_app()


def _exit_on_stop_until_started() -> None:
    """uvicorn only notes a SIGTERM (or SIGINT) that comes while its process starts (importing the app,
    running the lifespan's startup) and stops once the startup is done: up to minutes on a busy machine,
    so its supervisor, and `triage up`, waited for it. A process that has served nothing has nothing to
    finish: it exits at once; once started, uvicorn's graceful stop (requests finished, the lifespan's
    shutdown). Called first thing in the process's app factory, inside uvicorn's signal capture."""
    import os
    import signal
    from types import FrameType

    server = getattr(signal.getsignal(signal.SIGTERM), "__self__", None)  # uvicorn's Server.handle_exit
    if server is None or not hasattr(server, "started") or not hasattr(server, "should_exit"):
        return  # not under uvicorn's Server: nothing to do (the supervisor's bounded stop still holds)
    if server.should_exit:  # signalled before this factory ran
        os._exit(0)

    def handle(sig: int, frame: FrameType | None) -> None:
        if not server.started:
            os._exit(0)
        server.handle_exit(sig, frame)

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, handle)


def _fast_io() -> tuple[str, str]:
    """uvicorn's C HTTP parser and event loop (httptools, uvloop: pinned in requirements.lock), else its
    pure-Python ones (what uvicorn's "auto" picks; said here, since intake then costs more CPU)."""
    from importlib.util import find_spec

    http = "httptools" if find_spec("httptools") else "h11"
    loop = "uvloop" if find_spec("uvloop") else "asyncio"
    if (http, loop) != ("httptools", "uvloop"):
        typer.secho(f"note: serving with {http} and {loop} (install httptools and uvloop for cheaper requests)",
                    fg=typer.colors.YELLOW, err=True)  # fmt: skip
    return http, loop


def _preflight(settings: Settings) -> None:
    """Configuration errors stop the start with how to fix them (not a per-ticket fallback later)."""
    from agent.graph.llm import LLMConfigError, make_chat_model
    from agent.runtime.model_server import ModelServerError, config_from_settings

    try:
        make_chat_model(settings.llm, settings)
        if settings.llm.startswith("llamacpp/") and settings.model_serve:
            config_from_settings(settings)  # the model file exists and is whole, before the KB ingest
    except (LLMConfigError, ModelServerError) as exc:
        fail(str(exc))


def _require_kb(settings: Settings) -> None:
    """A worker with an empty (or unreachable, or another embedder's) knowledge base would hand every
    ticket off with nothing retrieved: refuse to start, saying how to fix it (TRIAGE_ALLOW_EMPTY_KB=true
    starts anyway, loudly)."""
    from agent.runtime.assembly import open_knowledge
    from knowledge.store import EmptyKnowledgeError, IndexMismatchError, KnowledgeUnavailableError

    try:
        n = open_knowledge(settings).require_documents()
    except EmptyKnowledgeError as exc:
        if not settings.allow_empty_kb:
            fail(f"{exc} (or set TRIAGE_ALLOW_EMPTY_KB=true to start anyway)")
        typer.secho(f"warning: {exc}; starting anyway (TRIAGE_ALLOW_EMPTY_KB)", fg=typer.colors.YELLOW, err=True)
        return
    except (IndexMismatchError, KnowledgeUnavailableError, ValueError) as exc:
        fail(str(exc))
    typer.echo(f"knowledge base: {n} chunks in {settings.chroma_url or settings.chroma_path}")


def worker() -> None:
    """Run a worker process without the API (scaled mode; needs a shared database such as PostgreSQL)."""
    from agent.runtime.process import open_worker
    from agent.storage import open_database

    _require_kb(get_settings())
    # a worker shares the model process of `triage serve` / `triage model serve`; it never starts one
    with model_for(serve=False) as (s, _model), open_worker(s, open_database(s.db_url)) as w:
        typer.echo(f"worker {w.id} polling {s.db_url.split('@')[-1]}")
        if s.metrics_port is not None:  # this process's counters; the queue gauges are the API's /metrics
            from prometheus_client import start_http_server

            start_http_server(s.metrics_port, addr=s.metrics_host)
            typer.echo(f"metrics at http://{s.metrics_host}:{s.metrics_port}/")
        w.loop()


@model_app.command("serve")
def model_serve(
    port: Annotated[int | None, typer.Option(help="default TRIAGE_MODEL_PORT")] = None,
) -> None:
    """Serve TRIAGE_LLM (llamacpp/...) on its own, for workers on this machine to share (they reach it at
    TRIAGE_MODEL_URL; set TRIAGE_MODEL_SERVE=false for `triage serve` then). Restarts it when it dies."""
    import time

    from agent.runtime.model_server import ModelServerError, ModelSupervisor, config_from_settings

    s = get_settings()
    try:
        sup = ModelSupervisor(config_from_settings(s, port=port)).start()
    except ModelServerError as exc:
        fail(str(exc))
    typer.echo(f"model {sup.config.alias} at {sup.url}/v1 (pid {sup.pid}); Ctrl+C stops it")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        sup.stop()
