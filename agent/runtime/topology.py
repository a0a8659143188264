"""The whole service on one machine: a Chroma server, the shared model server, the API and N workers,
each a process with its own liveness and readiness, watched and restarted; `triage up` runs it.

    plan = ThreadPlan ... (agent/runtime/threads.py)        the cores each process may use
    specs = one_machine(settings, workers=3, database_url=...)
    with Topology(specs) as top:                              started in order, each ready before the next
        top.run()                                             until Ctrl+C (or top.stop() from another thread)

Processes, in start order (the compose file, api/deploy/compose.yaml, has the same ones):

    name       command                                      live                    ready
    chroma     chroma run --path <data>/chroma-server        GET /api/v2/heartbeat   same
    model      triage model serve (llamacpp/... only)       process alive (*)       GET /health
    api        triage serve (TRIAGE_WORKER_ENABLED=false)    GET /healthz            GET /readyz
    worker-i   triage worker (TRIAGE_METRICS_PORT=base+i)    GET metrics port /      same

(*) `triage model serve` restarts llama.cpp itself (agent/runtime/model_server.py); killing it for a
slow reload would only start the 1.1 GB load again.

Watch: a process that exits is started again after a backoff (1 s, doubling to 30 s; reset after
60 s up); one whose liveness fails `unhealthy_after` checks in a row is killed (-9) and started again.
Stop: the workers first (they give their leases back), then the API, the model, Chroma; SIGTERM, then
SIGKILL to the whole session after `stop_timeout_s` (or at once after `hurry()`: a second Ctrl+C), so
a stop is bounded whatever a process does. Children are in their own session (a Ctrl+C reaches only
`triage up`, which stops them in order) and die with it if it is killed (Linux PR_SET_PDEATHSIG).
A process that exits or is killed by the watch has its session killed before it is started again: what
it started (the API's uvicorn processes, which hold the API's port) must not outlive it.

Errors: `TopologyError` for a process that cannot start (its log's tail says why), a port it would
listen on that another process already holds (checked before its first start: a foreign server
answering the probe must not pass for ours), or a configuration `one_machine` refuses (SQLite with
separate workers).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from agent.errors import ConfigError
from agent.runtime.threads import ThreadPlan, child_env, plan
from agent.settings import Settings

log = logging.getLogger("triage.up")

State = Literal["stopped", "starting", "ready", "unhealthy", "restarting", "failed"]


class TopologyError(ConfigError):
    """A process of the topology cannot be started as configured; the message says how to fix it."""


@dataclass(frozen=True)
class ProcessSpec:
    """One process: its command, environment, log file, and how to tell it is alive and ready."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log_file: Path
    live_url: str | None = None  # None: alive while the process runs
    ready_url: str | None = None  # None: the liveness check (or, without one, running)
    start_timeout_s: float = 120.0
    cwd: Path | None = None
    settle_s: float = 1.0  # without a probe URL: ready once it has run this long
    listens: tuple[tuple[str, int], ...] = ()  # (host, port) it will listen on: must be free before it starts


def port_in_use(host: str, port: int) -> bool:
    """Another process listens on (or holds) host:port: a bind with SO_REUSEADDR (as uvicorn and
    Chroma bind: a port in TIME_WAIT is free) fails."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


def http_ok(url: str, timeout: float = 2.0) -> bool:
    """A 2xx from `url` (loopback probes; any error, 4xx/5xx included, is False)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # our own loopback URLs
            return 200 <= int(resp.status) < 300
    except (OSError, ValueError):
        return False


def _libc() -> Any:
    with contextlib.suppress(OSError):
        return ctypes.CDLL(None, use_errno=True)  # loaded in the parent: nothing to load after fork
    return None


_LIBC = _libc() if sys.platform == "linux" else None


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the thread that started it dies (Linux only)."""
    if _LIBC is not None:
        _LIBC.prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG


def _killpg(pid: int) -> None:
    """SIGKILL to the session `pid` leads (each process here starts one): what it started goes too."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _tail(path: Path, lines: int = 15) -> str:
    if not path.exists():
        return ""
    with path.open("rb") as f:
        f.seek(0, os.SEEK_END)
        f.seek(max(0, f.tell() - 8192))
        text = f.read().decode(errors="replace")
    return "\n".join(text.strip().splitlines()[-lines:])


@dataclass
class Supervised:
    """A running process of the topology and what the watch knows of it."""

    spec: ProcessSpec
    proc: subprocess.Popen[bytes] | None = None
    state: State = "stopped"
    restarts: int = 0
    failures: int = 0
    started_at: float = 0.0
    backoff_s: float = 1.0
    restart_at: float | None = None
    last_problem: str | None = None
    pids: list[int] = field(default_factory=list[int])  # every pid it has had, first to last

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def live(self) -> bool:
        if not self.running():
            return False
        return self.spec.live_url is None or http_ok(self.spec.live_url)

    def ready(self) -> bool:
        if not self.running():
            return False
        url = self.spec.ready_url or self.spec.live_url
        if url is None:
            return time.monotonic() - self.started_at >= self.spec.settle_s
        return http_ok(url)

    def status(self) -> dict[str, Any]:
        up = round(time.monotonic() - self.started_at, 1) if self.running() else None
        return {"name": self.spec.name, "state": self.state, "pid": self.pid, "restarts": self.restarts,
                "uptime_s": up, "last_problem": self.last_problem}  # fmt: skip


class Topology:
    """Starts `specs` in order (each ready before the next), watches and restarts them, stops them
    in reverse order. `run()` watches in the calling thread; `start_watch()` in a daemon thread."""

    def __init__(
        self,
        specs: list[ProcessSpec],
        *,
        check_every_s: float = 1.0,
        unhealthy_after: int = 3,
        backoff_first_s: float = 1.0,
        backoff_max_s: float = 30.0,
        stable_after_s: float = 60.0,
        stop_timeout_s: float = 20.0,
        on_event: Callable[[str], None] | None = None,
    ) -> None:
        names = [s.name for s in specs]
        if len(set(names)) != len(names):
            raise TopologyError(f"process names must be unique: {names}")
        self.procs = {s.name: Supervised(s, backoff_s=backoff_first_s) for s in specs}
        self.check_every_s = check_every_s
        self.unhealthy_after = unhealthy_after
        self.backoff_first_s = backoff_first_s
        self.backoff_max_s = backoff_max_s
        self.stable_after_s = stable_after_s
        self.stop_timeout_s = stop_timeout_s
        self._say = on_event or (lambda msg: log.info("%s", msg))
        self._stop = threading.Event()
        self._hurry = threading.Event()
        self.stopping = False  # stop() has begun (a second Ctrl+C then calls hurry())
        self._lock = threading.RLock()
        self._thread: threading.Thread | None = None

    # ---- start / stop -------------------------------------------------------------------------
    def _spawn(self, p: Supervised) -> None:
        spec = p.spec
        spec.log_file.parent.mkdir(parents=True, exist_ok=True)
        with spec.log_file.open("ab") as out:
            p.proc = subprocess.Popen(
                spec.argv, env=spec.env, cwd=spec.cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True, preexec_fn=_die_with_parent if _LIBC is not None else None,
            )  # fmt: skip
        p.pids.append(p.proc.pid)
        p.started_at = time.monotonic()
        p.state, p.failures, p.restart_at = "starting", 0, None

    def _check_ports(self, p: Supervised) -> None:
        """Before the first start: a port another process holds would make its probe ask that other
        process (a foreign server answering 2xx was taken for ours) while ours fails to bind."""
        busy = [f"{h}:{port}" for h, port in p.spec.listens if port_in_use(h, port)]
        if busy:
            p.state = "failed"
            raise TopologyError(
                f"{p.spec.name} cannot start: {', '.join(busy)} is already in use by another process "
                "(a service started earlier?); stop it or choose other ports (triage up --port, --chroma-port, "
                "--metrics-port; TRIAGE_MODEL_PORT)"
            )

    def _wait_ready(self, p: Supervised) -> None:
        deadline = time.monotonic() + p.spec.start_timeout_s
        while time.monotonic() < deadline:
            if not p.running():
                code = p.proc.poll() if p.proc is not None else None
                p.state = "failed"
                raise TopologyError(
                    f"{p.spec.name} exited with status {code} while starting; its log ({p.spec.log_file}) ends:\n"
                    f"{_tail(p.spec.log_file)}"
                )
            if p.ready():
                p.state = "ready"
                self._say(f"{p.spec.name} ready (pid {p.pid})")
                return
            time.sleep(0.2)
        p.state = "failed"
        raise TopologyError(
            f"{p.spec.name} was not ready within {p.spec.start_timeout_s:.0f} s "
            f"({p.spec.ready_url or p.spec.live_url}); its log ({p.spec.log_file}) ends:\n{_tail(p.spec.log_file)}"
        )

    def start(self) -> Topology:
        """Start every process in order; TopologyError (after stopping what started) if one cannot."""
        try:
            for p in self.procs.values():
                self._say(f"starting {p.spec.name}: {' '.join(p.spec.argv[-6:])}")
                self._check_ports(p)
                with self._lock:
                    self._spawn(p)
                self._wait_ready(p)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the watch, then every process in reverse start order (SIGTERM, then SIGKILL to its
        session after `stop_timeout_s`); the workers all at once, so N of them take one stop timeout,
        not N. Bounded: it never waits longer than that per step, and never raises for a process
        that will not die."""
        self.stopping = True
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(self.check_every_s * 5 + 5)
        with self._lock:
            order = list(reversed(list(self.procs.values())))
            workers = [p for p in order if p.spec.name.startswith("worker")]
            self._stop_together(workers)
            for p in order:
                if p not in workers:
                    self._stop_together([p])

    def hurry(self) -> None:
        """Make a running stop() SIGKILL what is left now instead of waiting (safe in a signal handler)."""
        self._hurry.set()

    def _stop_together(self, group: list[Supervised]) -> None:
        """SIGTERM to each of `group`, one shared deadline, then SIGKILL to the sessions of those left."""
        running = [p for p in group if p.proc is not None and p.proc.poll() is None]
        for p in running:
            assert p.proc is not None
            with contextlib.suppress(ProcessLookupError):
                p.proc.terminate()
        left = self._wait_gone(running, self.stop_timeout_s, hurry=True)
        for p in left:
            assert p.proc is not None
            self._say(f"{p.spec.name} (pid {p.pid}) still running {self.stop_timeout_s:.0f} s after SIGTERM; killed")
            _killpg(p.proc.pid)  # before it is reaped: the group id is still its own
        for p in self._wait_gone(left, 10.0, hurry=False):
            self._say(f"{p.spec.name} (pid {p.pid}) still there 10 s after SIGKILL; left behind")
        for p in group:
            if p.proc is not None:
                _killpg(p.proc.pid)  # its own session: what it left behind (API processes) goes too
            p.state = "stopped"

    def _wait_gone(self, procs: list[Supervised], timeout: float, *, hurry: bool) -> list[Supervised]:
        """Those of `procs` still running after `timeout` (sooner when `hurry` and hurry() was called)."""
        deadline = time.monotonic() + timeout
        left = [p for p in procs if p.running()]
        while left and time.monotonic() < deadline and not (hurry and self._hurry.is_set()):
            time.sleep(0.05)
            left = [p for p in left if p.running()]
        return left

    def __enter__(self) -> Topology:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # ---- the watch ----------------------------------------------------------------------------
    def check(self) -> None:
        """One round: restart what died (after its backoff) or stopped answering."""
        now = time.monotonic()
        with self._lock:
            for p in self.procs.values():
                if self._stop.is_set():
                    return
                if p.restart_at is not None:
                    if now >= p.restart_at:
                        p.restarts += 1
                        self._say(f"restarting {p.spec.name} (restart {p.restarts})")
                        self._spawn(p)
                    continue
                if not p.running():
                    code = p.proc.poll() if p.proc is not None else None
                    if p.proc is not None:  # what it started (the API's uvicorn processes hold its port)
                        _killpg(p.proc.pid)
                    self._schedule(p, f"{p.spec.name} exited with status {code}", now)
                    continue
                if p.live():
                    p.failures = 0
                    if p.state != "ready" and p.ready():
                        p.state = "ready"
                        self._say(f"{p.spec.name} ready (pid {p.pid})")
                    if now - p.started_at > self.stable_after_s:
                        p.backoff_s = self.backoff_first_s
                    continue
                if p.state == "starting" and now - p.started_at < p.spec.start_timeout_s:
                    continue  # still loading
                p.failures += 1
                p.state = "unhealthy"
                if p.failures >= self.unhealthy_after:
                    assert p.proc is not None
                    _killpg(p.proc.pid)  # its whole session: a killed API's uvicorn processes would keep its port
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        p.proc.wait(10)
                    self._schedule(p, f"{p.spec.name} stopped answering {p.spec.live_url}; killed", now)

    def _schedule(self, p: Supervised, problem: str, now: float) -> None:
        p.state, p.last_problem = "restarting", problem
        p.restart_at = now + p.backoff_s
        self._say(f"{problem}; restarting in {p.backoff_s:.0f} s")
        p.backoff_s = min(p.backoff_s * 2, self.backoff_max_s)

    def run(self) -> None:
        """Watch until stop() (or Ctrl+C, which the caller turns into stop())."""
        while not self._stop.wait(self.check_every_s):
            self.check()

    def start_watch(self) -> None:
        self._thread = threading.Thread(target=self.run, name="topology-watch", daemon=True)
        self._thread.start()

    def status(self) -> list[dict[str, Any]]:
        return [p.status() for p in self.procs.values()]


# ---- the one-machine topology --------------------------------------------------------------------
@dataclass(frozen=True)
class Ports:
    api: int = 8000
    chroma: int = 8002
    model: int = 8090
    metrics_first: int = 9101  # worker i (1-based) at metrics_first + i - 1


def _python_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "api", *args]


def chroma_command(path: Path, host: str, port: int) -> list[str]:
    """chromadb's own server (`chroma run`, installed with chromadb beside this interpreter)."""
    exe = Path(sys.executable).with_name("chroma")
    found = str(exe) if exe.exists() else shutil.which("chroma")
    if found is None:
        raise TopologyError("the `chroma` command is missing: `make setup` installs chromadb with it")
    return [found, "run", "--path", str(path), "--host", host, "--port", str(port)]


def one_machine(
    settings: Settings,
    *,
    workers: int,
    database_url: str | None = None,
    ports: Ports | None = None,
    host: str = "127.0.0.1",
    chroma_url: str | None = None,
    cores: int | None = None,
    ingest: bool = True,
    api_processes: int = 1,
    base_env: dict[str, str] | None = None,
    extra_env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> tuple[list[ProcessSpec], ThreadPlan]:
    """The processes of `triage up`: Chroma (unless `chroma_url` or TRIAGE_CHROMA_URL names a running one), the model
        server (llamacpp/... only), the API with its worker off, and `workers` workers, all on
        `database_url` (PostgreSQL: separate processes need a shared database), each with its share
        of the cores; `api_processes` uvicorn processes share the API's port (intake on more than one core).
        `base_env`: the environment to start from (default this process's); `cwd`: where
    they run (their `.env` and `triage.toml`; default this process's directory)."""
    ports = ports or Ports()
    url = database_url or settings.db_url
    if url.startswith("sqlite"):
        raise TopologyError(
            f"separate workers need a shared database, not {url.split('?')[0]}: pass --database-url "
            "postgresql+psycopg://user@127.0.0.1:5432/triage (or TRIAGE_DATABASE_URL)"
        )
    if workers < 1:
        raise TopologyError(f"--workers must be at least 1 (got {workers})")
    if api_processes < 1:
        raise TopologyError(f"--api-processes must be at least 1 (got {api_processes})")
    threads = plan(workers, cores)
    data = settings.data_dir.resolve()
    logs = data / "logs"
    env0 = {k: v for k, v in (base_env if base_env is not None else os.environ).items()}
    common = {**env0, **(extra_env or {}), "TRIAGE_DATABASE_URL": url, "TRIAGE_DATA_DIR": str(data),
              "PYTHONUNBUFFERED": "1", "ANONYMIZED_TELEMETRY": "False"}  # fmt: skip
    specs: list[ProcessSpec] = []

    chroma_url = chroma_url or settings.chroma_url
    if chroma_url is None:
        chroma_url = f"http://{host}:{ports.chroma}"
        specs.append(
            ProcessSpec(
                "chroma",
                chroma_command(data / "chroma-server", host, ports.chroma),
                {**common, **child_env(threads.chroma)},
                logs / "chroma.log",
                live_url=f"{chroma_url}/api/v2/heartbeat",
                start_timeout_s=60.0,
                cwd=cwd,
                listens=((host, ports.chroma),),
            )
        )
    common["TRIAGE_CHROMA_URL"] = chroma_url.rstrip("/")

    if settings.llm.startswith("llamacpp/"):
        model_url = settings.model_url or f"http://{host}:{ports.model}"
        specs.append(
            ProcessSpec(
                "model",
                _python_cmd("model", "serve", "--port", str(ports.model)),
                {**common, **child_env(threads.model), "TRIAGE_LLM_THREADS": str(threads.model)},
                logs / "model.log",
                ready_url=f"{model_url}/health",
                start_timeout_s=settings.model_start_timeout_s + 30,
                cwd=cwd,
                listens=((host, ports.model),),
            )
        )
        common["TRIAGE_MODEL_URL"] = model_url
    common["TRIAGE_MODEL_SERVE"] = "false"  # every process shares the one above (or none: llm none/openai)

    api_url = f"http://{host}:{ports.api}"
    api_args = ["--host", host, "--port", str(ports.api), "--processes", str(api_processes)]
    specs.append(
        ProcessSpec(
            "api",
            _python_cmd("serve", *api_args, *([] if ingest else ["--no-ingest"])),
            {**common, **child_env(max(1, threads.api // api_processes)), "TRIAGE_WORKER_ENABLED": "false"},
            logs / "api.log",
            live_url=f"{api_url}/healthz",
            ready_url=f"{api_url}/readyz",
            start_timeout_s=1800.0,  # the KB ingest runs first (minutes for a large KB on a busy machine)
            cwd=cwd,
            listens=((host, ports.api),),
        )
    )
    for i in range(1, workers + 1):
        port = ports.metrics_first + i - 1
        specs.append(
            ProcessSpec(
                f"worker-{i}",
                _python_cmd("worker"),
                {**common, **child_env(threads.worker), "TRIAGE_METRICS_PORT": str(port), "TRIAGE_METRICS_HOST": host},
                logs / f"worker-{i}.log",
                live_url=f"http://{host}:{port}/",
                start_timeout_s=300.0,
                cwd=cwd,
                listens=((host, port),),
            )
        )
    return specs, threads
