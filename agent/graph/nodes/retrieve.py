from __future__ import annotations

from langchain_core.messages import HumanMessage, SystemMessage
from langgraph.runtime import Runtime

from agent.domain import AuditEvent
from agent.graph.context import AgentContext
from agent.graph.llm import LLM_FALLBACK_ERRORS
from agent.graph.prompts import fence, load_prompt
from agent.graph.search_query import search_query
from agent.graph.state import TriageState
from agent.graph.textutil import detect_language

MAX_QUERY_CHARS = 600


def retrieve(state: TriageState, runtime: Runtime[AgentContext]) -> TriageState:
    """Top-k KB articles and L3 root-cause docs for the redacted ticket text.

    When the ticket is in a language the embedder does not rank reliably and an LLM is configured,
    the LLM rewrites it as an English search query and that is searched instead (cross-lingual
    retrieval, with the dense ranking at full weight: the rewrite is English).
    `query_language` is what the policy's `reliable_languages` cap reads, and it stays the ticket's
    language: the rewrite may find better documents, but nothing checks that it says what the ticket
    says (a small model drops or invents half of it), so it never lifts the cap on its own. When the
    embedder is multilingual and measured, the cap goes from the policy, not from here.
    No metadata filter here: a ticket's product hint is often wrong (a payroll admin asking about
    logins), so the whole KB is searched; the store supports filters for callers that want them.
    """
    ctx = runtime.context
    text = state["text"]
    language, _ = detect_language(text)
    reliable = ctx.policy.retrieval.reliable_languages
    query, search_language = search_query(text), language
    rewritten_query: str | None = None
    update: TriageState = {}
    events: list[AuditEvent] = []
    if language not in reliable and "en" in reliable and ctx.llm is not None:
        prompt = load_prompt(ctx.settings.prompts_dir, "search_query")
        data = fence(text)  # the ticket between per-request markers it cannot close
        system, user = prompt.render(ticket=data.text, tag=data.tag)
        update["prompts"] = {prompt.name: prompt.version}
        try:
            rewritten = str(ctx.llm.invoke([SystemMessage(system), HumanMessage(user)]).content).strip()
        except LLM_FALLBACK_ERRORS as exc:
            rewritten = ""
            events.append(AuditEvent(node="retrieve", event="llm_failed", detail={"error": str(exc)[:300]}))
        if rewritten and detect_language(rewritten)[0] == "en":
            query, search_language = rewritten[:MAX_QUERY_CHARS], "en"
            rewritten_query = query
    weight = 1.0 if search_language in reliable else ctx.policy.retrieval.unreliable_dense_weight
    hits = ctx.knowledge.search(query, k=ctx.settings.top_k, dense_weight=weight)
    events.append(
        AuditEvent(
            node="retrieve",
            event="retrieved",
            detail={
                "hits": [{"doc_id": h.doc_id, "score": h.score} for h in hits],
                "query_language": language,
                "search_language": search_language,
                "dense_weight": weight,
                "rewritten_query": rewritten_query,
            },
        )
    )
    # the cap follows the ticket's language, not the rewrite's (see the docstring)
    return {**update, "hits": hits, "query_language": language, "audit": events}
