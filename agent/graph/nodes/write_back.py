"""write_back: the outcome, written into the ticket's own system (Zendesk, Jira, Freshdesk, YouTrack).

One plan builder per outcome, each a pure function of the state (`park` writes the suggestion before
the review pause; `write_back` writes how the ticket ended, `plan_for` choosing the builder):
- auto_resolve: the grounded reply (public), a triage note (internal), priority, group, tags, resolve;
- suggest: the draft as an internal note for an agent to review (no public reply), priority, group,
  tags; not resolved; after review, the approved reply and resolve (approve/edit) or a handoff (reject);
- handoff: the handoff note (internal), priority, group (and the queue's assignee, if mapped), tags.

Exactly once: every step goes through the ledger keyed by (ticket id, step), and LangGraph re-runs a
node from its start on resume, so a resumed or replayed run skips what is already done and never
posts twice. A step is a claim held by a live owner (`agent.storage.ledger`): a second worker on the
same ticket waits for it instead of writing it again. Every note and reply carries a marker
(`tools.ticketing.plan.marker_for`: `ref triage-<id>-<step>`, a footer line), and a step that was in
flight when its worker died first looks for its marker in the ticketing system, so a comment that
landed before the crash is recorded, not posted again. A ticket whose source has no configured
system (generic, eval, offline, or a system without URL) is skipped with the reason in the audit trail.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, get_args

from langgraph.runtime import Runtime

from agent.domain import PRIORITIES, AuditEvent, Priority, WriteBack, WriteBackStep
from agent.graph.context import AgentContext
from agent.graph.notes import note_text
from agent.graph.state import TriageState
from tools.ticketing import Ledger, SystemName, TicketingSystem, WriteBackPlan, apply

SYSTEMS: tuple[str, ...] = get_args(SystemName)
TAG_PREFIX = "ai-"

Planner = Callable[[TriageState, AgentContext, str], WriteBackPlan]


# ---- pieces shared by every plan ----------------------------------------------------------------
def triage_lines(state: TriageState, ctx: AgentContext) -> list[str]:
    """Category/priority/... with confidences, the decision and why, and the policy version."""
    t = state["triage"]
    d = state["decision"]
    lang = ctx.settings.team_language
    none = note_text("none", lang)
    return [
        note_text(
            "triage",
            lang,
            category=t.category.value,
            category_c=f"{t.category.confidence:.2f}",
            priority=t.priority.value,
            priority_c=f"{t.priority.confidence:.2f}",
            language=t.language.value,
            language_c=f"{t.language.confidence:.2f}",
            sentiment=t.sentiment.value,
            sentiment_c=f"{t.sentiment.confidence:.2f}",
            risk=", ".join(t.risk.value) or none,
            risk_c=f"{t.risk.confidence:.2f}",
            by=t.decided_by,
        ),
        note_text("decision", lang, action=d.action, rules=", ".join(d.rules) or none, reason=d.reason),
        note_text("policy", lang, version=ctx.policy.version, ticket=state["ticket"].id),
    ]


def cited_lines(state: TriageState, language: str = "en") -> list[str]:
    draft = state.get("draft")
    if draft is None or not draft.citations:
        return []
    titles = {h.doc_id: h.title for h in state.get("hits", [])}
    return [note_text("cited", language), *(f"- {c} {titles.get(c, '')}".rstrip() for c in draft.citations)]


def _mapping(ctx: AgentContext, system: str, key: str) -> dict[str, Any]:
    value = ctx.settings.writeback.get(system, {}).get(key)
    return value if isinstance(value, dict) else {}  # pyright: ignore[reportUnknownVariableType]


def group_for(state: TriageState, ctx: AgentContext, system: str) -> str | None:
    """The policy queue, if `[writeback.<system>] groups` maps it (an unmapped queue sets no group:
    most systems reject a group name they do not know)."""
    queue = state["decision"].queue
    return queue if queue and queue in _mapping(ctx, system, "groups") else None


def priority_of(state: TriageState) -> Priority | None:
    value = state["triage"].priority.value
    return next((p for p in PRIORITIES if p == value), None)


def tags_for(state: TriageState, outcome: str) -> list[str]:
    t = state["triage"]
    tags = [f"{TAG_PREFIX}triage", f"{TAG_PREFIX}{outcome}", re.sub(r"[^\w-]+", "_", t.category.value)]
    tags += [f"{TAG_PREFIX}risk-{flag}" for flag in t.risk.value]
    return list(dict.fromkeys(tags))


# ---- one plan per outcome ------------------------------------------------------------------------
def plan_auto_resolve(state: TriageState, ctx: AgentContext, system: str) -> WriteBackPlan:
    ticket = state["ticket"]
    lang = ctx.settings.team_language
    note = [note_text("auto_resolved", lang), *triage_lines(state, ctx), *cited_lines(state, lang)]
    return WriteBackPlan(
        ticket_id=ticket.id,
        external_id=ticket.external_id,
        action="auto_resolve",
        reply=state["draft"].text,
        note="\n".join(note),
        priority=priority_of(state),
        group=group_for(state, ctx, system),
        tags=tags_for(state, "auto-resolved"),
        resolve=True,
    )


def plan_suggest(state: TriageState, ctx: AgentContext, system: str) -> WriteBackPlan:
    ticket = state["ticket"]
    draft = state.get("draft")
    lang = ctx.settings.team_language
    note = [note_text("suggested", lang), *triage_lines(state, ctx), *cited_lines(state, lang)]
    if draft is not None:
        note += ["", note_text("draft_header", lang), draft.text]
    return WriteBackPlan(
        ticket_id=ticket.id,
        external_id=ticket.external_id,
        action="suggest",
        note="\n".join(note),
        priority=priority_of(state),
        group=group_for(state, ctx, system),
        tags=tags_for(state, "suggested"),
        resolve=False,
    )


def plan_handoff(state: TriageState, ctx: AgentContext, system: str) -> WriteBackPlan:
    ticket = state["ticket"]
    routing = state.get("routing")
    queue = routing.queue if routing is not None else state["decision"].queue
    engineer = routing.engineer if routing is not None else None
    assignees = _mapping(ctx, system, "assignees")
    note = state.get("handoff_note")
    lang = ctx.settings.team_language
    if note:
        note += "\n" + note_text("policy", lang, version=ctx.policy.version, ticket=ticket.id)
    else:
        note = "\n".join([note_text("handed_off", lang), *triage_lines(state, ctx)])
    return WriteBackPlan(
        ticket_id=ticket.id,
        external_id=ticket.external_id,
        action="handoff",
        note=note,
        priority=priority_of(state),
        group=queue if queue and queue in _mapping(ctx, system, "groups") else None,
        tags=tags_for(state, "handoff"),
        # the on-shift engineer routing chose, else the queue's person, when [writeback.<system>]
        # assignees maps the name to the system's user id
        assignee=engineer if engineer in assignees else (queue if queue in assignees else None),
        resolve=False,
    )


def plan_reviewed(state: TriageState, ctx: AgentContext, system: str) -> WriteBackPlan:
    """After a support agent approved (or edited) the suggestion: the reply as they approved it, a
    note saying who, resolved. Its own ledger key (`<id>:approved`), so its note is not mistaken for
    the suggestion's note already written."""
    ticket = state["ticket"]
    verdict = state["review"]
    edited = verdict.action == "edit"
    lang = ctx.settings.team_language
    note = [note_text("edited_approved" if edited else "approved", lang, by=verdict.by), *cited_lines(state, lang)]
    return WriteBackPlan(
        ticket_id=f"{ticket.id}:approved",
        external_id=ticket.external_id,
        action="suggest_approved",
        reply=state["draft"].text,
        note="\n".join(note),
        tags=[f"{TAG_PREFIX}reviewed", f"{TAG_PREFIX}{'edited' if edited else 'approved'}"],
        resolve=True,
    )


def plan_rejected(state: TriageState, ctx: AgentContext, system: str) -> WriteBackPlan:
    """After a support agent rejected the suggestion: a handoff, under its own ledger key."""
    plan = plan_handoff(state, ctx, system)
    return plan.model_copy(
        update={"ticket_id": f"{state['ticket'].id}:rejected", "tags": [*plan.tags, f"{TAG_PREFIX}rejected"]}
    )


def run_plan(plan: WriteBackPlan, system: TicketingSystem, ledger: Ledger, runs: int = 1) -> WriteBack:
    """Apply the plan (never raises for a write-back failure) and describe the outcome."""
    report = apply(plan, system, ledger)
    failed = report.failed
    return WriteBack(
        status="done" if report.ok else "failed",
        system=system.name,
        external_id=plan.external_id,
        failed_step=failed.step if failed else None,
        retryable=failed.retryable if failed else None,
        error=failed.error if failed else None,
        steps=[WriteBackStep(step=o.step, status=o.status, error=o.error) for o in report.outcomes],
        runs=runs,
        plan=plan,
    )


def writeback_event(writeback: WriteBack, node: str = "write_back", **extra: Any) -> AuditEvent:
    detail: dict[str, Any] = {
        "system": writeback.system,
        "external_id": writeback.external_id,
        "steps": {s.step: s.status for s in writeback.steps},
        **extra,
    }
    if writeback.status == "skipped":
        detail["reason"] = writeback.reason
    if writeback.status == "failed":
        detail.update(failed_step=writeback.failed_step, retryable=writeback.retryable, error=writeback.error)
    event = {"done": "written", "failed": "failed", "skipped": "skipped"}[writeback.status]
    return AuditEvent(node=node, event=event, detail=detail)


def skip_reason(ctx: AgentContext, source: str) -> str:
    if ctx.ledger is None:
        return "dry run: this run writes nothing back (evals, run-ticket)"
    if not ctx.settings.writeback_enabled:
        return "write-back is switched off (TRIAGE_WRITEBACK_ENABLED=false)"
    if source in SYSTEMS:
        return f"{source} write-back is not configured: set TRIAGE_{source.upper()}_URL and its credentials"
    return f"source {source!r} is not a ticketing system we write back to ({', '.join(SYSTEMS)})"


def plan_for(state: TriageState, ctx: AgentContext, system: str) -> WriteBackPlan:
    """The final write-back of a ticket, by how it ended: auto-resolved, handed off, or a suggestion a
    human approved (or edited) or rejected. (The suggestion itself was written by `park`.)"""
    verdict = state.get("review")
    if verdict is not None:
        return plan_rejected(state, ctx, system) if verdict.action == "reject" else plan_reviewed(state, ctx, system)
    if state["decision"].action == "auto_resolve":
        return plan_auto_resolve(state, ctx, system)
    return plan_handoff(state, ctx, system)


def _write(state: TriageState, ctx: AgentContext, planner: Planner) -> TriageState:
    ticket = state["ticket"]
    system = ctx.ticketing.get(ticket.source)
    if system is None or ctx.ledger is None:
        skipped = WriteBack(status="skipped", reason=skip_reason(ctx, ticket.source), external_id=ticket.external_id)
        return {"writeback": skipped, "audit": [writeback_event(skipped, source=ticket.source)]}
    plan = planner(state, ctx, system.name)
    result = run_plan(plan, system, ctx.ledger)
    extra: dict[str, Any] = {"action": plan.action}
    if plan.group is None and state["decision"].queue:
        extra["group_not_set"] = f"queue {state['decision'].queue!r} has no entry in [writeback.{system.name}] groups"
    return {"writeback": result, "audit": [writeback_event(result, **extra)]}


def park(state: TriageState, runtime: Runtime[AgentContext]) -> TriageState:
    """A suggestion, written into the ticket before it waits for review: the draft as an internal note,
    priority, group, tags (nothing public). Its own node, so the review's resume never re-runs it."""
    return _write(state, runtime.context, plan_suggest)


def write_back(state: TriageState, runtime: Runtime[AgentContext]) -> TriageState:
    """Write how the ticket ended back to its system, each step exactly once (see the module doc)."""
    return _write(state, runtime.context, plan_for)
