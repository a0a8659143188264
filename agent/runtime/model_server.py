"""The bundled model in its own process: start it, check it, restart it, report its state.

`ModelSupervisor` runs `python -m agent.model_process` (llama-cpp-python's OpenAI-compatible server)
as a child, waits until it answers, proves it can decode (one tiny completion: a broken build such
as ggml's AMX backend on some Xeons crashes right there, at start, not on the first ticket), then
watches it from a thread:
- the process exited (crash, SIGSEGV, out-of-memory kill): restart with exponential backoff;
- `/health` stops answering, or one request has run longer than `hang_after_s` (a stuck decode):
  kill -9, restart.
Tickets in flight while it is down fall back (the agent's LLM calls fail with connection errors,
which the nodes catch); the API and the worker never share its fate. Every worker and CLI process
reaches it by URL through the OpenAI-compatible provider, so several workers share one copy of the
weights.

Errors: `ModelServerError` (a configuration or build problem found at start; its message says how to
fix it). Everything after a successful start is handled here and shows up in `status()`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from agent.errors import ConfigError
from agent.graph.llm import model_alias, resolve_gguf
from agent.settings import Settings

log = logging.getLogger("triage.model")

State = Literal["stopped", "starting", "ready", "restarting", "failed"]


class ModelServerError(ConfigError):
    """The model process cannot be started as configured; the message says how to fix it."""


@dataclass(frozen=True)
class ModelServerConfig:
    gguf: Path
    alias: str  # the model name clients send
    port: int
    host: str = "127.0.0.1"
    n_ctx: int = 4096
    n_threads: int = 2
    cache_bytes: int = 0
    log_file: Path | None = None  # the child's stderr (appended); None: discarded
    start_timeout_s: float = 300.0  # loading 1.1 GB from a cold disk on a slow machine
    check_every_s: float = 2.0
    health_timeout_s: float = 5.0
    unhealthy_after: int = 3  # consecutive failed health checks before a restart
    hang_after_s: float = 300.0  # one request running this long is a stuck decode, not a queue
    backoff_first_s: float = 1.0
    backoff_max_s: float = 60.0
    stable_after_s: float = 60.0  # ready this long: the next crash starts the backoff again

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


def _get_json(url: str, timeout: float, body: dict[str, Any] | None = None) -> dict[str, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"} if data else {})
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # loopback only
        out: Any = json.loads(resp.read())
    return out if isinstance(out, dict) else {}


def probe(url: str, timeout: float = 2.0) -> dict[str, Any] | None:
    """The `/health` of a model process at `url`, or None when nothing (of ours) answers there."""
    try:
        found = _get_json(f"{url.rstrip('/')}/health", timeout)
    except (OSError, ValueError):
        return None
    return found if found.get("status") == "ok" and "model" in found else None


def _exit_text(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with status {code}"


def _tail(path: Path | None, lines: int = 12) -> str:
    if path is None or not path.exists():
        return ""
    with path.open("rb") as f:
        f.seek(0, os.SEEK_END)
        f.seek(max(0, f.tell() - 8192))
        text = f.read().decode(errors="replace")
    return "\n".join(text.strip().splitlines()[-lines:])


def _build_hint() -> str:
    """Why a llama.cpp process might crash at its first decode: the build check, run as a script so
    this process never loads llama.cpp itself."""
    script = Path(__file__).resolve().parent / "llama_build.py"
    try:
        out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"(the build check could not run: {exc})"
    first = (out.stdout or out.stderr).strip().splitlines()[:2]
    if out.returncode != 0:
        return " ".join(first) + ". `make setup` rebuilds it portably."
    return "The llama.cpp build is portable (" + (first[0] if first else "?") + "); check the model file and the log."


@dataclass
class ModelSupervisor:
    config: ModelServerConfig
    state: State = "stopped"
    restarts: int = 0
    last_problem: str | None = None
    started_at: float | None = None
    _proc: subprocess.Popen[bytes] | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return self.config.url

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    # ---- start / stop ---------------------------------------------------------------------------
    def start(self) -> ModelSupervisor:
        """Start the process and wait until it has decoded once; ModelServerError if it cannot."""
        if probe(self.url) is not None:
            raise ModelServerError(
                f"a model server already answers at {self.url}; stop it, or point TRIAGE_MODEL_URL at it "
                "and set TRIAGE_MODEL_SERVE=false to share it"
            )
        self.state = "starting"
        try:
            self._spawn_and_wait(self_test=True)
        except ModelServerError:
            self.state = "failed"
            raise
        self._stop.clear()
        self._thread = threading.Thread(target=self._watch, name="model-supervisor", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._terminate(timeout)
        self.state = "stopped"

    def __enter__(self) -> ModelSupervisor:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def status(self) -> dict[str, Any]:
        """For readiness: state, pid, restarts, uptime, the last problem (never secrets)."""
        up = round(time.monotonic() - self.started_at, 1) if self.started_at and self.state == "ready" else None
        return {
            "state": self.state,
            "model": self.config.alias,
            "url": self.url,
            "pid": self.pid,
            "restarts": self.restarts,
            "uptime_s": up,
            "last_problem": self.last_problem,
        }

    # ---- the child ------------------------------------------------------------------------------
    def _command(self) -> list[str]:
        c = self.config
        return [
            sys.executable, "-m", "agent.runtime.model_process",
            "--model", str(c.gguf), "--alias", c.alias, "--host", c.host, "--port", str(c.port),
            "--n-ctx", str(c.n_ctx), "--n-threads", str(c.n_threads), "--cache-bytes", str(c.cache_bytes),
            "--parent-pid", str(os.getpid()),
        ]  # fmt: skip

    def _spawn_and_wait(self, *, self_test: bool) -> None:
        c = self.config
        if c.log_file is not None:
            c.log_file.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            stderr: Any = c.log_file.open("ab") if c.log_file is not None else subprocess.DEVNULL
            try:
                env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(_ROOT), os.environ.get("PYTHONPATH", "")])}
                self._proc = subprocess.Popen(
                    self._command(), stdin=subprocess.DEVNULL, stdout=stderr, stderr=stderr, env=env,
                    start_new_session=True,  # a Ctrl+C in the terminal reaches us, and we stop it
                )  # fmt: skip
            finally:
                if stderr is not subprocess.DEVNULL:
                    stderr.close()
        deadline = time.monotonic() + c.start_timeout_s
        while time.monotonic() < deadline:
            code = self._proc.poll()
            if code is not None:
                raise ModelServerError(
                    f"the model process {_exit_text(code)} while loading {c.gguf}"
                    + (f"; its log ({c.log_file}) ends:\n{_tail(c.log_file)}" if c.log_file else "")
                    + f"\n{_build_hint()}"
                )
            if probe(self.url, timeout=1.0) is not None:
                break
            time.sleep(0.2)
        else:
            self._terminate()
            raise ModelServerError(
                f"the model process did not answer at {self.url} within {c.start_timeout_s:.0f} s "
                f"(log: {c.log_file}); a slow disk? raise TRIAGE_MODEL_START_TIMEOUT_S"
            )
        if self_test:
            self._self_test()
        self.started_at = time.monotonic()
        self.state = "ready"
        log.info("model %s ready at %s (pid %s)", c.alias, self.url, self.pid)

    def _self_test(self) -> None:
        body = {"model": self.config.alias, "messages": [{"role": "user", "content": "Say OK."}], "max_tokens": 2}
        try:
            _get_json(f"{self.url}/v1/chat/completions", timeout=120.0, body=body)
        except (OSError, ValueError) as exc:
            time.sleep(0.5)
            code = self._proc.poll() if self._proc else None
            what = _exit_text(code) if code is not None else f"did not answer ({exc})"
            self._terminate()
            raise ModelServerError(
                f"the model process {what} on its first completion: llama.cpp cannot run here. "
                f"{_build_hint()}"
                + (
                    f"\nits log ({self.config.log_file}) ends:\n{_tail(self.config.log_file)}"
                    if self.config.log_file
                    else ""
                )
            ) from exc

    def _terminate(self, timeout: float = 10.0) -> None:
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)

    def _kill(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(10)

    # ---- the watch ------------------------------------------------------------------------------
    def _problem(self, failures: int) -> tuple[str | None, int]:
        """(why it must restart, or None; consecutive failed health checks)."""
        c = self.config
        assert self._proc is not None
        code = self._proc.poll()
        if code is not None:
            return f"the model process {_exit_text(code)}", 0
        try:
            health = _get_json(f"{self.url}/health", c.health_timeout_s)
        except (OSError, ValueError) as exc:
            failures += 1
            if failures >= c.unhealthy_after:
                return f"the model process stopped answering ({exc}); killed", 0
            return None, failures
        if float(health.get("stalled_s", 0)) > c.hang_after_s:
            return f"no completion finished for {c.hang_after_s:.0f} s with work waiting (stuck); killed", 0
        return None, 0

    def _watch(self) -> None:
        failures = 0
        backoff = self.config.backoff_first_s
        while not self._stop.wait(self.config.check_every_s):
            problem, failures = self._problem(failures)
            if problem is None:
                if self.started_at and time.monotonic() - self.started_at > self.config.stable_after_s:
                    backoff = self.config.backoff_first_s
                continue
            self.state = "restarting"
            self.last_problem = problem
            log.error("%s; restarting in %.0f s (restart %d)", problem, backoff, self.restarts + 1)
            self._kill()
            while not self._stop.wait(backoff):
                backoff = min(backoff * 2, self.config.backoff_max_s)
                self.restarts += 1
                try:
                    self._spawn_and_wait(self_test=False)
                    break
                except ModelServerError as exc:
                    self.last_problem = str(exc).splitlines()[0]
                    log.error("model restart failed: %s; next try in %.0f s", self.last_problem, backoff)


_ROOT = Path(__file__).resolve().parents[2]


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: TIME_WAIT is no obstacle
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def config_from_settings(settings: Settings, port: int | None = None) -> ModelServerConfig:
    """The model process for `settings.llm` (llamacpp/...); LLMConfigError for a bad model name or
    path, raised here at start rather than per ticket."""
    provider, _, name = settings.llm.partition("/")
    if provider != "llamacpp":
        raise ModelServerError(f"TRIAGE_LLM={settings.llm!r} is not served locally (only llamacpp/... is)")
    gguf = resolve_gguf(name, settings.model_cache_dir)
    return ModelServerConfig(
        gguf=gguf,
        alias=model_alias(name),
        port=port or settings.model_port,
        n_ctx=settings.llm_context,
        n_threads=settings.llm_threads,
        cache_bytes=settings.llm_prompt_cache_mb << 20,
        log_file=settings.data_dir / "logs" / "model-server.log",
        start_timeout_s=settings.model_start_timeout_s,
        hang_after_s=settings.model_hang_after_s,
    )


@contextlib.contextmanager
def local_model(settings: Settings, *, serve: bool | None = None) -> Iterator[tuple[Settings, ModelSupervisor | None]]:
    """The settings an agent should use, with the bundled model's process running for as long as the
    block runs. Not llamacpp/...: nothing to do. A model process of the same model already answers at
    `model_server_url` (another `triage serve`, or `triage model serve`): share it. Otherwise start one
    (`serve`, default `settings.model_serve`) on `model_port`, or on a free port when that one is
    taken; with serving off, say loudly that tickets will fall back until it is up."""
    if not settings.llm.startswith("llamacpp/"):
        yield settings, None
        return
    config = config_from_settings(settings)
    url = settings.model_server_url
    found = probe(url)
    if found is not None:
        if found.get("model") != config.alias:
            raise ModelServerError(
                f"the model process at {url} serves {found.get('model')!r}, not {config.alias!r}: "
                "set TRIAGE_MODEL_URL / TRIAGE_MODEL_PORT to another one"
            )
        log.info("sharing the model process at %s (%s)", url, config.alias)
        yield settings, None
        return
    if not (settings.model_serve if serve is None else serve):
        log.warning(
            "no model process answers at %s and TRIAGE_MODEL_SERVE is false: every LLM step falls back "
            "until one does (`triage model serve`)",
            url,
        )
        yield settings, None
        return
    if settings.model_url is None and not _port_free(config.host, config.port):
        config = dataclasses.replace(config, port=_free_port(config.host))
    with ModelSupervisor(config) as sup:
        yield settings.model_copy(update={"model_url": sup.url}), sup
