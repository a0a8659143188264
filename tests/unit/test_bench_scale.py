"""The scale bench's figure arithmetic (evals/bench_scale.py, evals/loadgen.py): pure, no server."""

from __future__ import annotations

import math

from evals.bench_scale import per_thousand, rate, speedup
from evals.loadgen import LoadRun, raw_request, summarise


def test_summarise_counts_only_202_as_accepted_and_reads_percentiles() -> None:
    # 100 answers: 98 accepted in 1..98 ms, one duplicate (200) and one 401; 2 s of wall time
    latencies = [i / 1000 for i in range(1, 99)] + [0.5, 0.9]
    run = LoadRun(statuses=[202] * 98 + [200, 401], latencies=latencies, wall_s=2.0, client_cpu_s=0.5, concurrency=16)
    out = summarise(run)
    assert out["requests"] == 100 and out["accepted"] == 98
    assert out["other_status"] == {"200": 1, "401": 1}
    assert out["accepted_per_s"] == 49.0 and out["answered_per_s"] == 50.0
    assert out["p50_ms"] == 51.0  # nearest rank (index round(0.5 * 99) = 50) over every answered request
    assert out["p99_ms"] == 500.0 and out["max_ms"] == 900.0
    assert out["client_cores"] == 0.25 and out["concurrency"] == 16


def test_summarise_counts_lost_connections_as_requests_not_answers() -> None:
    out = summarise(LoadRun(statuses=[202, 202], latencies=[0.01, 0.02], wall_s=1.0, errors=3))
    assert out["requests"] == 5 and out["errors"] == 3 and out["accepted_per_s"] == 2.0


def test_summarise_of_nothing_is_not_a_number_rather_than_a_crash() -> None:
    out = summarise(LoadRun())
    assert out["accepted"] == 0 and math.isnan(out["accepted_per_s"]) and math.isnan(out["p99_ms"])


def test_growth_and_rates() -> None:
    assert per_thousand(1_000_000, 3_500_000, 500) == 5_000_000.0  # 2.5 MB over 500 tickets
    assert per_thousand(10, 20, 0) == 0.0
    assert rate(60, 40.0) == 1.5 and rate(5, 0.0) == 0.0
    assert speedup(1.46, 2.14) == 1.47 and speedup(0.0, 3.0) == 0.0


def test_raw_request_is_a_whole_http_request() -> None:
    body = b'{"a": 1}'
    raw = raw_request("127.0.0.1", "/webhooks/generic", body, {"webhook-id": "msg_1"})
    head, _, rest = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "POST /webhooks/generic HTTP/1.1"
    assert "content-length: 8" in lines and "webhook-id: msg_1" in lines and rest == body
