from __future__ import annotations

import re

from langgraph.runtime import Runtime

from agent.domain import AuditEvent, Finding
from agent.graph.context import AgentContext
from agent.graph.state import TriageState
from agent.graph.textutil import detect_language

# text the reply puts in double quotes (straight, curly or «guillemets»), e.g. a button label or an
# error message: it claims to come from the docs, so it must be found in a cited one
QUOTED = re.compile(r'"([^"\n]{4,200})"|“([^”\n]{4,200})”|«([^»\n]{4,200})»')


def _norm(text: str) -> str:
    text = re.sub(r"[*`_>]+", " ", text.lower())
    return re.sub(r"\s+", " ", text).strip(" .,:;!?")


def unsupported_quotes(draft_text: str, sources: list[str]) -> list[str]:
    """Quoted spans of the draft that appear in none of the source texts (markup ignored)."""
    haystack = [_norm(t) for t in sources]
    missing: list[str] = []
    for m in QUOTED.finditer(draft_text):
        span = next(g for g in m.groups() if g)
        if not any(_norm(span) in h for h in haystack):
            missing.append(span)
    return missing


def ground_check(state: TriageState, runtime: Runtime[AgentContext]) -> TriageState:
    """Deterministic grounding: the draft cites at least one document, and only retrieved ones;
    every span it puts in quotes appears in a cited document; and it is written in the ticket's
    language.

    It only records what it found (`findings`); the gate decides what that means for the outcome (an
    ungrounded draft is kept for a human but never auto-sent).
    """
    draft = state["draft"]
    retrieved = {h.doc_id for h in state.get("hits", [])}
    valid = [c for c in draft.citations if c in retrieved]
    invented = [c for c in draft.citations if c not in retrieved]
    quotes = unsupported_quotes(draft.text, [runtime.context.knowledge.document_text(d) for d in valid])
    grounded = bool(valid) and not invented and not quotes
    written_in, _ = detect_language(draft.text)
    wrong_language = draft.language in ("en", "uk", "ru") and written_in != draft.language
    problem: tuple[str, str] | None = None  # (rule, why) that stops an auto-send
    if quotes and valid and not invented:
        problem = ("unsupported_quote", f"quotes text not found in the cited documents: {quotes}")
    elif not grounded:
        why = "cites no retrieved document" if not invented else f"cites documents never retrieved: {invented}"
        problem = ("ungrounded_draft", why)
    elif wrong_language:
        problem = ("reply_language_mismatch", f"is in '{written_in}' but the ticket in '{draft.language}'")
    update: TriageState = {
        "draft": draft.model_copy(update={"citations": valid, "grounded": grounded}),
        "audit": [
            AuditEvent(
                node="ground_check",
                event="grounded" if grounded else "ungrounded",
                detail={
                    "valid": valid,
                    "not_retrieved": invented,
                    "unsupported_quotes": quotes,
                    "written_in": written_in,
                    # recorded whatever the decision, so an eval can re-decide under other thresholds
                    "problem": problem[0] if problem else None,
                },
            )
        ],
    }
    update["findings"] = [Finding(rule=problem[0], why=f"draft {problem[1]}")] if problem else []
    return update
