"""`triage bench`: figures measured on this machine, printed (never asserted in tests).

1. triage throughput with the `none` provider (graph: redact, retrieve, classify, decide, draft)
2. seconds per ticket p50/p95 through the graph with the default local LLM, over the demo tickets
3. webhook intake: accepted requests/s and latency percentiles under a bounded loopback load
4. trained-classifier throughput in batch (tickets/s), on the service's artefact if there is one,
   else on a classifier trained for the bench on the shipped history
5. embedder throughput, both bundled embedders whatever TRIAGE_EMBEDDER says: short sentences (the
   demo tickets' subjects) and whole demo tickets by language, embedded as queries in one batch,
   best and median of several repeats (on a shared machine the best is nearer the engine's speed)
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from agent.runtime.assembly import Agent, open_knowledge
from agent.settings import REPO_ROOT, Settings
from evals.demo import signed_headers
from evals.labelled import load_jsonl
from evals.stats import percentile
from knowledge.embeddings import E5_SMALL, MINILM, E5Embedder, EmbedderNotFoundError, make_embedder, throughput

SMOKE = REPO_ROOT / "evals" / "datasets" / "smoke.jsonl"


def bench_throughput(settings: Settings, n: int) -> dict[str, Any]:
    examples = load_jsonl(SMOKE)
    agent = Agent.from_settings(settings, durable=False, llm="none")
    agent.run(examples[0].ticket)  # warm the embedder
    t0 = time.perf_counter()
    for i in range(n):
        agent.run(examples[i % len(examples)].ticket)
    dt = time.perf_counter() - t0
    return {"tickets": n, "seconds": round(dt, 2), "tickets_per_s": round(n / dt, 1)}


GEN_PROMPT = (
    "Write a short paragraph (about 100 words) explaining how to reset a forgotten password in a payroll web app."
)


def bench_llm_latency(settings: Settings, n: int) -> dict[str, Any]:
    """Generation speed and seconds per ticket through the configured LLM; for llamacpp/... that is the
    model process (started here unless one already answers at TRIAGE_MODEL_URL)."""
    from langchain_core.messages import HumanMessage

    from agent.graph.llm import make_chat_model
    from agent.runtime.model_server import local_model

    examples = load_jsonl(SMOKE)[:n]
    with local_model(settings) as (s, sup):
        model = make_chat_model(s.llm, s)
        if model is None:
            return {"llm": s.llm, "tickets": 0}
        t_load = time.perf_counter()
        model.invoke([HumanMessage(GEN_PROMPT)], max_tokens=8)  # first call: loads / warms the model
        load_s = time.perf_counter() - t_load
        rates: list[float] = []
        for _ in range(3):
            t0 = time.perf_counter()
            out = model.invoke([HumanMessage(GEN_PROMPT)], max_tokens=128)
            dt = time.perf_counter() - t0
            usage: Any = getattr(out, "usage_metadata", None) or {}
            rates.append(float(usage.get("output_tokens", 0)) / dt)
        agent = Agent.from_settings(s, durable=False)
        agent.run(examples[0].ticket)  # warm the embedder and classifier; not counted
        times: list[float] = []
        actions: dict[str, list[float]] = {}
        for ex in examples:
            t0 = time.perf_counter()
            state = agent.run(ex.ticket)
            dt = time.perf_counter() - t0
            times.append(dt)
            actions.setdefault(state["decision"].action, []).append(dt)
        where = f"model process {sup.url} (pid {sup.pid})" if sup else f"shared server {s.model_server_url}"
    return {
        "llm": settings.llm,
        "where": where if settings.llm.startswith("llamacpp/") else settings.llm_base_url or "",
        "tokens_per_s": round(percentile(rates, 0.5), 1),
        "tickets": len(times),
        "first_call_s": round(load_s, 1),
        "p50_s": round(percentile(times, 0.5), 2),
        "p95_s": round(percentile(times, 0.95), 2),
        "by_action_p50_s": {a: round(percentile(v, 0.5), 2) for a, v in actions.items()},
    }


async def _load(url: str, secret: str, n: int, concurrency: int) -> tuple[list[float], int]:
    latencies: list[float] = []
    rejected = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(n):
        queue.put_nowait(i)

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal rejected
        while True:
            try:
                i = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            body = json.dumps(
                {"external_id": f"B-{i}", "subject": "Payslip missing", "body": f"Please resend payslip {i}"}
            ).encode()
            t0 = time.perf_counter()
            r = await client.post("/webhooks/generic", content=body, headers=signed_headers(secret, body))
            latencies.append(time.perf_counter() - t0)
            if r.status_code != 202:
                rejected += 1

    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    return latencies, rejected


def bench_intake(settings: Settings, n: int, concurrency: int) -> dict[str, Any]:
    """A real server in a child process (worker off: this measures intake alone), loopback only."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    secret = "whsec_" + "YmVuY2gtc2VjcmV0LWJlbmNoLXNlY3JldA=="
    tmp = Path(tempfile.mkdtemp(prefix="triage-bench-"))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")},
        "TRIAGE_DATA_DIR": str(tmp),
        "TRIAGE_WEBHOOK_SECRET": secret,
        "TRIAGE_API_KEY": "bench",
        "TRIAGE_WORKER_ENABLED": "false",
        "TRIAGE_LLM": "none",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "api", "serve", "--no-ingest", "--port", str(port)],
        env=env,
        cwd=tmp,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("bench server did not start")
            time.sleep(0.2)
        t0 = time.perf_counter()
        latencies, rejected = asyncio.run(_load(url, secret, n, concurrency))
        dt = time.perf_counter() - t0
    finally:
        proc.terminate()
        proc.wait(20)
        shutil.rmtree(tmp, ignore_errors=True)
    accepted = len(latencies) - rejected
    return {
        "requests": n,
        "concurrency": concurrency,
        "accepted": accepted,
        "accepted_per_s": round(accepted / dt, 1),
        "p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
    }


def bench_classifier(settings: Settings, n: int) -> dict[str, Any]:
    from agent.graph.classifier.data import read_labelled
    from agent.graph.classifier.model import MANIFEST, TrainParams, TriageClassifier, train

    history = settings.history_path or REPO_ROOT / "evals" / "datasets" / "history.jsonl"
    data = read_labelled(history, ["subject+body"], ["category", "priority", "sentiment"])
    with tempfile.TemporaryDirectory(prefix="triage-bench-") as tmp:
        if (settings.classifier_path / MANIFEST).exists():
            clf, source = TriageClassifier.load(settings.classifier_path), str(settings.classifier_path)
        else:
            clf = train(data, settings.classifier_encoder, Path(tmp) / "m", TrainParams(fine_tune_epochs=0))
            source = "trained for the bench (frozen encoder)"
        texts = [data.texts[i % len(data.texts)] for i in range(n)]
        subjects = [t.split("\n\n")[0] for t in texts]
        clf.predict(texts[:64])  # warm-up
        t0 = time.perf_counter()
        clf.predict(texts)
        dt = time.perf_counter() - t0
        t0 = time.perf_counter()
        clf.predict(subjects)
        dt_short = time.perf_counter() - t0
    return {
        "tickets": n,
        "seconds": round(dt, 2),
        "tickets_per_s": round(n / dt, 1),
        "subject_only_per_s": round(n / dt_short, 1),
        "fields": list(clf.fields),
        "model": source,
        "mean_chars": round(sum(len(t) for t in texts) / n),
        "mean_subject_chars": round(sum(len(t) for t in subjects) / n),
    }


def embedder_texts() -> dict[str, list[str]]:
    """What `bench_embedders` embeds: the smoke tickets' subjects (short sentences, repeated to 256)
    and the whole tickets (subject + body, as the retrieve node searches them) per language."""
    rows = [json.loads(line) for line in SMOKE.read_text(encoding="utf-8").splitlines() if line.strip()]
    subjects = [str(r["subject"]) for r in rows]
    out = {"short sentences": [subjects[i % len(subjects)] for i in range(256)]}
    for lang in sorted({str(r["language"]) for r in rows}):
        out[f"{lang} tickets"] = [f"{r['subject']}\n\n{r['body']}".strip() for r in rows if r["language"] == lang]
    return out


def bench_embedders(
    specs: tuple[str, ...] = (MINILM, E5_SMALL), threads: int | None = None, repeats: int = 5
) -> list[dict[str, Any]]:
    """Texts per second of each embedder on `embedder_texts()` (see `knowledge.embeddings.throughput`);
    an embedder that cannot load here is reported, not raised."""
    texts = embedder_texts()
    out: list[dict[str, Any]] = []
    for spec in specs:
        try:
            embedder = make_embedder(spec, threads)
            rates = {name: throughput(embedder, items, "query", repeats).as_dict() for name, items in texts.items()}
        except EmbedderNotFoundError as exc:
            out.append({"spec": spec, "error": str(exc)})
            continue
        engine = embedder.engine_path().name if isinstance(embedder, E5Embedder) else ""
        out.append({"spec": spec, "threads": embedder.threads, "engine": engine, "rates": rates})
    return out


def run_bench(settings: Settings, *, tickets: int, llm_tickets: int, requests: int, concurrency: int) -> None:
    store = open_knowledge(settings)
    if store.count() == 0:
        store.ingest(settings.kb_path)
    print(f"machine: {os.cpu_count()} cores; run id {uuid.uuid4().hex[:8]}")
    r = bench_throughput(settings, tickets)
    print(
        f"[1] triage throughput, llm=none: {r['tickets_per_s']} tickets/s ({r['tickets']} tickets in {r['seconds']} s)"
    )
    if llm_tickets > 0:
        r = bench_llm_latency(settings, llm_tickets)
        if r["tickets"]:
            print(
                f"[2] llm={r['llm']} ({r['where']}): {r['tokens_per_s']} generated tokens/s (128-token replies, "
                f"prompt included); graph seconds per ticket p50 {r['p50_s']} s, p95 {r['p95_s']} s over "
                f"{r['tickets']} demo tickets (by action p50: {r['by_action_p50_s']}; first call {r['first_call_s']} s)"
            )
    r = bench_intake(settings, requests, concurrency)
    print(
        f"[3] webhook intake: {r['accepted_per_s']} accepted req/s, p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms "
        f"({r['accepted']}/{r['requests']} accepted, concurrency {r['concurrency']}, loopback, worker off)"
    )
    r = bench_classifier(settings, 2000)
    print(
        f"[4] classifier, batch: {r['tickets_per_s']} tickets/s on whole tickets ({r['mean_chars']} chars on "
        f"average, 41% Ukrainian), {r['subject_only_per_s']} tickets/s on subjects alone ({r['mean_subject_chars']} "
        f"chars); {r['tickets']} tickets, fields {', '.join(r['fields'])}; {r['model']}"
    )
    for e in bench_embedders(threads=settings.embedder_threads):
        if "error" in e:
            print(f"[5] embedder {e['spec']}: not measured ({e['error']})")
            continue
        figures = "; ".join(
            f"{name} {r['best_per_s']}/s best, {r['median_per_s']}/s median ({r['texts']} x{r['repeats']}, "
            f"{r['mean_chars']:.0f} chars)"
            for name, r in e["rates"].items()
        )
        engine = f", engine {e['engine']}" if e["engine"] else ""
        print(f"[5] embedder {e['spec']} ({e['threads']} threads{engine}): {figures}")
