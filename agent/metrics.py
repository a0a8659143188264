"""Prometheus metrics (prometheus-client): what the service counts and times, and the exposition.

Two kinds, so the numbers are right with one process or many:
- **in-process** counters and histograms (intake requests, graph nodes, whole tickets, LLM calls,
  decisions, write-back failures): each process counts its own. `triage serve` exposes them at
  `/metrics`; a separate `triage worker` exposes its own on `TRIAGE_METRICS_PORT` (off by default),
  so a Prometheus scraping every process sums them. With the in-process worker (the default) the
  API's `/metrics` holds everything.
- **from the database**, read at each scrape (`StoreCollector`): tickets by status, queue depth and
  the age of its oldest ticket, tickets awaiting a review, failed write-backs. These are the shared
  state, so they are the same whichever process is scraped.

Names follow Prometheus conventions: `triage_` prefix, `_total` counters, `_seconds` histograms.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from langchain_core.callbacks import BaseCallbackHandler
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric

__all__ = ["CONTENT_TYPE_LATEST", "NodeTimer", "StoreCollector", "exposition"]

# seconds: a graph node runs from a millisecond (redact) to a minute (a draft on the bundled model)
NODE_BUCKETS = (0.001, 0.005, 0.025, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 40.0, 80.0, 160.0)
TICKET_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 40.0, 80.0, 160.0, 320.0)

INTAKE = Counter(
    "triage_intake_requests_total",
    "Ticket intake requests by source (zendesk, jira, freshdesk, youtrack, generic, intake) and result",
    ["source", "result"],
)
NODE_SECONDS = Histogram("triage_node_seconds", "Seconds one graph node took", ["node"], buckets=NODE_BUCKETS)
NODE_ERRORS = Counter("triage_node_errors_total", "Graph node runs that raised (retried or not)", ["node"])
TICKET_SECONDS = Histogram(
    "triage_ticket_seconds",
    "Seconds one run of the graph over a ticket took (a resume counts apart)",
    buckets=TICKET_BUCKETS,
)
DECISIONS = Counter("triage_decisions_total", "Final decisions of the graph by action", ["action"])
LLM_CALLS = Counter("triage_llm_calls_total", "Chat-model calls by model", ["model"])
LLM_FAILURES = Counter(
    "triage_llm_failures_total", "Chat-model calls that raised, by model and error type", ["model", "error"]
)
WRITEBACK_FAILURES = Counter(
    "triage_writeback_failures_total", "Write-backs that failed, by system and retryable", ["system", "retryable"]
)


# ---- intake --------------------------------------------------------------------------------------
def intake_source(path: str) -> str | None:
    """The intake source of a request path (None: not an intake route)."""
    if path == "/intake/tickets":
        return "intake"
    if path.startswith("/webhooks/"):
        name = path.removeprefix("/webhooks/").strip("/")
        # a label per known system only: a scanner posting to /webhooks/<random> must not grow the series
        return name if name in {"zendesk", "jira", "freshdesk", "youtrack", "generic"} else "unknown"
    return None


def intake_result(status: int) -> str:
    """A request's result from its status code: accepted (202, new), duplicate or ignored (200),
    unauthorized (401/403), too_large (413/431), bad_request (other 4xx), error (5xx)."""
    if status == 202:
        return "accepted"
    if status == 200:
        return "duplicate_or_ignored"
    if status in (401, 403):
        return "unauthorized"
    if status in (413, 431):
        return "too_large"
    if 400 <= status < 500:
        return "bad_request"
    return "error" if status >= 500 else str(status)


# (source, status) -> its counter child: `labels()` validates, locks and builds a key on every call;
# a handful of sources times the status codes answered, so this stays small
_INTAKE_CHILDREN: dict[tuple[str, int], Any] = {}


def count_intake(path: str, status: int) -> None:
    source = intake_source(path)
    if source is not None:
        count_intake_source(source, status)


def count_intake_source(source: str, status: int) -> None:
    """`count_intake` for a source already known (`intake_source` of the path)."""
    child = _INTAKE_CHILDREN.get((source, status))
    if child is None:
        child = _INTAKE_CHILDREN.setdefault(
            (source, status), INTAKE.labels(source=source, result=intake_result(status))
        )
    child.inc()


# ---- the graph -----------------------------------------------------------------------------------
class NodeTimer(BaseCallbackHandler):
    """Times every graph node into `triage_node_seconds{node}` from LangGraph's callbacks (a node's own
    run carries its name in `metadata["langgraph_node"]`); a raise counts in `triage_node_errors_total`
    (LangGraph's interrupt for a human review is not an error). Callbacks, not a wrapper around the
    node functions: a wrapped node broke LangGraph's resume after a crash."""

    def __init__(self) -> None:
        self._started: dict[Any, tuple[str, float]] = {}

    def on_chain_start(self, serialized: dict[str, Any] | None, inputs: Any, **kwargs: Any) -> None:
        metadata = kwargs.get("metadata") or {}
        node = metadata.get("langgraph_node")
        if node and kwargs.get("name") == node:
            self._started[kwargs.get("run_id")] = (str(node), time.perf_counter())

    def on_chain_end(self, outputs: Any, **kwargs: Any) -> None:
        started = self._started.pop(kwargs.get("run_id"), None)
        if started is not None:
            NODE_SECONDS.labels(node=started[0]).observe(time.perf_counter() - started[1])

    def on_chain_error(self, error: BaseException, **kwargs: Any) -> None:
        started = self._started.pop(kwargs.get("run_id"), None)
        if started is not None:
            NODE_SECONDS.labels(node=started[0]).observe(time.perf_counter() - started[1])
            if type(error).__name__ not in ("GraphInterrupt", "NodeInterrupt", "ParentCommand"):
                NODE_ERRORS.labels(node=started[0]).inc()


@contextmanager
def timed_ticket() -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        TICKET_SECONDS.observe(time.perf_counter() - start)


def count_outcome(action: str | None, writeback_system: str | None, failed: bool, retryable: bool | None) -> None:
    """A finished run's decision, and its write-back when it failed."""
    if action:
        DECISIONS.labels(action=action).inc()
    if failed and writeback_system:
        WRITEBACK_FAILURES.labels(system=writeback_system, retryable=str(bool(retryable)).lower()).inc()


class LLMMetrics(BaseCallbackHandler):
    """A LangChain callback on every chat model the service makes: calls and failures by model."""

    def __init__(self, model: str) -> None:
        self.model = model

    def on_chat_model_start(self, serialized: dict[str, Any], messages: list[list[Any]], **kwargs: Any) -> None:
        LLM_CALLS.labels(model=self.model).inc()

    def on_llm_error(self, error: BaseException, **kwargs: Any) -> None:
        LLM_FAILURES.labels(model=self.model, error=type(error).__name__).inc()


# ---- the shared state, read at each scrape -------------------------------------------------------
class StoreCounts:
    """What `StoreCollector` reads (agent.storage.tickets.TicketStore.metrics_snapshot's shape)."""

    def __init__(
        self,
        by_status: dict[str, int],
        queue_depth: int,
        oldest_queued_age_s: float | None,
        awaiting_review: int,
        writeback_failed: int,
    ) -> None:
        self.by_status = by_status
        self.queue_depth = queue_depth
        self.oldest_queued_age_s = oldest_queued_age_s
        self.awaiting_review = awaiting_review
        self.writeback_failed = writeback_failed


class StoreCollector(Collector):
    """Gauges read from the ticket store when Prometheus scrapes (one small query each)."""

    def __init__(self, read: Callable[[], StoreCounts]) -> None:
        self.read = read

    def collect(self) -> Iterable[Metric]:
        counts = self.read()
        status = GaugeMetricFamily("triage_tickets", "Stored tickets by status", labels=["status"])
        for name, n in sorted(counts.by_status.items()):
            status.add_metric([name], n)
        yield status
        yield GaugeMetricFamily(
            "triage_queue_depth",
            "Tickets waiting for a worker (received, or processing with an expired lease)",
            value=counts.queue_depth,
        )
        yield GaugeMetricFamily(
            "triage_queue_oldest_age_seconds",
            "Age of the oldest ticket waiting for a worker (0 when none waits)",
            value=counts.oldest_queued_age_s or 0.0,
        )
        yield GaugeMetricFamily(
            "triage_awaiting_review", "Tickets whose draft waits for a human review", value=counts.awaiting_review
        )
        yield GaugeMetricFamily(
            "triage_writeback_failed",
            "Tickets whose write-back failed and waits for a retry",
            value=counts.writeback_failed,
        )


def exposition(store_counts: Callable[[], StoreCounts] | None = None) -> bytes:
    """The text exposition of this process's metrics, plus the store's gauges when given."""
    if store_counts is None:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Process())
    registry.register(StoreCollector(store_counts))
    return generate_latest(registry)


class _Process(Collector):
    """The default registry's metrics (ours, plus the process and platform collectors)."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()
