"""`triage up`: the whole service on one machine as separate processes (agent/runtime/topology.py)."""

from __future__ import annotations

import signal
import time
from typing import Annotated

import typer

from agent.settings import get_settings
from api.cli.common import fail


def up(
    workers: Annotated[int, typer.Option("--workers", "-n", min=1, help="worker processes")] = 2,
    database_url: Annotated[
        str | None, typer.Option(help="PostgreSQL URL shared by every process (default TRIAGE_DATABASE_URL)")
    ] = None,
    host: Annotated[str, typer.Option(help="interface every process listens on")] = "127.0.0.1",
    port: Annotated[int | None, typer.Option(help="the API's port (default TRIAGE_PORT)")] = None,
    chroma_port: Annotated[int, typer.Option(help="the Chroma server's port")] = 8002,
    chroma_url: Annotated[
        str | None, typer.Option(help="use this running Chroma server instead of starting one")
    ] = None,
    metrics_port: Annotated[int, typer.Option(help="worker i serves its metrics at this port + i - 1")] = 9101,
    cores: Annotated[int | None, typer.Option(help="cores to share out (default: those this process may use)")] = None,
    ingest: Annotated[bool, typer.Option(help="the API ingests TRIAGE_KB_PATH into the Chroma server first")] = True,
    api_processes: Annotated[
        int, typer.Option("--api-processes", min=1, help="API processes sharing its port (intake on more cores)")
    ] = 1,
) -> None:
    """Start a Chroma server, the shared model server (llamacpp/...), the API (its worker off) and N
    workers against one PostgreSQL; restart any that dies; Ctrl+C stops them all. Logs in <data>/logs/."""
    from agent.runtime.topology import Ports, Topology, TopologyError, one_machine

    s = get_settings()
    ports = Ports(api=port or s.port, chroma=chroma_port, model=s.model_port, metrics_first=metrics_port)
    try:
        specs, threads = one_machine(
            s, workers=workers, database_url=database_url, ports=ports, host=host, chroma_url=chroma_url,
            cores=cores, ingest=ingest, api_processes=api_processes,
        )  # fmt: skip
    except TopologyError as exc:
        fail(str(exc))
    typer.echo(f"threads: {threads.describe()}")
    top = Topology(specs, on_event=lambda msg: typer.echo(f"[{time.strftime('%H:%M:%S')}] {msg}"))

    def interrupt(_signum: int, _frame: object) -> None:
        """Ctrl+C or SIGTERM (docker stop, systemd): stop everything in order; another one while
        stopping: SIGKILL what is left now (raising then would leave the stop half done)."""
        if top.stopping:
            top.hurry()
            return
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    try:
        top.start()
        typer.echo(
            f"up: API http://{host}:{ports.api} (/healthz, /readyz; {api_processes} process(es)), {workers} worker(s), "
            f"logs in {s.data_dir.resolve() / 'logs'}; Ctrl+C stops all"
        )
        top.run()
    except TopologyError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        typer.echo("stopping: workers, API, model, Chroma")
    finally:
        top.stop()
