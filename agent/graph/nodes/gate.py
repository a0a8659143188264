from __future__ import annotations

from langgraph.runtime import Runtime

from agent.domain import ActionPlan, AuditEvent, Finding
from agent.graph.context import AgentContext
from agent.graph.state import TriageState
from tools.actions import ActionContext, NotAllowlistedError, extract_arguments, run_action


def action_plan(state: TriageState) -> ActionPlan | None:
    """The allowlisted action the answering (first cited) document names, with its arguments from the
    deterministic extractors and whether a human must approve it; validated, nothing run."""
    draft = state.get("draft")
    if draft is None or not draft.citations:
        return None
    doc = next((h for h in state.get("hits", []) if h.doc_id == draft.citations[0]), None)
    name = doc.action if doc is not None else None
    if doc is None or not name or name == "none":
        return None
    action_ctx = ActionContext.from_ticket(state["ticket"], linked_rca=state["decision"].linked_issue)
    try:
        got = extract_arguments(name, state["text"], action_ctx)
    except NotAllowlistedError:
        # a KB document may name an action this service cannot run (a typo, or one not built yet):
        # nothing runs, and a human does what the document says instead of the reply going out alone
        why = f"the answering document {doc.doc_id} names action '{name}', which is not on the allowlist"
        return ActionPlan(name=name, doc_id=doc.doc_id, missing=[{"field": "action", "reason": why}])
    if not got.ok:
        return ActionPlan(name=name, doc_id=doc.doc_id, missing=[m.model_dump() for m in got.missing])
    checked = run_action(name, got.arguments or {}, dry_run=True, backend=None, context=action_ctx)
    needs = None
    if checked.status == "needs_approval":
        why = checked.approval.reason if checked.approval else "its approval rule"
        needs = f"action {name} needs a human's approval ({why})"
    return ActionPlan(name=name, doc_id=doc.doc_id, arguments=got.arguments or {}, needs_approval=needs)


def gate(state: TriageState, runtime: Runtime[AgentContext]) -> TriageState:
    """The one gate before anything is sent (Policy.gate, which the eval replay calls too): the checks'
    findings on the draft and the business action's approval rule may turn an auto-resolution into a
    suggestion; the route out of here follows the decision it leaves."""
    decision = state["decision"]
    findings = state.get("findings", [])
    plan = action_plan(state) if decision.action == "auto_resolve" and not findings else None
    if plan is not None and any(m.get("field") == "action" for m in plan.missing):
        why = f"{plan.missing[0]['reason']}: a human must do what it says"
        findings = [*findings, Finding(rule="action_not_allowlisted", why=why)]
    gated = runtime.context.policy.gate(decision, findings, plan.needs_approval if plan else None)
    update: TriageState = {
        "decision": gated,
        "audit": [
            AuditEvent(
                node="gate",
                event=gated.action,
                detail={
                    "was": decision.action,
                    "rules_added": gated.rules[len(decision.rules) :],
                    "action": plan.name if plan else None,
                },
            )
        ],
    }
    if plan is not None:
        update["action"] = plan
    return update
