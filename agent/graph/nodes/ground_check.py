from __future__ import annotations

import re

from langgraph.runtime import Runtime

from agent.domain import AuditEvent, Finding
from agent.graph.checks import GROUNDING_RULES, asks, content_findings, reply_language
from agent.graph.checks.coverage import ALONE_RANK, COVER_RANK, MAX_ASKS, AskSearch
from agent.graph.context import AgentContext
from agent.graph.nodes.draft import translation_id
from agent.graph.prompts import load_prompt
from agent.graph.state import TriageState
from agent.graph.textutil import detect_language
from knowledge.types import Hit

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
    """Deterministic checks of the draft before anything is sent (agent/graph/checks):
    grounding (it cites at least one document, and only retrieved ones; every span it puts in
    quotes appears in a cited document), then content: every URL, e-mail, phone, amount, date,
    menu path and error code in it is in a cited document (or, for a date or code the customer gave,
    in the ticket); it echoes neither the ticket nor the prompt; its own language is the ticket's;
    every question the ticket asks is answered by a cited document; the answering document's
    category is the triaged one; no error code or quoted message of the ticket is in another retrieved
    document and in no cited one.

    It only records what it found (`findings`, one per rule broken, all of them in the audit); the
    gate decides what that means for the outcome (a draft with findings is kept for a human but never
    auto-sent).
    """
    ctx = runtime.context
    draft = state["draft"]
    hits = state.get("hits", [])
    text = state["text"]
    retrieved = {h.doc_id for h in hits}
    valid = [c for c in draft.citations if c in retrieved]
    invented = [c for c in draft.citations if c not in retrieved]
    titles = {h.doc_id: h.title for h in hits}
    # each cited document as the draft prompt showed it: its title, then its text
    docs = [f"{titles.get(d, '')}\n\n{ctx.knowledge.document_text(d)}".strip() for d in valid]
    # and each one's version in the draft's language, which the draft was written from (KB-009.uk)
    docs += [t for d in valid if (t := ctx.knowledge.document_text(translation_id(d, draft.language)))]
    quotes = unsupported_quotes(draft.text, docs)
    findings: list[Finding] = []
    if draft.truncated:
        findings.append(
            Finding(
                rule="draft_truncated",
                why="the model stopped at its token limit mid-reply (TRIAGE_LLM_MAX_TOKENS): the draft may be cut off",
            )
        )
    if quotes and valid and not invented:
        findings.append(
            Finding(rule="unsupported_quote", why=f"draft quotes text not found in the cited documents: {quotes}")
        )
    elif not valid or invented:
        why = "cites no retrieved document" if not invented else f"cites documents never retrieved: {invented}"
        findings.append(Finding(rule="ungrounded_draft", why=f"draft {why}"))

    # what the ticket asks, and the documents a search for each puts first (the coverage check)
    reliable = ctx.policy.retrieval.reliable_languages
    top_docs: dict[str, list[str]] = {}
    searches: dict[str, AskSearch] = {}

    def search(query: str, k: int, weight: float) -> list[Hit]:
        return ctx.knowledge.search(query, k=k, dense_weight=weight)

    for ask in asks(text)[:MAX_ASKS]:
        weight = 1.0 if detect_language(ask.text)[0] in reliable else ctx.policy.retrieval.unreliable_dense_weight
        found = search(ask.search_text, ALONE_RANK if not ask.query else COVER_RANK, weight)
        top_docs[ask.text] = [h.doc_id for h in found]
        if not set(valid) & set(top_docs[ask.text][:COVER_RANK]):
            # the subject and evidence rules (agent/graph/checks/coverage.py): the ask with the subject,
            # and its words alone (with both rankings' verdict on their first document)
            alone = found if not ask.query else search(ask.text, ALONE_RANK, weight)
            agreed = alone[0].doc_id if alone and alone[0].dense_rank == 1 and alone[0].lexical_rank == 1 else None
            first = tuple(h.doc_id for h in search(ask.subject_text, 1, weight)) if ask.subject_text else ()
            searches[ask.text] = AskSearch(
                first=first,
                alone=tuple(h.doc_id for h in alone),
                agreed=agreed,
                topic=alone[0].category if len(alone) > 1 and alone[0].category == alone[1].category else None,
            )
    prompt_texts: list[str] = []
    if draft.generated_by == "llm":
        prompt = load_prompt(ctx.settings.prompts_dir, "draft")
        prompt_texts = [prompt.system, prompt.user]
    answering = next((h for h in hits if valid and h.doc_id == valid[0]), None)
    # the other retrieved documents, as whole texts in both versions (the customer's evidence check)
    others = {
        h.doc_id: "\n\n".join(
            t
            for t in (
                h.title,
                ctx.knowledge.document_text(h.doc_id),
                ctx.knowledge.document_text(translation_id(h.doc_id, draft.language)),
            )
            if t
        )
        for h in hits
        if h.doc_id not in valid
    }
    findings += content_findings(
        draft.text,
        docs,
        text,
        language=draft.language,
        prompt_texts=prompt_texts,
        cited_ids=valid,
        top_docs=top_docs,
        searches=searches,
        answer_category=answering.category if answering is not None else None,
        triaged_category=state["triage"].category.value if answering is not None else None,
        other_doc_texts=others,
    )
    # grounded: everything the draft states comes from its sources (what it says in which language,
    # and whether it answers everything asked, are findings too, but not about grounding)
    grounded = not any(f.rule in GROUNDING_RULES for f in findings)
    written_in = reply_language(draft.text, docs, text)
    return {
        "draft": draft.model_copy(update={"citations": valid, "grounded": grounded}),
        "findings": findings,
        "audit": [
            AuditEvent(
                node="ground_check",
                event="grounded" if grounded else "ungrounded",
                detail={
                    "valid": valid,
                    "not_retrieved": invented,
                    "unsupported_quotes": quotes,
                    "written_in": written_in,
                    # recorded whatever the decision, so an eval can re-decide under other thresholds;
                    # the text is the redacted one, so nothing here is a secret
                    "problem": findings[0].rule if findings else None,
                    "findings": [f.model_dump() for f in findings],
                    "asks": [
                        {"text": a[:120], "top": d}
                        | (
                            {
                                "with_subject": list(searches[a].first),
                                "alone": list(searches[a].alone),
                                "agreed": searches[a].agreed,
                                "topic": searches[a].topic,
                            }
                            if a in searches
                            else {}
                        )
                        for a, d in top_docs.items()
                    ],
                },
            )
        ],
    }
