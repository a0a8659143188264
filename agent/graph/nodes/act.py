from __future__ import annotations

from langgraph.runtime import Runtime

from agent.domain import AuditEvent
from agent.graph.context import AgentContext
from agent.graph.state import TriageState
from tools.actions import ActionContext, extract_arguments, idempotency_key_for, run_action


def act(state: TriageState, runtime: Runtime[AgentContext]) -> TriageState:
    """Run the business action the answering document names (`action:` in its front matter).

    - Only allowlisted actions with validated arguments run; the arguments come from deterministic
      extractors over the redacted text and the ticket's metadata (the LLM never picks an action).
    - Auto-resolution: an action whose approval rule says `auto` runs; one that needs approval turns
      the ticket into a suggestion (rule `action_needs_approval`), and runs when a human approves
      the reply (`approved_by` = the reviewer). Missing arguments or a failed call leave the reply
      (the document's self-service steps) as it is and are recorded in the audit trail.
    - Without a PayFlow backend (evals, or TRIAGE_PAYFLOW_URL unset) it is a dry run: validated and
      recorded, not executed. Idempotent: the backend dedupes on the Idempotency-Key (ticket+action),
      so a re-run node (resume) never acts twice.
    """
    decision = state["decision"]
    draft = state.get("draft")
    verdict = state.get("review")
    approved = verdict is not None and verdict.action != "reject" and "action_needs_approval" in decision.rules
    if (decision.action != "auto_resolve" and not approved) or draft is None or not draft.citations:
        return {}
    by_id = {h.doc_id: h for h in state.get("hits", [])}
    doc = by_id.get(draft.citations[0])
    name = doc.action if doc is not None else None
    if not name or name == "none":
        return {}
    ctx = runtime.context
    ticket = state["ticket"]
    extra = {"approved_by": verdict.by} if approved and verdict is not None else {}
    action_ctx = ActionContext.from_ticket(ticket, linked_rca=decision.linked_issue, **extra)
    got = extract_arguments(name, state["text"], action_ctx)
    detail: dict[str, object] = {"action": name, "doc": doc.doc_id if doc else None, **extra}
    if not got.ok:
        detail["missing"] = [m.model_dump() for m in got.missing]
        return {"audit": [AuditEvent(node="act", event="missing_arguments", detail=detail)]}
    result = run_action(
        name,
        got.arguments or {},
        dry_run=ctx.actions is None,
        backend=ctx.actions,
        context=action_ctx,
        idempotency_key=idempotency_key_for(action_ctx, name),
    )
    detail.update(
        {
            "arguments": result.arguments,
            "approval": result.approval.model_dump() if result.approval else None,
            "error": result.error.model_dump() if result.error else None,
            "output": result.output.model_dump(mode="json") if result.output else None,
        }
    )
    update: TriageState = {"audit": [AuditEvent(node="act", event=result.status, detail=detail)]}
    if result.status == "needs_approval" and decision.action == "auto_resolve":
        why = result.approval.reason if result.approval else "its approval rule"
        update["decision"] = decision.model_copy(
            update={
                "action": "suggest",
                "reason": f"action {name} needs a human's approval ({why}); approving the reply runs it",
                "rules": [*decision.rules, "action_needs_approval"],
            }
        )
    return update
