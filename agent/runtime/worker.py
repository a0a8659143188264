"""The worker: claims received tickets from the store and runs them through the agent.

In-process by default (a thread started by the API); `triage worker` runs the same loop in its own
process when scaled. Exactly-once: results are written by `TicketStore.complete()` under the
worker's lease, and a crashed run resumes from its LangGraph checkpoint (thread_id = ticket id; on
PostgreSQL the checkpoints are shared, so any worker resumes any ticket). While a ticket is worked a
heartbeat thread renews its lease every `heartbeat_s` (a third of the lease by default): a live
worker keeps its ticket however long the LLM and the write-back take, and a dead one's ticket is
claimable again once the short lease runs out.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid

from agent.domain import AuditEvent, Ticket
from agent.errors import is_transient
from agent.graph.result import failure_text, status_of, ticket_result
from agent.runtime.assembly import Agent
from agent.storage.events import record_outcome
from agent.storage.lease import Heartbeat
from agent.storage.reviews import ReviewStore
from agent.storage.tickets import TicketStore

log = logging.getLogger("triage.worker")


class Worker:
    def __init__(
        self,
        store: TicketStore,
        agent: Agent,
        *,
        lease_s: float = 30.0,
        heartbeat_s: float | None = None,
        poll_s: float = 0.2,
        max_attempts: int = 3,
    ) -> None:
        self.store = store
        self.agent = agent
        self.lease_s = lease_s
        self.heartbeat_s = heartbeat_s if heartbeat_s is not None else lease_s / 3
        if self.heartbeat_s >= lease_s:
            raise ValueError(
                f"the lease heartbeat ({self.heartbeat_s}s) must be shorter than the lease ({lease_s}s): "
                "set TRIAGE_WORKER_HEARTBEAT_S below TRIAGE_WORKER_LEASE_S (a third of it is the default)"
            )
        self.poll_s = poll_s
        self.max_attempts = max_attempts
        # verdicts of support agents, for resuming tickets paused for review
        self.reviews = ReviewStore(store)
        self.id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def notify(self) -> None:
        """A new ticket arrived: stop sleeping."""
        self._wake.set()

    def process(self, ticket: Ticket) -> None:
        """Run one claimed ticket under a heartbeat that keeps its lease while the graph runs."""
        with Heartbeat(self.store, ticket.id, self.id, self.lease_s, self.heartbeat_s):
            self._process(ticket)

    def _process(self, ticket: Ticket) -> None:
        verdict = self.reviews.pending(ticket.id)
        try:
            state = self.agent.run(ticket, verdict)
            result, status = ticket_result(state, self.agent.context.policy.version), status_of(state)
        except Exception as exc:  # noqa: BLE001 - the worker outlives any one ticket; _failed decides what next
            self._failed(ticket, exc)
            return
        audit = [*state.get("audit", []), AuditEvent(node="worker", event="completed", detail={"worker": self.id})]
        written = self.store.complete(
            ticket.id,
            self.id,
            status,
            result.model_dump(mode="json"),
            audit,
            error=failure_text(state.get("writeback")),  # a failed write-back: the result stands, retry later
        )
        if written:  # our own lifecycle events (triaged, reply, solve, handoff) for the KPIs; never raises
            record_outcome(self.store, ticket, result, status)
        if not written:
            log.warning("ticket %s: lease lost before completion; another worker owns it", ticket.id)
        elif verdict is not None:
            # applied only when the graph really resumed from its review interrupt with the verdict (the
            # review node then sets `review`); a run that paused again keeps the verdict pending
            if state.get("review") is None:
                log.warning(
                    "ticket %s: a review verdict is waiting but the graph did not resume from its review "
                    "pause; the verdict stays pending",
                    ticket.id,
                )
            else:
                self.reviews.mark_applied(ticket.id)

    def _failed(self, ticket: Ticket, exc: Exception) -> None:
        """A transient failure (agent/errors.py `is_transient`) gives the ticket back to the queue until
        its attempts run out; anything else (a permanent error, a configuration error, a bug) fails it
        now, with the error recorded: retrying the same input would only repeat it."""
        transient = is_transient(exc)
        row = self.store.get(ticket.id)
        attempts = row["attempts"] if row else self.max_attempts
        error = f"{type(exc).__name__}: {exc}"
        if transient and attempts < self.max_attempts:
            log.warning("ticket %s: transient failure (attempt %d of %d), requeued: %s",
                        ticket.id, attempts, self.max_attempts, error[:300])  # fmt: skip
            self.store.release(ticket.id, self.id, error)
            return
        log.error("ticket %s failed (%s)", ticket.id, "transient, out of attempts" if transient else "not retried",
                  exc_info=exc)  # fmt: skip
        detail = {"error": error[:1000], "attempts": attempts, "transient": transient, "kind": type(exc).__name__}
        self.store.complete(
            ticket.id,
            self.id,
            "failed",
            None,
            [AuditEvent(node="worker", event="failed", detail=detail)],
            error=error[:2000],
        )

    def run_once(self) -> bool:
        ticket = self.store.claim(self.id, self.lease_s)
        if ticket is None:
            return False
        self.process(ticket)
        return True

    def drain(self) -> int:
        """Process until the queue is empty (CLI and tests)."""
        n = 0
        while self.run_once():
            n += 1
        return n

    def loop(self) -> None:
        while not self._stop.is_set():
            if not self.run_once():
                self._wake.wait(self.poll_s)
                self._wake.clear()

    def start(self) -> None:
        if self.store.is_sqlite:
            # SQLite is single-process: anything still "processing" belonged to a previous run of
            # this server that died; make it claimable now instead of after its lease.
            n = self.store.expire_leases()
            if n:
                log.info("recovering %d ticket(s) left in processing by a previous run", n)
        self._thread = threading.Thread(target=self.loop, name="triage-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
