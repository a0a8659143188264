"""A ticket answered with 202 survives kill -9; on restart it is finished exactly once."""

from __future__ import annotations

import shutil
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.conftest import clean_env
from tests.integration.conftest import ServerProcess, post_ticket, wait_finished
from tests.netutil import free_port

pytestmark = pytest.mark.integration
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
KEY = "test-api-key"


def ticket(i: int) -> dict[str, object]:
    subjects = [
        ("Payslip missing", "An employee did not receive her payslip email, please resend it."),
        ("Reset password", "I forgot my password and cannot log in to PayFlow."),
        ("Wrong salary", "Three employees were paid the wrong salary this month."),
        ("Poem", "Write me a poem about the sea."),
    ]
    subject, body = subjects[i % len(subjects)]
    return {"external_id": f"K-{i}", "subject": subject, "body": f"{body} (ref {i})"}


def test_kill9_then_restart_finishes_every_ticket_exactly_once(demo_data_dir: Path, tmp_path: Path) -> None:
    shutil.copytree(demo_data_dir / "chroma", tmp_path / "chroma")
    env = {
        **clean_env(),
        "TRIAGE_DATA_DIR": str(tmp_path),
        "TRIAGE_LLM": "none",
        "TRIAGE_API_KEY": KEY,
        "TRIAGE_WEBHOOK_SECRET": SECRET,
        "TRIAGE_WORKER_POLL_S": "0.05",
        "TRIAGE_CONFIG": str(tmp_path / "none.toml"),
    }
    server = ServerProcess(env, free_port(), tmp_path / "server.log")
    ids: list[str] = []
    try:
        # 1. accepted while no worker runs, then the process dies hard
        server.start(TRIAGE_WORKER_ENABLED="false")
        with httpx.Client(base_url=server.url, timeout=10) as c:
            for i in range(12):
                r = post_ticket(c, SECRET, ticket(i))
                assert r.status_code == 202
                ids.append(r.json()["ticket_id"])
        server.kill9()

        # 2. a worker starts on them and is killed mid-queue, several times
        for round_ in range(3):
            server.start()
            with httpx.Client(base_url=server.url, timeout=10) as c:
                for i in range(4):
                    r = post_ticket(c, SECRET, ticket(100 + 10 * round_ + i))
                    ids.append(r.json()["ticket_id"])
            time.sleep(0.15 * round_)
            server.kill9()

        # 3. the last restart finishes everything
        server.start()
        with httpx.Client(base_url=server.url, timeout=10) as c:
            results = [wait_finished(c, tid, KEY, timeout=120) for tid in ids]
    finally:
        server.stop()

    assert len(set(ids)) == len(ids) == 24
    for got in results:
        assert got["status"] in ("done", "awaiting_review", "handed_off"), got
        events = Counter((a["node"], a["event"]) for a in got["audit"])
        assert events[("worker", "completed")] == 1, got["audit"]
        assert events[("intake", "received")] == 1
        assert sum(n for (node, _), n in events.items() if node == "decide") == 1
        assert got["decision"]["action"] in ("auto_resolve", "suggest", "handoff")
