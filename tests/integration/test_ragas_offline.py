"""A fresh interpreter imports ragas through us, scores ragas's metrics and exits (ragas flushes its
telemetry at exit) without one non-loopback name lookup or connection: the recorder is installed
before anything is imported. The in-process check: tests/unit/test_ragas_offline.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from agent.settings import REPO_ROOT

pytestmark = pytest.mark.integration

SCRIPT = r"""
import atexit, json, socket, sys
tried = []
LOOPBACK = {"localhost", "127.0.0.1", "::1", "", None}
real_gai, real_connect = socket.getaddrinfo, socket.socket.connect

def gai(host, *a, **k):
    if host not in LOOPBACK:
        tried.append(["getaddrinfo", str(host)])
        raise socket.gaierror("blocked")
    return real_gai(host, *a, **k)

def connect(self, address):
    if not isinstance(address, (str, bytes)) and address[0] not in LOOPBACK:
        tried.append(["connect", str(address)])
        raise ConnectionRefusedError("blocked")
    return real_connect(self, address)

socket.getaddrinfo, socket.socket.connect = gai, connect

def report():  # registered first, so it runs after ragas's own exit flush
    sys.stdout.write(json.dumps({"tried": tried, "modules": sorted(set(sys.modules) & WATCH)}) + "\n")

WATCH = {"nltk", "sentence_transformers", "transformers", "torch", "litellm"}
atexit.register(report)

from agent.graph.testing import ScriptedChatModel
from evals.judge import RagasJudge
from evals.resolve.metrics import id_context_cases
from tests.unit.test_ragas_judge import THREE, TICKET, AxisEncoder, question, statements, verdicts
from tests.unit.test_ragas_metrics import trace

assert id_context_cases([trace("a", ["A", "B"], ["A"])], k=5) == [(0.5, 1.0)]
model = ScriptedChatModel(replies=[statements(*THREE), verdicts(*[(s, 1) for s in THREE]), question(TICKET)])
rj = RagasJudge(model, AxisEncoder())
assert rj.faithfulness(TICKET, "reply", ["doc"]) == 1.0
assert rj.answer_relevancy(TICKET, "reply") == 1.0
"""


def test_a_fresh_process_importing_and_running_ragas_reaches_no_network() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAGAS_")}  # our code must switch it off
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=240
    )
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got == {"tried": [], "modules": []}
