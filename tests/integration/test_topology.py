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


def test_a_port_another_process_holds_is_refused_before_anything_starts(tmp_path: Path) -> None:
    """A foreign server on the port answers the probe: without the check it passed for ours (which
    cannot bind) and `triage up` said "ready" about someone else's service."""
    port = free_port()
    (tmp_path / "alive").write_text("ok")
    foreign = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"], cwd=tmp_path,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        assert _until(lambda: not _free(port)), "the foreign server did not start"
        ours = _spec("api", tmp_path, port, listens=(("127.0.0.1", port),))
        top = Topology([ours])
        with pytest.raises(TopologyError, match=rf"api cannot start: 127\.0\.0\.1:{port} is already in use"):
            top.start()
        assert top.procs["api"].proc is None  # never started
        assert foreign.poll() is None  # and the other service is left alone
    finally:
        foreign.kill()
        foreign.wait()
    assert _until(lambda: _free(port))
    with Topology([_spec("api", tmp_path, port, listens=(("127.0.0.1", port),))]) as top:  # free again: it starts
        assert top.procs["api"].state == "ready"


# a supervisor of its own: starts a helper in its session (as `triage serve --processes N` starts its
# uvicorn processes), records its pid, then serves; both ignore SIGTERM when STUBBORN is set
LEADER = """
import os, signal, subprocess, sys
if os.environ.get("STUBBORN"):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
helper = subprocess.Popen([sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                           "time.sleep(3600)"])
with open(sys.argv[2], "a") as f:
    f.write(f"{helper.pid}\\n")
os.execv(sys.executable, [sys.executable, "-m", "http.server", sys.argv[1], "--bind", "127.0.0.1"])
"""


def _leader(name: str, cwd: Path, port: int, env: dict[str, str] | None = None) -> ProcessSpec:
    return ProcessSpec(
        name, [sys.executable, "-c", LEADER, str(port), str(cwd / f"{name}.helpers")], {**os.environ, **(env or {})},
        cwd / f"{name}.log", live_url=f"http://127.0.0.1:{port}/alive", cwd=cwd, start_timeout_s=30.0,
    )  # fmt: skip


def _helpers(cwd: Path, name: str) -> list[int]:
    path = cwd / f"{name}.helpers"
    return [int(x) for x in path.read_text().split()] if path.exists() else []


def test_what_a_dead_or_killed_process_started_goes_with_it(tmp_path: Path) -> None:
    """The API's supervisor killed -9 (by the watch, or the OOM killer) left its uvicorn processes
    serving its port forever: the restarted API could not bind it, and they outlived `triage up`."""
    (tmp_path / "alive").write_text("ok")
    top = Topology([_leader("one", tmp_path, free_port())], check_every_s=0.2, unhealthy_after=2, backoff_first_s=0.2)
    with top:
        top.start_watch()
        one = top.procs["one"]
        first, helpers = one.pid, _helpers(tmp_path, "one")
        assert first is not None and len(helpers) == 1 and _alive(helpers[0])
        os.kill(first, signal.SIGKILL)  # the leader alone dies: its helper must not outlive it
        assert _until(lambda: one.pid != first and one.state == "ready"), one.status()
        assert _until(lambda: not _alive(helpers[0])), f"helper {helpers[0]} of the dead process is still running"
        (tmp_path / "alive").unlink()  # unhealthy: killed by the watch, its session too
        second, helper = one.pid, _helpers(tmp_path, "one")[-1]
        assert _until(lambda: one.restarts >= 2), one.status()
        assert _until(lambda: not _alive(helper)), f"helper {helper} of the killed process {second} is still running"
        (tmp_path / "alive").write_text("ok")
        assert _until(lambda: one.state == "ready"), one.status()
        last = _helpers(tmp_path, "one")[-1]
    assert _until(lambda: not _alive(last)), (
        f"helper {last} outlived the stop"
    )  # SIGKILL takes effect soon, not at once


def test_stop_is_bounded_when_nothing_heeds_sigterm_and_a_second_signal_hurries_it(tmp_path: Path) -> None:
    import threading

    (tmp_path / "alive").write_text("ok")
    stubborn = {"STUBBORN": "1"}
    specs = [_leader("api", tmp_path, free_port(), stubborn), _leader("worker-1", tmp_path, free_port(), stubborn)]
    top = Topology(specs, stop_timeout_s=1.0)
    top.start()
    procs = [p.proc for p in top.procs.values()]
    helpers = _helpers(tmp_path, "api") + _helpers(tmp_path, "worker-1")
    stop = threading.Thread(target=top.stop)
    stop.start()
    stop.join(120)  # a hang detector: one stop timeout per step, then SIGKILL
    assert not stop.is_alive()
    assert all(p is not None and p.poll() == -signal.SIGKILL for p in procs), [p and p.poll() for p in procs]
    assert len(helpers) == 2 and _until(lambda: not [pid for pid in helpers if _alive(pid)]), helpers

    # a stop that would wait an hour for SIGTERM kills at once after hurry() (a second Ctrl+C)
    top = Topology([_leader("api", tmp_path, free_port(), stubborn)], stop_timeout_s=3600.0)
    top.start()
    stop = threading.Thread(target=top.stop)
    stop.start()
    assert _until(lambda: top.stopping)
    top.hurry()
    stop.join(120)
    assert not stop.is_alive()
    assert _until(lambda: not [pid for pid in _helpers(tmp_path, "api") if _alive(pid)])


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


def _left_behind(tmp_path: Path) -> list[str]:
    """Every live process started for this test's `triage up` (its data dir is in their environment),
    wherever it is now (an orphan's parent is init)."""
    tag = str(tmp_path / "data").encode()
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if int(proc.name) != os.getpid() and tag in (proc / "environ").read_bytes() and _alive(int(proc.name)):
                cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                found.append(f"{proc.name}: {cmd[:160]}")
        except (OSError, ValueError):
            pass
    return found


def _start_up(pg_url: str, tmp_path: Path, workers: int) -> tuple[subprocess.Popen[bytes], Path, int, int, int]:
    """`triage up --api-processes 2` with `workers` workers on a small KB; its output in tmp_path/up.log."""
    api, chroma, metrics = free_port(), free_port(), free_port()
    while not all(_free(metrics + i) for i in range(workers)):
        metrics = free_port()
    kb = tmp_path / "kb"  # a small KB: the API ingests it before the workers start
    kb.mkdir()
    for doc in ("KB-001-reset-password.md", "KB-003-sso-saml-setup.md", "KB-009-resend-payslip.md"):
        shutil.copy(DEMO_KB / "kb" / doc, kb / doc)
    env = clean_env()
    env.update(TRIAGE_LLM="none", TRIAGE_API_KEY="k", TRIAGE_DATA_DIR=str(tmp_path / "data"),
               TRIAGE_KB_PATH=str(kb), TRIAGE_CONFIG=str(tmp_path / "none.toml"), HF_HUB_OFFLINE="1")  # fmt: skip
    out = tmp_path / "up.log"
    argv = [sys.executable, "-m", "api", "up", "--workers", str(workers), "--database-url", pg_url, "--port", str(api),
            "--chroma-port", str(chroma), "--metrics-port", str(metrics), "--api-processes", "2"]  # fmt: skip
    with out.open("wb") as fh:
        up = subprocess.Popen(argv, env=env, cwd=tmp_path, stdout=fh, stderr=subprocess.STDOUT)
    return up, out, api, chroma, metrics


def test_triage_up_serves_restarts_a_killed_worker_and_ctrl_c_stops_all(pg_url: str, tmp_path: Path) -> None:
    up, out, api, chroma, metrics = _start_up(pg_url, tmp_path, workers=2)
    try:
        assert _until(lambda: "up: API" in out.read_text() or up.poll() is not None, timeout=600), out.read_text()
        assert up.poll() is None, out.read_text()
        api_log = tmp_path / "data" / "logs" / "api.log"
        try:
            ready = httpx.get(f"http://127.0.0.1:{api}/readyz").json()
        except httpx.HTTPError as exc:  # what `triage up` and the API said, to tell why
            raise AssertionError(f"{exc!r}\n{out.read_text()}\n{api_log.read_text()[-4000:]}") from exc
        assert ready == {"status": "ready"}, out.read_text()
        checks = httpx.get(f"http://127.0.0.1:{api}/readyz", headers={"authorization": "Bearer k"}).json()["checks"]
        assert checks["knowledge"] == {"ok": True, "state": "reachable", "url": f"http://127.0.0.1:{chroma}"}, checks
        assert httpx.get(f"http://127.0.0.1:{api}/healthz").status_code == 200
        assert httpx.get(f"http://127.0.0.1:{chroma}/api/v2/heartbeat").status_code == 200
        for i in range(2):
            assert httpx.get(f"http://127.0.0.1:{metrics + i}/").status_code == 200
        children = _children(up.pid)
        assert len(children) == 4, (children, out.read_text())  # chroma, api, 2 workers
        api_pid = int(re.findall(r"api ready \(pid (\d+)\)", out.read_text())[-1])
        api_procs = {pid for pid in _children(api_pid) if "spawn_main" in Path(f"/proc/{pid}/cmdline").read_text()}
        assert len(api_procs) == 2, (api_procs, out.read_text())  # --api-processes 2: two uvicorn processes
        worker = int(re.findall(r"worker-1 ready \(pid (\d+)\)", out.read_text())[-1])
        os.kill(worker, signal.SIGKILL)
        assert _until(lambda: len(re.findall(r"worker-1 ready", out.read_text())) == 2, timeout=300), out.read_text()
        assert httpx.get(f"http://127.0.0.1:{metrics}/").status_code == 200
        children = _children(up.pid)
        assert worker not in children and len(children) == 4
        up.send_signal(signal.SIGINT)  # Ctrl+C
        assert up.wait(300) == 0, out.read_text()  # a hang detector: each process has its stop timeout
        assert not [pid for pid in children | api_procs if _alive(pid)], out.read_text()
        assert _until(lambda: not _left_behind(tmp_path)), (_left_behind(tmp_path), out.read_text())
        assert "stopping" in out.read_text()
    finally:
        if up.poll() is None:
            up.kill()


def test_ctrl_c_while_the_api_processes_start_stops_all(pg_url: str, tmp_path: Path) -> None:
    """Ctrl+C while uvicorn's processes are still starting: each only notes SIGTERM until its startup is
    done, and uvicorn's supervisor waits for them without a timeout; the stop is bounded all the same."""
    up, out, *_ = _start_up(pg_url, tmp_path, workers=1)
    api_log = tmp_path / "data" / "logs" / "api.log"
    try:
        started = lambda: api_log.exists() and "Started parent process" in api_log.read_text()  # noqa: E731
        assert _until(lambda: started() or up.poll() is not None, timeout=600), out.read_text()
        assert up.poll() is None, out.read_text()
        up.send_signal(signal.SIGINT)  # Ctrl+C: the API's processes are importing the app or in its lifespan
        assert up.wait(300) == 0, out.read_text()  # a hang detector: each step has its stop timeout
        assert _until(lambda: not _left_behind(tmp_path)), (
            _left_behind(tmp_path),
            out.read_text(),
            api_log.read_text(),
        )
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
