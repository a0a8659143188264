"""Run-time dependencies of the graph, passed to every node by LangGraph (never checkpointed).

Typed against interfaces, so a unit test can hand in fakes: `knowledge.types.Retriever`
(`knowledge.testing.InMemoryRetriever`), a LangChain chat model (`agent.graph.testing.ScriptedChatModel`),
`tools.ticketing.TicketingSystem` and its ledger, `tools.actions.ActionBackend`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from agent.graph.classifier.model import TriageClassifier
    from agent.graph.policy import Policy
    from agent.settings import Settings
    from knowledge.types import Retriever
    from tools.actions import ActionBackend
    from tools.ticketing import Ledger, TicketingSystem


@dataclass(frozen=True)
class AgentContext:
    """Run-time dependencies, passed to nodes by LangGraph (not checkpointed)."""

    settings: Settings
    policy: Policy
    knowledge: Retriever
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
