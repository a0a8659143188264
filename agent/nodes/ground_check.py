from __future__ import annotations

from agent.domain import AuditEvent
from agent.state import TriageState
from agent.textutil import detect_language


def ground_check(state: TriageState) -> TriageState:
    """Deterministic grounding: the draft cites at least one document, and only retrieved ones,
    and is written in the ticket's language.

    An ungrounded draft is kept for a human but can never be auto-sent: auto_resolve -> suggest.
    """
    draft = state["draft"]
    retrieved = {h.doc_id for h in state.get("hits", [])}
    valid = [c for c in draft.citations if c in retrieved]
    invented = [c for c in draft.citations if c not in retrieved]
    grounded = bool(valid) and not invented
    written_in, _ = detect_language(draft.text)
    wrong_language = draft.language in ("en", "uk", "ru") and written_in != draft.language
    update: TriageState = {
        "draft": draft.model_copy(update={"citations": valid, "grounded": grounded}),
        "audit": [
            AuditEvent(
                node="ground_check",
                event="grounded" if grounded else "ungrounded",
                detail={"valid": valid, "not_retrieved": invented, "written_in": written_in},
            )
        ],
    }
    decision = state["decision"]
    problem: tuple[str, str] | None = None  # (rule, why) that stops an auto-send
    if not grounded:
        why = "cites no retrieved document" if not invented else f"cites documents never retrieved: {invented}"
        problem = ("ungrounded_draft", why)
    elif wrong_language:
        problem = ("reply_language_mismatch", f"is in '{written_in}' but the ticket in '{draft.language}'")
    if problem is not None and decision.action == "auto_resolve":
        rule, why = problem
        update["decision"] = decision.model_copy(
            update={
                "action": "suggest",
                "reason": f"draft {why}; a human must check it",
                "rules": [*decision.rules, rule],
            }
        )
    return update
