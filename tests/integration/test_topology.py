"""The one-machine topology (`triage up`, agent/runtime/topology.py) and the per-process thread budget
(agent/runtime/threads.py), with real processes: a dead process is started again, an unhealthy one
is killed and started again, a failed start says why, Ctrl+C stops everything; a worker started with
its share uses that many threads in every pool."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from agent.runtime.threads import child_env, plan
from agent.runtime.topology import ProcessSpec, Topology, TopologyError, one_machine
from tests.conftest import DEMO_KB, clean_env, make_settings
from tests.integration.conftest import fresh_pg_database
from tests.netutil import free_port

pytestmark = pytest.mark.integration


def test_thread_plan_gives_each_process_its_share() -> None:
    for cores in range(1, 17):
        for workers in range(1, 9):
            p = plan(workers, cores)
            assert p.worker >= 1 and p.model == cores == p.api and p.chroma == 1
            assert p.worker * workers <= max(cores, workers)  # never more busy threads than cores (or 1 each)
    assert plan(3, 2).worker == 1 and plan(2, 8).worker == 4
    env = child_env(2)
    assert env["OMP_NUM_THREADS"] == env["OPENBLAS_NUM_THREADS"] == env["TRIAGE_EMBEDDER_THREADS"] == "2"
    with pytest.raises(ValueError, match="at least 1"):
        plan(0, 2)


PROBE = """
import json, os, sys
import numpy, torch
from threadpoolctl import threadpool_info
from agent.runtime import threads
from agent.settings import Settings
from agent.graph.classifier.encoder import _default_threads
s = threads.apply(Settings(_env_file=None))
print(json.dumps({"pools": [p["num_threads"] for p in threadpool_info()], "torch": torch.get_num_threads(),
                  "embedder": s.embedder_threads, "onnx": _default_threads()}))
"""


@pytest.mark.parametrize("share", [1, 2])
def test_a_process_started_with_its_share_uses_it_in_every_pool(share: int, tmp_path: Path) -> None:
    base = {k: v for k, v in clean_env().items() if not k.endswith("_NUM_THREADS")}
    env = {**base, **child_env(share), "TRIAGE_CONFIG": str(tmp_path / "none.toml")}
    env.pop("TRIAGE_EMBEDDER_THREADS")  # the share reaches the embedder from OMP_NUM_THREADS alone
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, cwd=tmp_path, capture_output=True, text=True,
                         timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["pools"] and set(got["pools"]) == {share}, got
    assert got["torch"] == got["embedder"] == got["onnx"] == share, got


def test_without_a_share_nothing_changes(tmp_path: Path) -> None:
    env = {k: v for k, v in clean_env().items() if k != "OMP_NUM_THREADS"}
    env["TRIAGE_CONFIG"] = str(tmp_path / "none.toml")
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, cwd=tmp_path, capture_output=True, text=True,
                         timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1])["embedder"] is None


def _spec(name: str, cwd: Path, port: int, **kw: object) -> ProcessSpec:
    """A real HTTP process (python -m http.server) that is alive while `cwd/alive` exists."""
    return ProcessSpec(
        name, [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"], dict(os.environ),
        cwd / f"{name}.log", live_url=f"http://127.0.0.1:{port}/alive", cwd=cwd, start_timeout_s=30.0, **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def _until(check: object, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


def test_dead_and_unhealthy_processes_are_started_again_and_stop_stops_all(tmp_path: Path) -> None:
    (tmp_path / "alive").write_text("ok")
    top = Topology(
        [_spec("one", tmp_path, free_port()), _spec("two", tmp_path, free_port())],
        check_every_s=0.2, unhealthy_after=2, backoff_first_s=0.2,
    )  # fmt: skip
    with top:
        top.start_watch()
        one, two = top.procs["one"], top.procs["two"]
        assert one.state == two.state == "ready"
        first = one.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)  # dead: started again
        assert _until(lambda: one.pid != first and one.state == "ready"), one.status()
        assert one.restarts == 1 and one.last_problem and "-9" in one.last_problem
        (tmp_path / "alive").unlink()  # alive but failing its liveness: killed, started again
        pids = (one.pid, two.pid)
        assert _until(lambda: one.restarts >= 2 and two.restarts >= 1), top.status()
        assert "stopped answering" in (two.last_problem or "")
        (tmp_path / "alive").write_text("ok")
        assert _until(lambda: one.state == two.state == "ready" and (one.pid, two.pid) != pids), top.status()
        procs = [p.proc for p in top.procs.values()]
    assert all(p is not None and p.poll() is not None for p in procs)


def test_a_process_that_cannot_start_says_why(tmp_path: Path) -> None:
    ok = _spec("fine", tmp_path, free_port())
    (tmp_path / "alive").write_text("ok")
    bad = ProcessSpec("broken", [sys.executable, "-c", "import sys; print('no database here'); sys.exit(3)"],
                      dict(os.environ), tmp_path / "broken.log")  # fmt: skip
    top = Topology([ok, bad])
    with pytest.raises(TopologyError, match=r"broken exited with status 3[\s\S]*no database here"):
        top.start()
    fine = top.procs["fine"].proc
    assert fine is not None and fine.poll() is not None  # what had started is stopped again


def test_separate_workers_refuse_sqlite(tmp_path: Path) -> None:
    with pytest.raises(TopologyError, match="shared database"):
        one_machine(make_settings(tmp_path), workers=2)


# ---- `triage up` itself: PostgreSQL, a Chroma server, the API and two workers -------------------
@pytest.fixture
def pg_url() -> Iterator[str]:
    with fresh_pg_database("topo") as url:
        yield url


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with open(task / "children") as f:
            found |= {int(x) for x in f.read().split()}
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text()


def test_triage_up_serves_restarts_a_killed_worker_and_ctrl_c_stops_all(pg_url: str, tmp_path: Path) -> None:
    api, chroma, metrics = free_port(), free_port(), free_port()
    while not all(_free(metrics + i) for i in range(2)):
        metrics = free_port()
    kb = tmp_path / "kb"  # a small KB: the API ingests it before the workers start
    kb.mkdir()
    for doc in ("KB-001-reset-password.md", "KB-003-sso-saml-setup.md", "KB-009-resend-payslip.md"):
        shutil.copy(DEMO_KB / "kb" / doc, kb / doc)
    env = clean_env()
    env.update(TRIAGE_LLM="none", TRIAGE_API_KEY="k", TRIAGE_DATA_DIR=str(tmp_path / "data"),
               TRIAGE_KB_PATH=str(kb), TRIAGE_CONFIG=str(tmp_path / "none.toml"), HF_HUB_OFFLINE="1")  # fmt: skip
    out = tmp_path / "up.log"
    argv = [sys.executable, "-m", "api", "up", "--workers", "2", "--database-url", pg_url, "--port", str(api),
            "--chroma-port", str(chroma), "--metrics-port", str(metrics)]  # fmt: skip
    with out.open("wb") as fh:
        up = subprocess.Popen(argv, env=env, cwd=tmp_path, stdout=fh, stderr=subprocess.STDOUT)
    try:
        assert _until(lambda: "up: API" in out.read_text() or up.poll() is not None, timeout=600), out.read_text()
        assert up.poll() is None, out.read_text()
        assert httpx.get(f"http://127.0.0.1:{api}/readyz").json() == {"status": "ready"}
        checks = httpx.get(f"http://127.0.0.1:{api}/readyz", headers={"authorization": "Bearer k"}).json()["checks"]
        assert checks["knowledge"] == {"ok": True, "state": "reachable", "url": f"http://127.0.0.1:{chroma}"}, checks
        assert httpx.get(f"http://127.0.0.1:{api}/healthz").status_code == 200
        assert httpx.get(f"http://127.0.0.1:{chroma}/api/v2/heartbeat").status_code == 200
        for i in range(2):
            assert httpx.get(f"http://127.0.0.1:{metrics + i}/").status_code == 200
        children = _children(up.pid)
        assert len(children) == 4, (children, out.read_text())  # chroma, api, 2 workers
        worker = int(re.findall(r"worker-1 ready \(pid (\d+)\)", out.read_text())[-1])
        os.kill(worker, signal.SIGKILL)
        assert _until(lambda: len(re.findall(r"worker-1 ready", out.read_text())) == 2, timeout=300), out.read_text()
        assert httpx.get(f"http://127.0.0.1:{metrics}/").status_code == 200
        children = _children(up.pid)
        assert worker not in children and len(children) == 4
        up.send_signal(signal.SIGINT)  # Ctrl+C
        assert up.wait(300) == 0, out.read_text()  # a hang detector: each process has its stop timeout
        assert not [pid for pid in children if _alive(pid)], out.read_text()
        assert "stopping" in out.read_text()
    finally:
        if up.poll() is None:
            up.kill()


def _free(port: int) -> bool:
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
