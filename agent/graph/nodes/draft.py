from __future__ import annotations

import re
from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage
from langgraph.runtime import Runtime

from agent.domain import AuditEvent, Draft
from agent.graph.context import AgentContext
from agent.graph.llm import LLM_FALLBACK_ERRORS
from agent.graph.prompts import fence, load_prompt
from agent.graph.state import TriageState
from knowledge.types import Hit, Retriever

LANGUAGE_NAMES = {"en": "English", "uk": "Ukrainian", "ru": "Russian"}
CITATION = re.compile(r"\[([A-Za-z0-9][A-Za-z0-9_.\-]*)\]")
# A bracketed token counts as a (possibly invented) citation only if it looks like a doc id
# ("KB-009", "RCA-2"), so redaction placeholders such as [PHONE] or words like [employee] do not.
DOC_ID_SHAPE = re.compile(r"^[A-Za-z]+[-_.]?\d+[A-Za-z0-9_.\-]*$")
_WORD = re.compile(r"\w{5,}")
_ACTION_HEADINGS = re.compile(
    r"^##\s*(steps|how to|what to do|workaround|resolution|fix|solution|кроки|що робити|як|обхідн|рішення|вирішення)",
    re.IGNORECASE,
)
DOC_CHARS = 900
DRAFT_DOCS = 1  # the best document (+ a linked known issue): each extra doc costs ~2 s of prompt on 2 cores

TEMPLATES = {
    "en": (
        "Hello,\n\nThank you for contacting PayFlow support. Here is what should help ({title}):\n\n{steps}\n\n"
        "Source: [{doc_id}]\n\nIf this does not solve it, just reply to this message and a colleague will take over."
    ),
    "uk": (
        "Добрий день!\n\nДякуємо за звернення до підтримки PayFlow. Ось що має допомогти ({title}):\n\n{steps}\n\n"
        "Джерело: [{doc_id}]\n\nЯкщо це не допомогло, просто дайте відповідь на цей лист, "
        "і до вас підключиться наш фахівець."
    ),
}


def action_section(doc_text: str, limit: int = 900) -> str:
    """The part of a document that tells the customer what to do (steps / workaround)."""
    sections = re.split(r"(?m)^(?=##\s)", doc_text)
    chosen = next((s for s in sections if _ACTION_HEADINGS.match(s.strip())), None)
    if chosen is None:
        chosen = sections[1] if len(sections) > 1 else sections[0]
    body = chosen.strip().split("\n", 1)[1].strip() if chosen.strip().startswith("##") else chosen.strip()
    if len(body) > limit:
        body = body[:limit].rsplit("\n", 1)[0].rstrip() + "\n…"
    return body


def extractive_draft(hit: Hit, doc_text: str, language: str, title: str | None = None) -> Draft:
    """The cited document's steps in the template of `language`; `doc_text` (and `title`) should be
    the document's version in that language (`in_language`)."""
    template = TEMPLATES.get(language, TEMPLATES["en"])
    text = template.format(title=title or hit.title, steps=action_section(doc_text), doc_id=hit.doc_id)
    return Draft(text=text, citations=[hit.doc_id], language=language, generated_by="extractive")


_H1 = re.compile(r"\A\s*#\s+(.+)")


def translation_id(doc_id: str, language: str) -> str:
    """The id of `doc_id`'s translation into `language` (front matter `translation_of: <doc_id>`,
    `language: <language>`; knowledge/ingest.py enforces the shape): KB-009 -> KB-009.uk."""
    return f"{doc_id}.{language}"


def in_language(knowledge: Retriever, doc_id: str, language: str) -> tuple[str, str | None]:
    """The article `doc_id` (search returns an article under its original's id) as `language`
    readers get it: the text of its translation into `language` when the knowledge base has one,
    else its own; and its title (the text's `# ` heading; None when it has none)."""
    text, title, _ = _version(knowledge, doc_id, language)
    return text, title


def _version(knowledge: Retriever, doc_id: str, language: str) -> tuple[str, str | None, bool]:
    """`in_language`, and whether the text is the translation into `language`."""
    translated = knowledge.document_text(translation_id(doc_id, language))
    text = translated or knowledge.document_text(doc_id)
    m = _H1.match(text)
    return text, (m.group(1).strip() if m else None), bool(translated.strip())


def extractive_languages(setting: str) -> set[str]:
    """TRIAGE_DRAFT_EXTRACTIVE_LANGUAGES ("uk", "uk, ru", "") as a set of language codes."""
    return {part.strip().lower() for part in setting.split(",") if part.strip()}


def _sources(hits: list[Hit], linked: str | None) -> list[Hit]:
    chosen = hits[:DRAFT_DOCS]
    if linked and all(h.doc_id != linked for h in chosen):
        chosen += [h for h in hits if h.doc_id == linked]
    return chosen


def draft(state: TriageState, runtime: Runtime[AgentContext]) -> TriageState:
    """A reply in the ticket's language, built only from retrieved documents, citing their ids."""
    ctx = runtime.context
    hits = state.get("hits", [])
    language = state["triage"].language.value
    language = language if language in LANGUAGE_NAMES else "en"
    sources = _sources(hits, state["decision"].linked_issue)
    # each source in the ticket's language when the KB has that version (KB-009.uk for KB-009)
    versions = {h.doc_id: _version(ctx.knowledge, h.doc_id, language) for h in sources}
    texts = {d: text for d, (text, _, _) in versions.items()}
    titles = {h.doc_id: versions[h.doc_id][1] or h.title for h in sources}
    top = sources[0]
    if ctx.llm is None:
        d = extractive_draft(top, texts[top.doc_id], language, titles[top.doc_id])
        return {"draft": d, "audit": [AuditEvent(node="draft", event="extractive", detail={"citations": d.citations})]}
    written_in_language = top.language == language or versions[top.doc_id][2]  # written in it, or translated
    if written_in_language and language in extractive_languages(ctx.settings.draft_extractive_languages):
        # the KB's own text in the ticket's language: grounded and fluent by construction, and no
        # Ukrainian decode at ~2.5x the tokens per word (TRIAGE_DRAFT_EXTRACTIVE_LANGUAGES)
        d = extractive_draft(top, texts[top.doc_id], language, titles[top.doc_id])
        detail = {"citations": d.citations, "reason": "document_in_ticket_language"}
        return {"draft": d, "audit": [AuditEvent(node="draft", event="extractive", detail=detail)]}

    prompt = load_prompt(ctx.settings.prompts_dir, "draft")
    docs = "\n\n".join(f"[{h.doc_id}] {titles[h.doc_id]}\n{texts[h.doc_id][:DOC_CHARS]}" for h in sources)
    data = fence(state["text"])  # the ticket between per-request markers it cannot close
    system, user = prompt.render(
        language_name=LANGUAGE_NAMES[language],
        ticket=data.text,
        tag=data.tag,
        docs=docs,
        doc_ids=", ".join(h.doc_id for h in sources),
    )
    try:
        # Plain text, not JSON: small models end a JSON string early when they copy a quote from a doc.
        out: Any = ctx.llm.invoke([SystemMessage(system), HumanMessage(user)])
    except LLM_FALLBACK_ERRORS as exc:
        d = extractive_draft(top, texts[top.doc_id], language, titles[top.doc_id])
        return {
            "draft": d,
            "prompts": {prompt.name: prompt.version},
            "audit": [
                AuditEvent(
                    node="draft",
                    event="llm_failed",
                    detail={"error": f"{type(exc).__name__}: {str(exc)[:300]}", "fallback": "extractive"},
                )
            ],
        }
    reply = str(out.content).strip()
    if not reply:
        d = extractive_draft(top, texts[top.doc_id], language, titles[top.doc_id])
        return {
            "draft": d,
            "prompts": {prompt.name: prompt.version},
            "audit": [AuditEvent(node="draft", event="llm_empty", detail={"fallback": "extractive"})],
        }
    retrieved = {h.doc_id for h in hits}
    cited = [c for c in dict.fromkeys(CITATION.findall(reply)) if c in retrieved or DOC_ID_SHAPE.match(c)]
    attributed = None
    if not cited:
        attributed = attribute(reply, texts)
        if attributed is not None:
            reply = f"{reply}\n\n{SOURCE_LABEL.get(language, SOURCE_LABEL['en'])}: [{attributed}]"
            cited = [attributed]
    # a reply cut off at TRIAGE_LLM_MAX_TOKENS (a Ukrainian reply of 80 words is ~300 tokens) is half a reply
    truncated = str(getattr(out, "response_metadata", {}).get("finish_reason") or "") == "length"
    d = Draft(text=reply, citations=cited, language=language, generated_by="llm", truncated=truncated)
    return {
        "draft": d,
        "prompts": {prompt.name: prompt.version},
        "audit": [AuditEvent(node="draft", event="generated", detail={"citations": cited, "attributed": attributed})],
    }


SOURCE_LABEL = {"en": "Source", "uk": "Джерело", "ru": "Источник"}
ATTRIBUTION_MIN_OVERLAP = 0.6


def attribute(reply: str, texts: dict[str, str]) -> str | None:
    """The source whose words the reply is built from, when the LLM forgot to cite it.

    Deterministic: the share of the reply's content words (5+ letters) that occur in the document.
    Only a reply mostly made of one document's words is attributed to it; anything else stays
    uncited, and the ground check keeps it from being auto-sent.
    """
    words = {w.lower() for w in _WORD.findall(reply)}
    if len(words) < 5:
        return None
    best_id, best = None, 0.0
    for doc_id, text in texts.items():
        doc_words = {w.lower() for w in _WORD.findall(text)}
        share = len(words & doc_words) / len(words)
        if share > best:
            best_id, best = doc_id, share
    return best_id if best >= ATTRIBUTION_MIN_OVERLAP else None
