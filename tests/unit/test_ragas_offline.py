"""ragas never reaches the network: its metrics run, and its telemetry (which would POST to
t.explodinggradients.com, swallowing any error, so the conftest's block alone would not show it)
stays off. Every name lookup and connection is recorded here: any non-loopback one fails the test.
A fresh interpreter importing ragas through us: tests/integration/test_ragas_offline.py."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from agent.graph.testing import ScriptedChatModel
from agent.settings import REPO_ROOT
from tests.unit.test_ragas_judge import THREE, TICKET, AxisEncoder, question, statements, trace, verdicts

LOOPBACK = {"localhost", "127.0.0.1", "::1", "", None}


@pytest.fixture
def outbound(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Every non-loopback name lookup or connection attempt (the connect is refused anyway)."""
    tried: list[Any] = []
    real_getaddrinfo, guarded_connect = socket.getaddrinfo, socket.socket.connect

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in LOOPBACK:
            tried.append(("getaddrinfo", host))
            raise socket.gaierror(f"tests may not resolve {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    def connect(self: socket.socket, address: Any) -> None:
        if not isinstance(address, str | bytes) and address[0] not in LOOPBACK:
            tried.append(("connect", address))
        return guarded_connect(self, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    yield tried


def test_ragas_metrics_and_its_telemetry_open_no_connection(outbound: list[Any]) -> None:
    from evals.judge import judge
    from evals.resolve.metrics import id_context_cases, ragas_offline
    from tests.unit.test_ragas_metrics import trace as id_trace

    assert id_context_cases([id_trace("a", ["A", "B"], ["A"])], k=5) == [(0.5, 1.0)]
    model = ScriptedChatModel(
        replies=[statements(*THREE), verdicts((THREE[0], 1), (THREE[1], 0), (THREE[2], 0)), question(TICKET)]
    )
    v = judge([trace("t")], model, REPO_ROOT / "prompts", AxisEncoder(), lambda d: "doc", "scripted/judge")
    assert v["faithfulness"] == pytest.approx(1 / 3, abs=1e-4) and v["answer_relevancy"] == pytest.approx(1.0)

    # what ragas sends, it sends through `track`: the metric scores batched above (flushed now, as its
    # thread does every 10 s and at exit) and an event sent straight away
    from ragas._analytics import IsCompleteEvent, _analytics_batcher, do_not_track, track

    assert ragas_offline() == "0.4.3" and do_not_track()
    _analytics_batcher.flush()
    track(IsCompleteEvent(event_type="test"))
    assert outbound == []


def test_the_recorder_sees_what_ragas_telemetry_would_send(
    outbound: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The test above can fail: with the opt-out undone, ragas's `track` tries to reach its server."""
    from evals.resolve.metrics import ragas_offline

    ragas_offline()
    from ragas._analytics import IsCompleteEvent, do_not_track, track

    monkeypatch.setenv("RAGAS_DO_NOT_TRACK", "false")
    do_not_track.cache_clear()
    try:
        track(IsCompleteEvent(event_type="test"))  # its errors are swallowed (@silent)
    finally:
        monkeypatch.setenv("RAGAS_DO_NOT_TRACK", "true")
        do_not_track.cache_clear()
    assert ("getaddrinfo", "t.explodinggradients.com") in outbound
    assert do_not_track()
