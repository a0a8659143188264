"""Graph state: a narrow input (just the ticket) and the full state every node reads and updates."""

from __future__ import annotations

import operator
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, TypedDict

from agent.domain import AuditEvent, Decision, Draft, Hit, Review, Ticket, Triage, WriteBack

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from agent.classifier.model import TriageClassifier
    from agent.policy import Policy
    from agent.settings import Settings
    from knowledge.store import KnowledgeStore
    from tools.actions import ActionBackend
    from tools.ticketing import Ledger, TicketingSystem


class TicketInput(TypedDict):
    """What a caller gives the graph."""

    ticket: Ticket


class TriageState(TypedDict, total=False):
    ticket: Ticket
    text: str  # subject + body after redaction: the only text any model sees
    redactions: dict[str, int]
    hits: list[Hit]
    query_language: str  # the language the knowledge search ran in
    triage: Triage
    decision: Decision
    draft: Draft
    handoff_note: str
    writeback: WriteBack  # what was written back to the ticket's own system
    review: Review  # a support agent's verdict on a suggested reply
    routing: dict[str, Any]  # handoff: queue, tier, engineer, client tier, SLA deadlines (agent/nodes/handoff.py)
    prompts: Annotated[dict[str, str], lambda a, b: {**a, **b}]  # prompt name -> version used
    audit: Annotated[list[AuditEvent], operator.add]


class TriageOutput(TypedDict, total=False):
    """What the graph returns to a caller."""

    text: str  # the redacted ticket text every model saw
    triage: Triage
    hits: list[Hit]
    query_language: str
    decision: Decision
    review: Review
    routing: dict[str, Any]
    draft: Draft
    handoff_note: str
    writeback: WriteBack
    prompts: dict[str, str]
    redactions: dict[str, int]
    audit: list[AuditEvent]


@dataclass(frozen=True)
class AgentContext:
    """Run-time dependencies, passed to nodes by LangGraph (not checkpointed)."""

    settings: Settings
    policy: Policy
    knowledge: KnowledgeStore
    llm: BaseChatModel | None
    classifier: TriageClassifier | None = None
    # write-back: the configured ticketing systems by source name, and the idempotency ledger. Empty /
    # None (evals, run-ticket, tests): a dry run, nothing is written anywhere.
    ticketing: Mapping[str, TicketingSystem] = field(default_factory=dict)
    ledger: Ledger | None = None
    # True in the service (durable checkpointer): a suggested reply pauses the graph for a human
    # (LangGraph interrupt). False in evals and run-ticket: the run ends at the suggestion.
    review: bool = False
    # the PayFlow admin API for business actions (tools/actions); None: actions are dry runs
    actions: ActionBackend | None = None
