"""A small HTTP/1.1 load generator that does not steal the measurement: raw asyncio protocols on
keep-alive connections (no HTTP client library), requests built and signed before the clock starts.

    requests = signed_ticket_requests(secret, 5000)          # distinct tickets, each its own delivery id
    run = asyncio.run(load("127.0.0.1", port, requests, concurrency=16))
    summarise(run)   # {"accepted_per_s", "p50_ms", "p99_ms", "client_cpu_s", ...}

Each connection sends one request, reads its whole answer (status line, headers, Content-Length body),
then sends the next, so `concurrency` is the number of requests in flight. The figures are computed by
`summarise` (pure, unit-tested): accepted = 2xx answers that created a ticket (202), latency from the
first byte written to the last byte read, requests/s over the wall time of the whole run.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from evals.stats import percentile
from tools.signing import sign_standard


@dataclass
class LoadRun:
    """What one load run saw: per request its status and seconds, the wall time and the client's CPU."""

    statuses: list[int] = field(default_factory=list[int])
    latencies: list[float] = field(default_factory=list[float])
    wall_s: float = 0.0
    client_cpu_s: float = 0.0
    errors: int = 0  # connections lost or answers unreadable (never expected on loopback)
    concurrency: int = 0


def summarise(run: LoadRun) -> dict[str, Any]:
    """The figures of a run: requests, accepted (202) and their rate, other answers by status,
    p50/p90/p99/max latency in ms over every answered request, and the client's share of one core."""
    accepted = sum(1 for s in run.statuses if s == 202)
    others: dict[str, int] = {}
    for s in run.statuses:
        if s != 202:
            others[str(s)] = others.get(str(s), 0) + 1
    wall = run.wall_s if run.wall_s > 0 else float("nan")
    lat = run.latencies or [float("nan")]
    return {
        "requests": len(run.statuses) + run.errors,
        "concurrency": run.concurrency,
        "accepted": accepted,
        "other_status": others,
        "errors": run.errors,
        "seconds": round(run.wall_s, 2),
        "accepted_per_s": round(accepted / wall, 1),
        "answered_per_s": round(len(run.statuses) / wall, 1),
        "p50_ms": round(percentile(lat, 0.50) * 1000, 1),
        "p90_ms": round(percentile(lat, 0.90) * 1000, 1),
        "p99_ms": round(percentile(lat, 0.99) * 1000, 1),
        "max_ms": round(max(lat) * 1000, 1),
        "client_cpu_s": round(run.client_cpu_s, 2),
        "client_cores": round(run.client_cpu_s / wall, 2),
    }


def raw_request(host: str, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"host: {host}", f"content-length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def ticket_body(i: int, tag: str) -> bytes:
    """A realistic small ticket (~300 bytes), distinct per `i`."""
    return json.dumps(
        {
            "external_id": f"{tag}-{i}",
            "subject": "Payslip for October missing",
            "body": f"Hello, I cannot find my October payslip in the portal (request {i}). Could you resend it? "
            "I already checked the Documents tab and the spam folder. Thanks, Maria",
            "requester": f"maria.{i}@example.com",
            "customer": {"name": "Acme Ltd", "tier": "gold"},
            "language": "en",
        }
    ).encode()


def signed_ticket_requests(
    secret: str, n: int, *, host: str = "127.0.0.1", tag: str = "L", path: str = "/webhooks/generic"
) -> list[bytes]:
    """`n` distinct new-ticket deliveries to `/webhooks/generic`, signed now (Standard Webhooks), each
    with its own delivery id and external id: every one should be accepted (202)."""
    ts = int(time.time())
    out: list[bytes] = []
    for i in range(n):
        body = ticket_body(i, tag)
        msg_id = f"msg_{tag}_{i}"
        headers = {
            "content-type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(ts),
            "webhook-signature": sign_standard(secret, msg_id, ts, body),
        }
        out.append(raw_request(host, path, body, headers))
    return out


class _Connection(asyncio.Protocol):
    """One keep-alive connection: `send(request)` answers (status, seconds) once the whole answer is read."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[int] | None = None
        self.lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not an asyncio.Transport subclass

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0 or self.waiter is None:
            return
        head = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
        length = 0
        for line in head[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        if len(self.buffer) < end + 4 + length:
            return
        del self.buffer[: end + 4 + length]
        status = int(head[0].split(" ", 2)[1])
        waiter, self.waiter = self.waiter, None
        if not waiter.done():
            waiter.set_result(status)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("connection closed before the answer"))
        if not self.lost.done():
            self.lost.set_result(None)

    async def send(self, request: bytes) -> int:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return await self.waiter


async def load(
    host: str, port: int, requests: Sequence[bytes], *, concurrency: int, max_seconds: float = 60.0
) -> LoadRun:
    """Send `requests` (each once, in order) over `concurrency` connections; stops early after
    `max_seconds`. Returns what it saw (see `summarise`)."""
    loop = asyncio.get_running_loop()
    run = LoadRun(concurrency=concurrency)
    next_index = 0
    deadline = time.perf_counter() + max_seconds

    async def connection() -> None:
        nonlocal next_index
        conn: _Connection | None = None
        while next_index < len(requests) and time.perf_counter() < deadline:
            request = requests[next_index]
            next_index += 1
            if conn is None:
                _t, conn = await loop.create_connection(_Connection, host, port)
            t0 = time.perf_counter()
            try:
                status = await conn.send(request)
            except ConnectionError:
                run.errors += 1
                conn = None
                continue
            run.latencies.append(time.perf_counter() - t0)
            run.statuses.append(status)
        if conn is not None and conn.transport is not None:
            conn.transport.close()

    cpu0, t0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    run.wall_s = time.perf_counter() - t0
    run.client_cpu_s = time.process_time() - cpu0
    return run


def run_load(
    host: str, port: int, requests: Sequence[bytes], *, concurrency: int, max_seconds: float = 60.0
) -> LoadRun:
    """`load` on its own event loop (uvloop when installed: less client CPU per request)."""
    try:
        import uvloop

        return uvloop.run(load(host, port, requests, concurrency=concurrency, max_seconds=max_seconds))
    except ImportError:
        return asyncio.run(load(host, port, requests, concurrency=concurrency, max_seconds=max_seconds))
