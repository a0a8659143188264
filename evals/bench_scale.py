"""`triage bench --scale`: the service as deployed at scale, measured on this machine (loopback only).

1. intake: a real `triage serve` (worker off, `--llm none`) in a child process, on SQLite and on a
   fresh PostgreSQL database; accepted req/s and p50/p99 at each concurrency, distinct signed
   new-ticket deliveries from `evals/loadgen.py` (raw asyncio, built before the clock starts), the
   server's and the load generator's CPU, and the database bytes per 1,000 stored tickets
2. workers: `triage up`'s processes (agent/runtime/topology.py: a Chroma server, the API with its worker
   off, N `triage worker` processes with the thread split of agent/runtime/threads.py) on a fresh
   PostgreSQL database, `--llm none`, no write-back; tickets/s for 1 and 3 workers over the same
   smoke-set tickets after a warm-up, RSS (and PSS: shared pages split) per worker
3. growth per 1,000 tickets processed by the workers: database bytes, LangGraph checkpoint bytes,
   audit rows (from the 3-worker run)

Every run is bounded (request counts and time limits); PostgreSQL unreachable is reported, not raised.
The figure arithmetic (`per_thousand`, `rate`, `loadgen.summarise`) is pure and unit-tested.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from agent.settings import REPO_ROOT, Settings
from evals.loadgen import raw_request, run_load, signed_ticket_requests, summarise
from tools.signing import sign_standard

SMOKE = REPO_ROOT / "evals" / "datasets" / "smoke.jsonl"
SECRET = "whsec_" + "YmVuY2gtc2VjcmV0LWJlbmNoLXNlY3JldA=="
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
CLK_TCK = os.sysconf("SC_CLK_TCK")


# ---- pure figures -------------------------------------------------------------------------------------


def per_thousand(before: float, after: float, items: int) -> float:
    """How much `after - before` is per 1,000 items (0 for no items)."""
    return round((after - before) * 1000 / items, 1) if items > 0 else 0.0


def rate(items: int, seconds: float) -> float:
    """Items per second, 2 decimals (0 for no time)."""
    return round(items / seconds, 2) if seconds > 0 else 0.0


def speedup(one: float, many: float) -> float:
    return round(many / one, 2) if one > 0 else 0.0


# ---- processes ------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def main_thread_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process's main thread (an API process's event loop; its other
    threads are the intake writer's and the thread pool's)."""
    fields = Path(f"/proc/{pid}/task/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def tree_cpu_seconds(pid: int, *, main_threads: bool = False) -> float:
    """`cpu_seconds` of a process and every live descendant (`triage serve --processes N`); with
    `main_threads`, of their main threads only (`main_thread_cpu_seconds`)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError):
                continue
    tree, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        kids = [child for child, ppid in parents.items() if ppid == parent and child not in tree]
        tree.update(kids)
        frontier.extend(kids)
    total = 0.0
    for p in tree:
        try:
            total += main_thread_cpu_seconds(p) if main_threads else cpu_seconds(p)
        except OSError:
            continue
    return total


def memory_mb(pid: int) -> dict[str, float]:
    """RSS, peak RSS and PSS (shared pages divided among the processes that map them) in MB."""
    out: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            out["rss_mb" if name == "VmRSS" else "peak_rss_mb"] = round(int(value.split()[0]) / 1024, 1)
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                out["pss_mb"] = round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return out


def base_env(data: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
    fixed = {"TRIAGE_DATA_DIR": str(data), "TRIAGE_WEBHOOK_SECRET": SECRET, "TRIAGE_API_KEY": "bench",
             "TRIAGE_LLM": "none", "TRIAGE_WRITEBACK_ENABLED": "false", "ANONYMIZED_TELEMETRY": "False"}  # fmt: skip
    return {**env, **fixed, **extra}


def wait_http(url: str, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the process for {url} exited with status {proc.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


@contextmanager
def pg_database(admin_url: str, prefix: str) -> Iterator[str | None]:
    """A fresh database on the PostgreSQL at `admin_url` (its URL), dropped afterwards; None when
    there is no PostgreSQL there."""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect():
            pass
    except OperationalError:
        admin.dispose()
        yield None
        return
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def analyze(url: str) -> None:
    """Table statistics, as autovacuum would gather them on a default PostgreSQL (some servers, this
    machine's included, run with autovacuum off: the planner then guesses from empty tables)."""
    if url.startswith("postgresql"):
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as c:
                c.execute(text("ANALYZE"))
        finally:
            engine.dispose()


# ---- 1. intake -------------------------------------------------------------------------------------------


@dataclass
class IntakeFigures:
    backend: str
    runs: list[dict[str, Any]]
    db_bytes_per_1000: float | None = None
    processes: int = 1


def _db_bytes(url: str) -> int:
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())
    engine = create_engine(url)
    try:
        with engine.connect() as c:
            return int(c.execute(text("select pg_database_size(current_database())")).scalar_one())
    finally:
        engine.dispose()


def bench_intake_on(
    db_url: str, backend: str, *, requests: int, concurrencies: tuple[int, ...], max_seconds: float, processes: int = 1
) -> IntakeFigures:
    """A `triage serve` (`processes` of them sharing the port) with its worker off on `db_url`; a warm-up,
    then `requests` distinct deliveries at each concurrency."""
    tmp = Path(tempfile.mkdtemp(prefix="triage-bench-intake-"))
    port = free_port()
    env = base_env(tmp, TRIAGE_WORKER_ENABLED="false", TRIAGE_DATABASE_URL=db_url)
    log = (tmp / "serve.log").open("wb")
    argv = [sys.executable, "-m", "api", "serve", "--no-ingest", "--host", "127.0.0.1", "--port", str(port)]
    argv += ["--processes", str(processes)] if processes > 1 else []
    proc = subprocess.Popen(argv, env=env, cwd=tmp, stdout=log, stderr=subprocess.STDOUT)
    runs: list[dict[str, Any]] = []
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", 120, proc)
        run_load("127.0.0.1", port, signed_ticket_requests(SECRET, 300 * processes, tag="warm"), concurrency=8)
        analyze(db_url)
        bytes0 = _db_bytes(db_url)
        accepted = 0
        for c in concurrencies:
            batch = signed_ticket_requests(SECRET, requests, tag=f"c{c}-{uuid.uuid4().hex[:6]}")
            cpu0, loop0 = tree_cpu_seconds(proc.pid), tree_cpu_seconds(proc.pid, main_threads=True)
            figures = summarise(run_load("127.0.0.1", port, batch, concurrency=c, max_seconds=max_seconds))
            server_cpu = tree_cpu_seconds(proc.pid) - cpu0
            loop_cpu = tree_cpu_seconds(proc.pid, main_threads=True) - loop0
            figures["server_cpu_s"] = round(server_cpu, 2)
            figures["server_cores"] = round(server_cpu / figures["seconds"], 2) if figures["seconds"] else 0.0
            # what holds under load (other jobs on the cores change req/s, not this): the API processes' CPU,
            # and the part of it their event loops spent (the rest: the intake writer's thread)
            answered = int(figures["requests"]) - int(figures["errors"])
            figures["server_cpu_ms_per_request"] = round(1000 * server_cpu / answered, 3) if answered else 0.0
            figures["server_loop_cpu_ms_per_request"] = round(1000 * loop_cpu / answered, 3) if answered else 0.0
            accepted += int(figures["accepted"])
            runs.append(figures)
        size = _db_bytes(db_url) if not db_url.startswith("sqlite") else None
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()
    if size is None:  # SQLite: measured after the server closed (the WAL checkpointed into the file)
        size = _db_bytes(db_url)
    out = IntakeFigures(backend, runs, per_thousand(bytes0, size, accepted), processes)
    shutil.rmtree(tmp, ignore_errors=True)
    return out


def bench_intake_scale(
    pg_admin: str, *, requests: int, concurrencies: tuple[int, ...], max_seconds: float, pg_processes: int = 2
) -> list[IntakeFigures | str]:
    """SQLite (one process: one writer), then PostgreSQL with one API process and with `pg_processes`."""
    out: list[IntakeFigures | str] = []
    kw: dict[str, Any] = {"requests": requests, "concurrencies": concurrencies, "max_seconds": max_seconds}
    with tempfile.TemporaryDirectory(prefix="triage-bench-sqlite-") as d:
        out.append(bench_intake_on(f"sqlite:///{Path(d) / 'triage.db'}", "sqlite", **kw))
    for n in sorted({1, pg_processes}):
        with pg_database(pg_admin, "triage_bench_intake") as url:
            if url is None:
                out.append(f"postgresql: not measured (no PostgreSQL at {pg_admin.split('@')[-1]})")
                break
            out.append(bench_intake_on(url, "postgresql", processes=n, **kw))
    return out


# ---- 2. workers ------------------------------------------------------------------------------------------


def smoke_payloads(n: int, tag: str) -> list[bytes]:
    rows = [json.loads(line) for line in SMOKE.read_text(encoding="utf-8").splitlines() if line.strip()]
    keep = ("subject", "body", "requester", "customer", "language", "product")
    out: list[bytes] = []
    for i in range(n):
        row = rows[i % len(rows)]
        payload: dict[str, Any] = {k: row[k] for k in keep if k in row}
        payload["external_id"] = f"{tag}-{i}-{row['id']}"
        out.append(json.dumps(payload, ensure_ascii=False).encode())
    return out


def signed(bodies: list[bytes], tag: str) -> list[bytes]:
    ts = int(time.time())
    out: list[bytes] = []
    for i, body in enumerate(bodies):
        msg_id = f"msg_{tag}_{i}"
        headers = {"content-type": "application/json", "webhook-id": msg_id, "webhook-timestamp": str(ts),
                   "webhook-signature": sign_standard(SECRET, msg_id, ts, body)}  # fmt: skip
        out.append(raw_request("127.0.0.1", "/webhooks/generic", body, headers))
    return out


def _scalar(url: str, sql: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as c:
            return int(c.execute(text(sql)).scalar_one() or 0)
    finally:
        engine.dispose()


FINISHED = "select count(*) from tickets where status not in ('received', 'processing')"
CHECKPOINT_BYTES = (
    "select coalesce(sum(pg_total_relation_size(c.oid)), 0) from pg_class c "
    "join pg_namespace n on n.oid = c.relnamespace "
    "where c.relkind = 'r' and n.nspname = current_schema() and c.relname like 'checkpoint%'"
)


def _wait_finished(url: str, total: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _scalar(url, FINISHED) >= total:
            return True
        time.sleep(0.25)
    return False


def bench_workers_on(
    db_url: str, data: Path, workers: int, *, tickets: int, warmup: int, timeout: float
) -> dict[str, Any]:
    """`triage up`'s processes with `workers` workers on `db_url`; tickets/s over `tickets` after
    `warmup` tickets, RSS per worker, growth of the database over the measured tickets."""
    from agent.runtime.topology import Ports, Topology, one_machine

    settings = Settings(_env_file=None, data_dir=data, llm="none")  # type: ignore[call-arg]
    ports = Ports(api=free_port(), chroma=free_port(), model=free_port(), metrics_first=free_port())
    env = base_env(data)
    specs, plan = one_machine(settings, workers=workers, database_url=db_url, ports=ports, base_env=env, cwd=data)
    with Topology(specs, on_event=lambda _msg: None) as top:
        port = ports.api
        run_load("127.0.0.1", port, signed(smoke_payloads(warmup, "warm"), "warm"), concurrency=4)
        if not _wait_finished(db_url, warmup, timeout):
            return {"workers": workers, "error": f"the {warmup} warm-up tickets did not finish within {timeout:.0f} s"}
        db0, ck0 = _scalar(db_url, "select pg_database_size(current_database())"), _scalar(db_url, CHECKPOINT_BYTES)
        audit0 = _scalar(db_url, "select count(*) from audit")
        tag = f"m{uuid.uuid4().hex[:6]}"
        t0 = time.perf_counter()
        sent = summarise(run_load("127.0.0.1", port, signed(smoke_payloads(tickets, tag), tag), concurrency=8))
        done = _wait_finished(db_url, warmup + tickets, timeout)
        seconds = time.perf_counter() - t0
        finished = _scalar(db_url, FINISHED) - warmup
        mem = {name: memory_mb(p.pid) for name, p in top.procs.items() if name.startswith("worker") and p.pid}
        growth = {
            "db_bytes_per_1000": per_thousand(
                db0, _scalar(db_url, "select pg_database_size(current_database())"), finished
            ),
            "checkpoint_bytes_per_1000": per_thousand(ck0, _scalar(db_url, CHECKPOINT_BYTES), finished),
            "audit_rows_per_1000": per_thousand(audit0, _scalar(db_url, "select count(*) from audit"), finished),
        }
        statuses = {
            str(k): int(v)
            for k, v in _rows(db_url, "select status, count(*) from tickets group by status order by status")
        }
    return {
        "workers": workers,
        "threads_per_worker": plan.worker,
        "tickets": tickets,
        "finished": finished,
        "complete": done,
        "seconds": round(seconds, 1),
        "tickets_per_s": rate(finished, seconds),
        "accepted": sent["accepted"],
        "memory": mem,
        "growth": growth,
        "statuses": statuses,
    }


def _rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    engine = create_engine(url)
    try:
        with engine.connect() as c:
            return [tuple(r) for r in c.execute(text(sql))]
    finally:
        engine.dispose()


def bench_workers_scale(
    pg_admin: str, *, counts: tuple[int, ...], tickets: int, warmup: int, timeout: float
) -> list[dict[str, Any]] | str:
    data = Path(tempfile.mkdtemp(prefix="triage-bench-workers-"))  # one KB (Chroma server dir) for every run
    out: list[dict[str, Any]] = []
    try:
        for n in counts:
            with pg_database(pg_admin, "triage_bench_workers") as url:
                if url is None:
                    return f"not measured (no PostgreSQL at {pg_admin.split('@')[-1]})"
                out.append(bench_workers_on(url, data, n, tickets=tickets, warmup=warmup, timeout=timeout))
    finally:
        shutil.rmtree(data, ignore_errors=True)
    return out


# ---- printing ----------------------------------------------------------------------------------------------


def run_scale(
    *,
    pg_admin: str = PG_ADMIN,
    requests: int = 4000,
    concurrencies: tuple[int, ...] = (16, 64),
    worker_counts: tuple[int, ...] = (1, 3),
    tickets: int = 60,
    warmup: int = 6,
    max_seconds: float = 30.0,
    worker_timeout: float = 240.0,
) -> None:
    print(f"[scale] machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; loopback only")
    for r in bench_intake_scale(pg_admin, requests=requests, concurrencies=concurrencies, max_seconds=max_seconds):
        if isinstance(r, str):
            print(f"[scale 1] intake {r}")
            continue
        where = f"{r.backend} ({r.processes} API process{'es' if r.processes > 1 else ''})"
        for f in r.runs:
            print(
                f"[scale 1] intake {where} c{f['concurrency']}: {f['accepted_per_s']} accepted req/s, "
                f"p50 {f['p50_ms']} ms, p99 {f['p99_ms']} ms, max {f['max_ms']} ms ({f['accepted']}/{f['requests']} "
                f"accepted{', other ' + str(f['other_status']) if f['other_status'] else ''} in {f['seconds']} s; "
                f"server {f['server_cores']} cores, {f['server_cpu_ms_per_request']} ms CPU a request "
                f"({f['server_loop_cpu_ms_per_request']} of it in the event loop); "
                f"load generator {f['client_cores']} cores)"
            )
        print(f"[scale 1] intake {where}: {r.db_bytes_per_1000:.0f} database bytes per 1,000 tickets stored")
    results = bench_workers_scale(
        pg_admin, counts=worker_counts, tickets=tickets, warmup=warmup, timeout=worker_timeout
    )
    if isinstance(results, str):
        print(f"[scale 2] workers: {results}")
        return
    for r in results:
        if "error" in r:
            print(f"[scale 2] {r['workers']} worker(s): {r['error']}")
            continue
        mem = "; ".join(
            f"{name} RSS {m.get('rss_mb')} MB (peak {m.get('peak_rss_mb')}, PSS {m.get('pss_mb')})"
            for name, m in sorted(r["memory"].items())
        )
        print(
            f"[scale 2] {r['workers']} worker(s) x {r['threads_per_worker']} thread(s), PostgreSQL, llm none: "
            f"{r['tickets_per_s']} tickets/s ({r['finished']}/{r['tickets']} finished in {r['seconds']} s"
            f"{'' if r['complete'] else ', NOT all finished'}; {r['statuses']}); {mem}"
        )
    ok = [r for r in results if "error" not in r]
    if len(ok) >= 2:
        print(
            f"[scale 2] {ok[-1]['workers']} workers vs {ok[0]['workers']}: "
            f"{speedup(ok[0]['tickets_per_s'], ok[-1]['tickets_per_s'])}x"
        )
    if ok:
        g = ok[-1]["growth"]
        print(
            f"[scale 3] growth per 1,000 tickets processed ({ok[-1]['workers']} workers, PostgreSQL): "
            f"{g['db_bytes_per_1000'] / 1e6:.1f} MB database, {g['checkpoint_bytes_per_1000'] / 1e6:.1f} MB of it "
            f"checkpoints, {g['audit_rows_per_1000']:.0f} audit rows"
        )
