"""`GET /metrics` over real HTTP: the real app with its in-process worker, the demo KB in real Chroma,
real SQLite. Counters are this process's, so every check is on the change a request made."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from agent.settings import Settings
from agent.storage import open_database
from evals.demo import signed_headers
from tests.conftest import clean_env
from tests.integration.conftest import post_ticket, serve_in_thread, wait_finished

pytestmark = pytest.mark.integration
KEY = "test-api-key"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(client: httpx.Client) -> Samples:
    r = client.get("/metrics", headers={"authorization": f"Bearer {KEY}"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    out: Samples = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def total(samples: Samples, name: str) -> float:
    return sum(v for (n, _), v in samples.items() if n == name)


@pytest.fixture
def service(demo_settings: Settings) -> Iterator[httpx.Client]:
    with serve_in_thread(demo_settings) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield client


def test_metrics_need_a_key(service: httpx.Client) -> None:
    assert service.get("/metrics").status_code == 401
    assert service.get("/metrics", headers={"authorization": "Bearer nope"}).status_code == 401


def test_intake_nodes_tickets_and_decisions_are_counted(service: httpx.Client) -> None:
    before = scrape(service)
    ids: list[str] = []
    for i, (subject, body) in enumerate(
        [("Reset password", "I forgot my password and cannot log in."), ("Poem", "Write me a poem about the sea.")]
    ):
        r = post_ticket(service, SECRET, {"external_id": f"M-{i}", "subject": subject, "body": body}, msg_id=f"msg-{i}")
        assert r.status_code == 202, r.text
        ids.append(r.json()["ticket_id"])
    again = post_ticket(service, SECRET, {"external_id": "M-0", "subject": "x", "body": "y"}, msg_id="msg-0")
    assert again.status_code == 200  # the same delivery id: a duplicate
    body = json.dumps({"external_id": "M-9", "subject": "s", "body": "b"}).encode()
    bad = service.post("/webhooks/generic", content=body, headers=signed_headers("whsec_" + "A" * 32, body, "msg-9"))
    assert bad.status_code == 401
    finished = [wait_finished(service, tid, KEY) for tid in ids]
    after = scrape(service)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("triage_intake_requests_total", source="generic", result="accepted") == 2
    assert delta("triage_intake_requests_total", source="generic", result="duplicate_or_ignored") == 1
    assert delta("triage_intake_requests_total", source="generic", result="unauthorized") == 1
    # every node that ran once per ticket was timed once per ticket
    assert delta("triage_node_seconds_count", node="redact") == 2
    assert delta("triage_node_seconds_count", node="decide") == 2
    assert delta("triage_ticket_seconds_count") == 2
    # a decision is counted once per ticket, when its run ends: a suggestion waiting for its review is
    # counted when the review resumes it (triage_awaiting_review shows it meanwhile)
    actions = [t["decision"]["action"] for t in finished if t["status"] != "awaiting_review"]
    for action in set(actions):
        assert delta("triage_decisions_total", action=action) == actions.count(action)
    assert total(after, "triage_decisions_total") - total(before, "triage_decisions_total") == len(actions)
    # read from the database: nothing waits, and the finished tickets are counted by status
    assert value(after, "triage_queue_depth") == 0
    assert value(after, "triage_queue_oldest_age_seconds") == 0
    statuses = [t["status"] for t in finished]
    for status in set(statuses):
        assert value(after, "triage_tickets", status=status) == statuses.count(status)


def test_queue_depth_and_age_come_from_the_store(demo_settings: Settings) -> None:
    settings = demo_settings.model_copy(update={"worker_enabled": False})
    with serve_in_thread(settings) as url, httpx.Client(base_url=url, timeout=30) as client:
        for i in range(3):
            assert (
                post_ticket(client, SECRET, {"external_id": f"Q-{i}", "subject": "s", "body": "b"}).status_code == 202
            )
        got = scrape(client)
    assert value(got, "triage_queue_depth") == 3
    assert value(got, "triage_tickets", status="received") == 3
    assert value(got, "triage_queue_oldest_age_seconds") > 0


def test_a_separate_worker_serves_its_own_counters(demo_data_dir: Path, tmp_path: Path) -> None:
    """`triage worker` with TRIAGE_METRICS_PORT: its process's counters over HTTP (loopback), and the
    tickets it works are counted there, not in the API."""
    import shutil
    import subprocess
    import sys
    import time

    from tests.netutil import free_port

    shutil.copytree(demo_data_dir / "chroma", tmp_path / "chroma")
    port = free_port()
    db = f"sqlite:///{tmp_path / 'triage.db'}"
    env = {
        **clean_env(),
        "TRIAGE_DATA_DIR": str(tmp_path),
        "TRIAGE_ALLOW_EMPTY_KB": "true",  # no KB here: this test is about the model process / metrics
        "TRIAGE_DATABASE_URL": db,
        "TRIAGE_LLM": "none",
        "TRIAGE_WORKER_POLL_S": "0.05",
        "TRIAGE_METRICS_PORT": str(port),
        "TRIAGE_CONFIG": str(tmp_path / "none.toml"),
    }
    store = open_database(db)
    store.create_or_get("generic", "w-1", {"external_id": "W-1", "subject": "Reset password", "body": "I forgot it."})
    log = tmp_path / "worker.log"
    with log.open("ab") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "api", "worker"], env=env, stdout=fh, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        text = ""
        while time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()[-2000:]
            try:
                text = httpx.get(f"http://127.0.0.1:{port}/", timeout=2).text
            except httpx.TransportError:
                time.sleep(0.3)
                continue
            if "triage_ticket_seconds_count 1.0" in text:
                break
            time.sleep(0.3)
        assert "triage_ticket_seconds_count 1.0" in text, text[-3000:] + log.read_text()[-2000:]
        assert 'triage_node_seconds_count{node="redact"} 1.0' in text
        assert sum(store.counts().values()) == 1  # the one ticket, worked by this process
    finally:
        proc.terminate()
        proc.wait(30)
