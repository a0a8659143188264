"""Graph wiring only: nodes live in agent/nodes/, decisions in agent/policy.py."""

from __future__ import annotations

from typing import Literal

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from agent.graph.context import AgentContext
from agent.graph.nodes.act import act
from agent.graph.nodes.classify import classify
from agent.graph.nodes.decide import decide
from agent.graph.nodes.draft import draft
from agent.graph.nodes.ground_check import ground_check
from agent.graph.nodes.handoff import handoff
from agent.graph.nodes.redact import redact
from agent.graph.nodes.retrieve import retrieve
from agent.graph.nodes.review import review
from agent.graph.nodes.write_back import write_back
from agent.graph.state import TicketInput, TriageOutput, TriageState


def route_after_decide(state: TriageState) -> Literal["draft", "handoff"]:
    return "handoff" if state["decision"].action == "handoff" else "draft"


def route_after_write_back(state: TriageState) -> Literal["review", "__end__"]:
    """A suggestion nobody has reviewed yet goes to review; everything else is finished."""
    return "review" if state["decision"].action == "suggest" and "review" not in state else "__end__"


def route_after_review(state: TriageState) -> Literal["act", "handoff", "__end__"]:
    """Approved or edited: run an action waiting for approval, write the reply back; rejected: hand
    off; no reviewer (dry run): done."""
    verdict = state.get("review")
    if verdict is None:
        return "__end__"
    return "handoff" if verdict.action == "reject" else "act"


def build_graph(
    checkpointer: BaseCheckpointSaver[str] | None = None,
) -> CompiledStateGraph[TriageState, AgentContext, TicketInput, TriageOutput]:
    g = StateGraph(TriageState, context_schema=AgentContext, input_schema=TicketInput, output_schema=TriageOutput)
    g.add_node(redact)
    g.add_node(retrieve)
    g.add_node(classify)
    g.add_node(decide)
    g.add_node(draft)
    g.add_node(ground_check)
    g.add_node(handoff)
    g.add_node(write_back)
    g.add_node(review)
    g.add_node(act)
    g.add_edge(START, "redact")
    g.add_edge("redact", "retrieve")
    g.add_edge("retrieve", "classify")
    g.add_edge("classify", "decide")
    g.add_conditional_edges("decide", route_after_decide)
    g.add_edge("draft", "ground_check")
    # every decision path ends by writing its outcome back to the ticket's system (a no-op in dry runs);
    # a suggestion then waits for a human (interrupt), and the verdict is written back in its own phase
    g.add_edge("ground_check", "act")  # an auto-resolution's business action, if its document names one
    g.add_edge("act", "write_back")
    g.add_edge("handoff", "write_back")
    g.add_conditional_edges("write_back", route_after_write_back)
    g.add_conditional_edges("review", route_after_review)
    return g.compile(checkpointer=checkpointer)
