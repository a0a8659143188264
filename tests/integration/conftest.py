"""The real things: the embedder, the demo KB in Chroma, the service on loopback (in a thread or a child process)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from agent.settings import Settings
from api.app import create_app
from evals.bench_scale import pg_database
from evals.demo import signed_headers
from knowledge.embeddings import Embedder, get_embedder
from knowledge.store import KnowledgeStore
from tests.conftest import DEMO_KB, make_settings
from tests.netutil import app_in_thread

PG_BASE = os.environ.get("TRIAGE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

# The suite embeds the same demo KB and tickets many times (its own stores, every service it starts,
# the child processes): real vectors of the real model, computed once per test session and machine
# and read back after (knowledge/embedcache.py; the child processes inherit the variable). Keyed by
# the weights' hash, so another model never hits; the determinism tests of the embedder bypass it.
# TRIAGE_TEST_EMBEDDING_CACHE=0 runs without it.
if os.environ.get("TRIAGE_TEST_EMBEDDING_CACHE", "1") != "0":
    os.environ.setdefault(
        "TRIAGE_EMBEDDING_CACHE", str(Path(__file__).resolve().parents[2] / ".pytest_cache" / "embeddings.sqlite")
    )


@contextmanager
def fresh_pg_database(prefix: str) -> Iterator[str]:
    """A database of its own on the local PostgreSQL (its URL), dropped afterwards; skips the test
    when there is no PostgreSQL (the benchmark's `evals.bench_scale.pg_database`)."""
    with pg_database(PG_BASE, prefix) as url:
        if url is None:
            pytest.skip(f"no PostgreSQL at {PG_BASE}")
        yield url


pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """MiniLM: what the tests of the store, the classifier's encoder and topics pin (not the default)."""
    return get_embedder("bundled:all-MiniLM-L6-v2")


@pytest.fixture(scope="session")
def default_embedder() -> Embedder:
    """The service's default retrieval embedder (Settings.embedder: multilingual-e5-small), which the
    shipped policy thresholds and answerability model are tuned for: the demo KB is embedded with it."""
    return get_embedder(Settings.model_fields["embedder"].default, 1)


@pytest.fixture(scope="session")
def demo_data_dir(tmp_path_factory: pytest.TempPathFactory, default_embedder: Embedder) -> Path:
    """A data dir whose Chroma holds the demo KB (by the default embedder), ingested once per test session."""
    data = tmp_path_factory.mktemp("demo-data")
    store = KnowledgeStore(data / "chroma", default_embedder, "knowledge")
    report = store.ingest(DEMO_KB)
    assert not report.errors, report.errors
    return data


@pytest.fixture
def demo_settings(demo_data_dir: Path, tmp_path: Path) -> Settings:
    """Demo KB (shared, read-only) with a fresh database and checkpoint file per test."""
    return make_settings(
        demo_data_dir,
        database_url=f"sqlite:///{tmp_path / 'triage.db'}",
        checkpoint_db=tmp_path / "checkpoints.sqlite",
    )


@contextmanager
def serve_in_thread(settings: Settings) -> Iterator[str]:
    """The real app under uvicorn on a loopback port, in this process."""
    with app_in_thread(create_app(settings)) as url:
        yield url


class ServerProcess:
    """`triage serve` in a child process, so a test can kill -9 it."""

    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.env, self.port, self.log = env, port, log
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, **extra_env: str) -> None:
        env = {**self.env, **extra_env}
        with self.log.open("ab") as fh:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "api", "serve", "--no-ingest", "--port", str(self.port)],
                env=env,
                stdout=fh,
                stderr=subprocess.STDOUT,
                cwd=self.log.parent,
            )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server did not come up: {self.log.read_text()[-2000:]}")

    def kill9(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def post_ticket(
    client: httpx.Client, secret: str, payload: dict[str, Any], msg_id: str | None = None
) -> httpx.Response:
    body = json.dumps(payload).encode()
    return client.post("/webhooks/generic", content=body, headers=signed_headers(secret, body, msg_id))


def wait_finished(client: httpx.Client, ticket_id: str, api_key: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = client.get(f"/tickets/{ticket_id}", headers={"authorization": f"Bearer {api_key}"}).json()
        if got["status"] not in ("received", "processing"):
            return got
        time.sleep(0.1)
    raise AssertionError(f"ticket {ticket_id} not finished after {timeout}s")
