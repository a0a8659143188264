"""Graph state: a narrow input (just the ticket), the full state every node reads and updates, the output."""

from __future__ import annotations

import operator
from typing import Annotated, TypedDict

from agent.domain import (
    ActionPlan,
    AuditEvent,
    Decision,
    Draft,
    Finding,
    HandoffRouting,
    Review,
    Ticket,
    Triage,
    WriteBack,
)
from knowledge.types import Hit


class TicketInput(TypedDict):
    """What a caller gives the graph."""

    ticket: Ticket


class TriageState(TypedDict, total=False):
    ticket: Ticket
    text: str  # subject + body after redaction: the only text any model sees
    redactions: dict[str, int]
    hits: list[Hit]
    query_language: str  # the ticket's language: what the reliable_languages cap reads (a rewrite never changes it)
    triage: Triage
    decision: Decision
    draft: Draft
    findings: list[Finding]  # what the checks of the draft found that stops an automatic send (ground_check)
    action: ActionPlan  # the business action the answering document names, validated, not yet run (gate)
    handoff_note: str
    writeback: WriteBack  # what was written back to the ticket's own system
    review: Review  # a support agent's verdict on a suggested reply
    routing: HandoffRouting  # handoff: queue, tier, engineer, client tier, SLA deadlines
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
    routing: HandoffRouting
    draft: Draft
    findings: list[Finding]
    action: ActionPlan
    handoff_note: str
    writeback: WriteBack
    prompts: dict[str, str]
    redactions: dict[str, int]
    audit: list[AuditEvent]
