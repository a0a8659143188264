"""Graph wiring only: the path a ticket takes reads from here. Nodes live in agent/graph/nodes/ (each
runs at most once per ticket), decisions in agent/graph/policy.py.

    redact -> retrieve -> classify -> decide
      decide: handoff -------------------------------------------------> handoff -> write_back
      decide: auto_resolve | suggest -> draft -> ground_check -> gate
        gate: auto_resolve -> act -> write_back
        gate: suggest -> park -> review (paused for a human)
                                   review: approve | edit -> act -> write_back
                                   review: reject --------------------> handoff -> write_back
                                   review: nobody to ask (dry run) -> end
        gate: handoff -----------------------------------------------> handoff -> write_back
"""

from __future__ import annotations

from typing import Literal

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import RetryPolicy

from agent.errors import is_transient
from agent.graph.context import AgentContext
from agent.graph.nodes.act import act
from agent.graph.nodes.classify import classify
from agent.graph.nodes.decide import decide
from agent.graph.nodes.draft import draft
from agent.graph.nodes.gate import gate
from agent.graph.nodes.ground_check import ground_check
from agent.graph.nodes.handoff import handoff
from agent.graph.nodes.redact import redact
from agent.graph.nodes.retrieve import retrieve
from agent.graph.nodes.review import review
from agent.graph.nodes.write_back import park, write_back
from agent.graph.state import TicketInput, TriageOutput, TriageState

# Retried in place, only for what may pass (agent/errors.py): the knowledge store or the database
# hiccuping. LLM failures are not here: the nodes that call the LLM fall back instead of waiting.
TRANSIENT = RetryPolicy(max_attempts=3, initial_interval=0.5, backoff_factor=2.0, retry_on=is_transient)


def route_after_decide(state: TriageState) -> Literal["draft", "handoff"]:
    return "handoff" if state["decision"].action == "handoff" else "draft"


def route_after_gate(state: TriageState) -> Literal["act", "park", "handoff"]:
    action = state["decision"].action
    return "act" if action == "auto_resolve" else "park" if action == "suggest" else "handoff"


def route_after_review(state: TriageState) -> Literal["act", "handoff", "__end__"]:
    """Approved or edited: run an action that waited for approval, write the reply back; rejected:
    hand off; nobody to ask (a dry run): done."""
    verdict = state.get("review")
    if verdict is None:
        return "__end__"
    return "handoff" if verdict.action == "reject" else "act"


def build_graph(
    checkpointer: BaseCheckpointSaver[str] | None = None,
) -> CompiledStateGraph[TriageState, AgentContext, TicketInput, TriageOutput]:
    g = StateGraph(TriageState, context_schema=AgentContext, input_schema=TicketInput, output_schema=TriageOutput)
    g.add_node(redact)
    g.add_node(retrieve, retry_policy=TRANSIENT)
    g.add_node(classify)
    g.add_node(decide)
    g.add_node(draft, retry_policy=TRANSIENT)
    g.add_node(ground_check, retry_policy=TRANSIENT)
    g.add_node(gate)
    g.add_node(act)
    g.add_node(park, retry_policy=TRANSIENT)
    g.add_node(review)
    g.add_node(handoff)
    g.add_node(write_back, retry_policy=TRANSIENT)
    g.add_edge(START, "redact")
    g.add_edge("redact", "retrieve")
    g.add_edge("retrieve", "classify")
    g.add_edge("classify", "decide")
    g.add_conditional_edges("decide", route_after_decide)
    g.add_edge("draft", "ground_check")
    g.add_edge("ground_check", "gate")
    g.add_conditional_edges("gate", route_after_gate)
    g.add_edge("act", "write_back")
    g.add_edge("park", "review")
    g.add_conditional_edges("review", route_after_review)
    g.add_edge("handoff", "write_back")
    g.add_edge("write_back", END)
    return g.compile(checkpointer=checkpointer)
