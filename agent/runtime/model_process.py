"""The model process: llama-cpp-python's own OpenAI-compatible server, plus a lock-free `/health`.

Started by `agent.runtime.model_server.ModelSupervisor` as `python -m agent.runtime.model_process --model PATH ...`;
it never runs inside the API or a worker, so a crash, hang or out-of-memory of llama.cpp takes only
this process down. llama_cpp.server serialises completions behind a lock (llama.cpp is not
re-entrant) and its `/v1/models` waits on that lock, so it cannot tell "busy" from "hung". `/health`
answers from the event loop without the lock: the model alias, the requests in flight, how long the
oldest has waited, and how long work has waited with nothing finishing (`stalled_s`), which is how
the supervisor tells a long queue (several workers sharing it) from a stuck decode.
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]]


class InFlight:
    """ASGI middleware recording when each /v1/ request started (the supervisor reads it at /health)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.started: dict[int, float] = {}
        self.last_done = time.monotonic()
        self._next = 0

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        self._next += 1
        key = self._next
        self.started[key] = time.monotonic()
        try:
            await self.app(scope, receive, send)
        finally:
            self.started.pop(key, None)
            self.last_done = time.monotonic()

    def oldest_s(self) -> float:
        return round(time.monotonic() - min(self.started.values()), 1) if self.started else 0.0

    def stalled_s(self) -> float:
        """How long work has been waiting with no request finishing: a queue behind a long reply keeps
        moving (each finished request resets it); a stuck decode does not."""
        if not self.started:
            return 0.0
        return round(time.monotonic() - max(self.last_done, min(self.started.values())), 1)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m agent.runtime.model_process")
    p.add_argument("--model", required=True, help="path of the .gguf file")
    p.add_argument("--alias", required=True, help="the model name clients send")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--n-ctx", type=int, default=4096)
    p.add_argument("--n-threads", type=int, default=2)
    p.add_argument("--cache-bytes", type=int, default=0, help=">0: reuse shared prompt prefixes (RAM)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--parent-pid", type=int, default=0, help="exit when this process is gone (0: never)")
    return p.parse_args(argv)


def watch_parent(pid: int, every_s: float = 1.0) -> None:
    """Exit when the supervising process is gone (killed -9 included), so no model outlives its owner."""

    def loop() -> None:
        while True:
            time.sleep(every_s)
            if os.getppid() != pid:
                os._exit(0)

    threading.Thread(target=loop, name="parent-watch", daemon=True).start()


def count_whole_prompt_states() -> None:
    """Make llama-cpp-python's RAM prompt cache count what it holds. Its `cache_size` sums only each
    saved prompt's llama.cpp state, not the copy of the logits buffer every `LlamaState` carries
    (n_batch x n_vocab float32: ~311 MB with Qwen's 151,936-token vocabulary), so the 1 GB budget
    (TRIAGE_LLM_PROMPT_CACHE_MB) let the process grow to 8.8 GB RSS over 12 smoke tickets here.
    Counted whole, the budget is what it says (fewer prompts kept)."""
    from llama_cpp.llama_cache import LlamaRAMCache

    def cache_size(self: LlamaRAMCache) -> int:
        return sum(
            int(s.llama_state_size) + int(s.scores.nbytes) + int(s.input_ids.nbytes) for s in self.cache_state.values()
        )

    LlamaRAMCache.cache_size = property(cache_size)  # type: ignore[assignment,method-assign]


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    count_whole_prompt_states()
    if args.parent_pid:
        watch_parent(args.parent_pid)
    import uvicorn
    from llama_cpp.server.app import create_app
    from llama_cpp.server.settings import ModelSettings, ServerSettings
    from starlette.requests import Request
    from starlette.responses import JSONResponse

    model = ModelSettings(
        model=args.model,
        model_alias=args.alias,
        n_ctx=args.n_ctx,
        n_threads=args.n_threads,
        n_threads_batch=args.n_threads,
        seed=args.seed,
        cache=args.cache_bytes > 0,
        cache_type="ram",
        cache_size=max(args.cache_bytes, 1),
        logits_all=False,  # the server's default (True) computes every prompt token's logits: ~10% slower
        verbose=False,
    )
    server = ServerSettings(host=args.host, port=args.port)
    app = create_app(server_settings=server, model_settings=[model])  # loads the model: fails fast
    inflight = InFlight(app)  # type: ignore[arg-type]

    async def health(_request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "status": "ok",
                "model": args.alias,
                "in_flight": len(inflight.started),
                "oldest_s": inflight.oldest_s(),
                "stalled_s": inflight.stalled_s(),
            }
        )

    app.add_route("/health", health, methods=["GET"])
    uvicorn.run(inflight, host=args.host, port=args.port, log_level="warning", access_log=False)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
