from __future__ import annotations

from langgraph.runtime import Runtime

from agent.domain import AuditEvent
from agent.graph.context import AgentContext
from agent.graph.state import TriageState
from tools.actions import ActionContext, idempotency_key_for, run_action


def act(state: TriageState, runtime: Runtime[AgentContext]) -> TriageState:
    """Run the business action the gate planned (`action`: the answering document's `action:`).

    Reached on two paths, once per ticket: an auto-resolution (the action needs no approval, or the
    gate would have made it a suggestion), or a suggestion a human approved, whose action waited for
    that approval (`approved_by` = the reviewer). Only allowlisted actions with validated arguments
    run; the arguments come from deterministic extractors (the LLM never picks an action). Missing
    arguments or a failed call leave the reply (the document's self-service steps) as it is and are
    recorded. Without a PayFlow backend (evals, TRIAGE_PAYFLOW_URL unset) it is a dry run. Idempotent:
    the backend dedupes on the Idempotency-Key (ticket+action), so a re-run never acts twice.
    """
    plan = state.get("action")
    decision = state["decision"]
    verdict = state.get("review")
    approved = verdict is not None and verdict.action != "reject" and "action_needs_approval" in decision.rules
    if plan is None or (decision.action != "auto_resolve" and not approved):
        return {}
    ctx = runtime.context
    extra = {"approved_by": verdict.by} if approved and verdict is not None else {}
    detail: dict[str, object] = {"action": plan.name, "doc": plan.doc_id, **extra}
    if plan.arguments is None:
        detail["missing"] = plan.missing
        return {"audit": [AuditEvent(node="act", event="missing_arguments", detail=detail)]}
    action_ctx = ActionContext.from_ticket(state["ticket"], linked_rca=decision.linked_issue, **extra)
    result = run_action(
        plan.name,
        plan.arguments,
        dry_run=ctx.actions is None,
        backend=ctx.actions,
        context=action_ctx,
        idempotency_key=idempotency_key_for(action_ctx, plan.name),
    )
    detail.update(
        {
            "arguments": result.arguments,
            "approval": result.approval.model_dump() if result.approval else None,
            "error": result.error.model_dump() if result.error else None,
            "output": result.output.model_dump(mode="json") if result.output else None,
        }
    )
    return {"audit": [AuditEvent(node="act", event=result.status, detail=detail)]}
