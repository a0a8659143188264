"""Assembles the agent (settings -> policy, knowledge, LLM, graph) and runs tickets through it."""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.types import Command
from sqlalchemy.engine import Engine, make_url

from agent import domain
from agent.domain import Review, Ticket, utcnow
from agent.graph.classifier.model import MANIFEST, TriageClassifier
from agent.graph.context import AgentContext
from agent.graph.graph import build_graph
from agent.graph.llm import make_chat_model
from agent.graph.policy import load_policy
from agent.graph.state import TriageState
from agent.metrics import NodeTimer, count_outcome, timed_ticket
from agent.runtime.writeback import open_writeback
from agent.settings import Settings
from knowledge.embeddings import get_embedder
from knowledge.store import KnowledgeStore
from knowledge.types import Hit
from tools.actions import ActionBackend, PayFlowClient, PayFlowConfig
from tools.ticketing import WriteBackPlan

if TYPE_CHECKING:
    from langgraph.checkpoint.postgres import PostgresSaver

log = logging.getLogger(__name__)


# the only types a checkpoint may rebuild (LangGraph's msgpack allowlist): our own, by module
_CHECKPOINTED = (
    domain.Ticket, domain.Customer, domain.Triage, domain.Scored, domain.Decision, domain.Draft, domain.Citation,
    domain.AuditEvent, domain.WriteBack, domain.WriteBackStep, domain.Review, domain.Finding, domain.ActionPlan,
    domain.HandoffRouting, Hit, WriteBackPlan,
)  # fmt: skip
CHECKPOINT_TYPES: tuple[tuple[str, str], ...] = tuple((t.__module__, t.__name__) for t in _CHECKPOINTED)


def open_knowledge(settings: Settings) -> KnowledgeStore:
    embedder = get_embedder(settings.embedder, settings.embedder_threads)
    return KnowledgeStore(
        settings.chroma_path, embedder, settings.collection, settings.chunk_chars, settings.chroma_url
    )


def open_actions(settings: Settings) -> ActionBackend | None:
    """The PayFlow admin API client for business actions, when TRIAGE_PAYFLOW_URL is set."""
    if not settings.payflow_url:
        return None
    if settings.payflow_token is None:
        raise ValueError("TRIAGE_PAYFLOW_URL is set but TRIAGE_PAYFLOW_TOKEN is not: set both, or neither")
    return PayFlowClient(PayFlowConfig(base_url=settings.payflow_url, token=settings.payflow_token))


def load_classifier(settings: Settings) -> TriageClassifier | None:
    """The trained classifier at `classifier_path`, or None when none was trained (the service then
    triages with the LLM, or nearest-doc). A corrupt or mismatched artefact is an error, not a None:
    silently dropping to a worse path would hide it."""
    if not (settings.classifier_path / MANIFEST).exists():
        log.warning(
            "no trained classifier at %s; run `triage train` (triage falls back to the LLM)", settings.classifier_path
        )
        return None
    clf = TriageClassifier.load(settings.classifier_path)
    log.info("loaded classifier %s (fields %s)", clf.version, ", ".join(clf.fields))
    return clf


def check_labels(ctx: AgentContext) -> list[str]:
    """Warn (once, at start) when the classifier's categories are not the policy's: such labels are
    never used for routing, the LLM decides instead. Returns the unknown labels."""
    if ctx.classifier is None or "category" not in ctx.classifier.fields:
        return []
    fm = ctx.classifier.fields["category"]
    unknown = sorted(set(fm.labels) - set(ctx.policy.categories) - {fm.oos_label or ""})
    if unknown:
        log.warning(
            "classifier %s has categories the policy does not define (%s); tickets predicted as those "
            "are classified by the LLM instead. Add them to %s or retrain.",
            ctx.classifier.version,
            ", ".join(unknown[:10]) + (" ..." if len(unknown) > 10 else ""),
            ctx.settings.policy_file,
        )
    return unknown


def checkpoint_serde() -> JsonPlusSerializer:
    """Only our own domain types may be rebuilt from a checkpoint (LangGraph's msgpack allowlist)."""
    return JsonPlusSerializer(allowed_msgpack_modules=list(CHECKPOINT_TYPES))


def sqlite_checkpointer(settings: Settings) -> SqliteSaver:
    settings.checkpoint_path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(settings.checkpoint_path), check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    return SqliteSaver(conn, serde=checkpoint_serde())


def is_postgres(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


def libpq_url(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL (`postgresql+psycopg://...`) as a libpq connection URI, query
    options (such as `options=-csearch_path=...`) kept."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


_SETUP_LOCK = 0x7472_6961_6765  # pg_advisory_lock key: one process at a time runs the saver's migrations


def postgres_checkpointer(settings: Settings) -> PostgresSaver:
    """LangGraph's PostgresSaver on the tickets' database (`settings.db_url`), over a psycopg pool of
    `checkpoint_pool_size` connections, its tables created or migrated first (under an advisory lock,
    so workers starting together do not race). Every worker then resumes any ticket's checkpoint."""
    from langgraph.checkpoint.postgres import PostgresSaver
    from psycopg.rows import dict_row
    from psycopg_pool import ConnectionPool

    pool: ConnectionPool[Any] = ConnectionPool(
        libpq_url(settings.db_url),
        min_size=1,
        max_size=max(2, settings.checkpoint_pool_size),  # setup() takes a second one while we hold the lock
        kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
        open=True,
        name="triage-checkpoints",
    )
    saver = PostgresSaver(pool, serde=checkpoint_serde())
    try:
        with pool.connection() as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (_SETUP_LOCK,))
            try:
                saver.setup()
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (_SETUP_LOCK,))
    except BaseException:
        pool.close()
        raise
    return saver


def open_checkpointer(settings: Settings) -> BaseCheckpointSaver[str]:
    """Where paused and crashed runs are kept: PostgreSQL (shared by every process) when the tickets
    are there, else the embedded SQLite file (`checkpoint_path`, one process)."""
    return postgres_checkpointer(settings) if is_postgres(settings.db_url) else sqlite_checkpointer(settings)


def close_checkpointer(saver: BaseCheckpointSaver[str] | None) -> None:
    conn = getattr(saver, "conn", None)
    if conn is not None and hasattr(conn, "close"):
        conn.close()  # the psycopg pool, or the sqlite3 connection


@dataclass
class Agent:
    """A compiled graph with its run-time context."""

    context: AgentContext
    checkpointer: BaseCheckpointSaver[str] | None = None

    def __post_init__(self) -> None:
        self.graph = build_graph(self.checkpointer)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        durable: bool = True,
        llm: str | None = None,
        writeback: bool = False,
        engine: Engine | None = None,
    ) -> Agent:
        """`writeback=True` (the service's worker) writes outcomes back to the configured ticketing
        systems, with the idempotency ledger on the ticket store's database (`engine`, else
        `settings.db_url`); the default is a dry run (evals, run-ticket, tests)."""
        ticketing, ledger = open_writeback(settings, engine) if writeback else ({}, None)
        knowledge = open_knowledge(settings)
        knowledge.check_index()  # another embedder's index: stop here, saying to run `triage kb ingest`
        ctx = AgentContext(
            settings=settings,
            policy=load_policy(settings.policy_file),
            knowledge=knowledge,
            llm=make_chat_model(llm or settings.llm, settings),
            classifier=load_classifier(settings),
            ticketing=ticketing,
            ledger=ledger,
            review=durable,  # pausing for a human needs the checkpointer to resume from
            actions=open_actions(settings) if writeback else None,
        )
        check_labels(ctx)
        return cls(ctx, open_checkpointer(settings) if durable else None)

    def close(self) -> None:
        """Close the write-back clients (HTTP connection pools) and the checkpointer's connections."""
        for system in self.context.ticketing.values():
            system.close()
        close_checkpointer(self.checkpointer)

    def run(self, ticket: Ticket, review: Review | None = None) -> TriageState:
        """Run (or resume, with a checkpointer) the graph for one ticket; return its state, which is
        final unless the graph paused for a human review (`waiting_for_review` says so).

        `review`: a support agent's verdict, resuming a graph paused at `review`."""
        with timed_ticket():
            state = self._run(ticket, review)
        decision, writeback = state.get("decision"), state.get("writeback")
        failed = writeback is not None and writeback.status == "failed"
        count_outcome(
            decision.action if decision is not None and not self.waiting_for_review(ticket.id) else None,
            writeback.system if writeback is not None else None,
            failed,
            writeback.retryable if writeback is not None else None,
        )
        return state

    def _run(self, ticket: Ticket, review: Review | None) -> TriageState:
        if self.checkpointer is None:
            state: Any = self.graph.invoke({"ticket": ticket}, {"callbacks": [NodeTimer()]}, context=self.context)
            return state
        config: Any = {"configurable": {"thread_id": ticket.id}, "callbacks": [NodeTimer()]}
        snap = self.graph.get_state(config)
        # Which branch is read from the checkpoint's *tasks*, not from `snap.next`: a live snapshot
        # leaves out of `next` the tasks whose writes were saved, so a run killed between a node's
        # saved writes and the next checkpoint has `next == ()` although it never finished. Taking
        # that for "finished" ended tickets without a decision (or without their write-back).
        if snap.created_at is None:  # never run
            self.graph.invoke({"ticket": ticket}, config, context=self.context)
        elif snap.interrupts:  # paused for a human: resume only with their verdict
            if review is not None:
                self.graph.invoke(Command(resume=review.model_dump(mode="json")), config, context=self.context)
        elif snap.tasks:  # interrupted half-way (crash): resume from the last checkpoint and its saved writes
            self.graph.invoke(None, config, context=self.context)
        final: Any = self.graph.get_state(config).values
        if "decision" not in final and not self.waiting_for_review(ticket.id):
            # should not happen any more (see above); kept as a safety net: run the ticket again from its
            # input on the same thread (the write-back ledger keeps every step exactly once)
            log.warning("ticket %s: its checkpoint resumed without a decision; running it again", ticket.id)
            self.graph.invoke({"ticket": ticket}, config, context=self.context)
            final = self.graph.get_state(config).values
        return final

    def waiting_for_review(self, ticket_id: str) -> bool:
        if self.checkpointer is None:
            return False
        snap = self.graph.get_state({"configurable": {"thread_id": ticket_id}})
        return bool(snap.interrupts)


# ---- bounded growth: checkpoints of finished tickets --------------------------------------------
PRUNABLE: tuple[str, ...] = ("done", "handed_off", "failed")  # never awaiting_review, writeback_failed, queued


@dataclass(frozen=True)
class PruneReport:
    """What `prune_checkpoints` removed (or, in a dry run, would remove)."""

    tickets: int  # finished tickets past the retention period that had checkpoints
    checkpoints: int  # checkpoint rows among them
    writes: int  # pending-write rows among them
    cutoff: datetime
    dry_run: bool


def _count_rows(saver: BaseCheckpointSaver[str], table: str, ids: list[str]) -> dict[str, int]:
    """Rows of the saver's `table` per thread id (both savers name their tables and thread column alike)."""
    if not ids:
        return {}
    marks = ",".join(["?" if isinstance(saver, SqliteSaver) else "%s"] * len(ids))
    query = f"SELECT thread_id, count(*) AS n FROM {table} WHERE thread_id IN ({marks}) GROUP BY thread_id"
    if isinstance(saver, SqliteSaver):
        with saver.lock:
            rows = saver.conn.execute(query, ids).fetchall()
        return {str(t): int(n) for t, n in rows}
    conn: Any = getattr(saver, "conn")  # noqa: B009 - the PostgresSaver's psycopg pool
    with conn.connection() as c:
        return {str(r["thread_id"]): int(r["n"]) for r in c.execute(query, ids).fetchall()}


def prune_checkpoints(
    settings: Settings, engine: Engine, *, older_than_days: float, dry_run: bool = False, batch: int = 500
) -> PruneReport:
    """Delete the LangGraph checkpoints (and their pending writes) of tickets finished (done, handed
    off, failed) more than `older_than_days` ago, on whichever checkpointer the settings select. A
    finished ticket never resumes again: its result, audit and ledger live in the tickets' database.
    Paused (awaiting review), queued, in-flight and write-back-failed tickets are never touched."""
    from sqlalchemy import select

    from agent.storage.tickets import TicketRow

    cutoff = utcnow() - timedelta(days=older_than_days)
    with engine.connect() as conn:
        ids = [
            str(i)
            for i in conn.scalars(
                select(TicketRow.id).where(TicketRow.status.in_(PRUNABLE), TicketRow.updated_at < cutoff)
            )
        ]
    saver = open_checkpointer(settings)
    tickets = checkpoints = writes = 0
    try:
        for start in range(0, len(ids), batch):
            chunk = ids[start : start + batch]
            ck, wr = (
                _count_rows(saver, "checkpoints", chunk),
                _count_rows(saver, "writes" if isinstance(saver, SqliteSaver) else "checkpoint_writes", chunk),
            )
            found = sorted(set(ck) | set(wr))
            tickets += len(found)
            checkpoints += sum(ck.values())
            writes += sum(wr.values())
            if not dry_run:
                for thread_id in found:
                    saver.delete_thread(thread_id)
    finally:
        close_checkpointer(saver)
    return PruneReport(tickets, checkpoints, writes, cutoff, dry_run)
