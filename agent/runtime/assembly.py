"""Assembles the agent (settings -> policy, knowledge, LLM, graph) and runs tickets through it."""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.types import Command
from sqlalchemy.engine import Engine

from agent import domain
from agent.domain import Review, Ticket
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
    return KnowledgeStore(settings.chroma_path, embedder, settings.collection, settings.chunk_chars)


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


def sqlite_checkpointer(settings: Settings) -> SqliteSaver:
    settings.checkpoint_path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(settings.checkpoint_path), check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    # Only our own domain types may be rebuilt from a checkpoint (LangGraph's msgpack allowlist).
    return SqliteSaver(conn, serde=JsonPlusSerializer(allowed_msgpack_modules=list(CHECKPOINT_TYPES)))


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
        return cls(ctx, sqlite_checkpointer(settings) if durable else None)

    def close(self) -> None:
        """Close the write-back clients (HTTP connection pools)."""
        for system in self.context.ticketing.values():
            system.close()

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
        if not snap.values:
            self.graph.invoke({"ticket": ticket}, config, context=self.context)
        elif snap.interrupts:  # paused for a human: resume only with their verdict
            if review is not None:
                self.graph.invoke(Command(resume=review.model_dump(mode="json")), config, context=self.context)
        elif snap.next:  # interrupted half-way (crash): resume from the last checkpoint
            self.graph.invoke(None, config, context=self.context)
        final: Any = self.graph.get_state(config).values
        if "decision" not in final and not self.waiting_for_review(ticket.id):
            # a checkpoint left by a kill -9 that resumes to an end without a decision (seen in the
            # durability test, rarely): run the ticket again from its input on the same thread (the
            # write-back ledger keeps every step exactly once)
            log.warning("ticket %s: its checkpoint resumed without a decision; running it again", ticket.id)
            self.graph.invoke({"ticket": ticket}, config, context=self.context)
            final = self.graph.get_state(config).values
        return final

    def waiting_for_review(self, ticket_id: str) -> bool:
        if self.checkpointer is None:
            return False
        snap = self.graph.get_state({"configurable": {"thread_id": ticket_id}})
        return bool(snap.interrupts)
