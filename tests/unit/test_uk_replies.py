"""Replies in the ticket's language (issue 14 part 3): the demo KB's Ukrainian translations, one
search place per article, and drafts written from the version in the ticket's language.

No embedder, no Chroma: the in-memory retriever (knowledge.testing) over the shipped demo KB and a
scripted chat model; tests/integration/test_uk_replies.py does the same with the real store."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from agent.domain import Ticket
from agent.graph.checks.extract import extract_all, normalise, path_supported
from agent.graph.nodes.draft import extractive_draft, in_language, translation_id
from agent.graph.testing import ScriptedChatModel
from agent.settings import Settings
from knowledge.ingest import DocError, load_docs, parse_doc
from knowledge.testing import DEMO_KB, InMemoryRetriever
from tests.unit.conftest import offline_agent

DOCS = {d.meta.id: d for d in load_docs(DEMO_KB)[0]}
TRANSLATIONS = sorted(d for d, doc in DOCS.items() if doc.meta.translation_of)
# what a reply may only say if a cited document says it (agent/graph/checks): a translation must
# keep every one of these exactly as the original has it (the product's UI is English: menu paths,
# buttons and error codes stay as the product shows them)
CHECKED_KINDS = {"url", "email", "phone", "amount", "date", "menu_path", "error_code", "account", "handle"}

PAYSLIP_UK = Ticket(
    id="t-uk-9",
    external_id="U-9",
    subject="Працівниця не отримала розрахунковий лист",
    body="Добрий день. Наша працівниця каже, що не отримала лист з розрахунковим листом за жовтень. "
    "Як надіслати його їй ще раз?",
)


@pytest.fixture(scope="module")
def kb() -> InMemoryRetriever:
    return InMemoryRetriever.demo()


def checked_items(text: str) -> set[tuple[str, str]]:
    """Every item the content checks compare exactly (menu paths: see `menu_paths`)."""
    return {(i.kind, i.key) for i in extract_all(normalise(text)) if i.kind in CHECKED_KINDS - {"menu_path"}}


def steps(body: str) -> int:
    """How many numbered steps a text has."""
    return sum(1 for line in body.splitlines() if re.match(r"\s*\d+\.\s", line))


def menu_paths(text: str) -> set[str]:
    """The bold UI paths (`**Settings > Users**`) a text gives."""
    return {m for m in re.findall(r"\*\*([^*]+)\*\*", text) if " > " in m}


# -- the translations ---------------------------------------------------------------------------------
def test_every_english_document_has_a_ukrainian_translation_linked_to_it() -> None:
    english = sorted(d for d, doc in DOCS.items() if doc.meta.language == "en")
    assert len(english) == 29 + 7 and len(TRANSLATIONS) == 36  # every English KB article and RCA doc
    assert sorted(DOCS[t].meta.translation_of or "" for t in TRANSLATIONS) == english
    for t in TRANSLATIONS:
        doc, original = DOCS[t], DOCS[DOCS[t].meta.translation_of or ""]
        assert t == translation_id(original.meta.id, "uk") and doc.meta.language == "uk"
        same = ("type", "product", "category", "auto_resolvable", "action", "status")
        assert [getattr(doc.meta, f) for f in same] == [getattr(original.meta, f) for f in same], t
        assert doc.meta.title != original.meta.title and doc.body.startswith(f"# {doc.meta.title}\n")


@pytest.mark.parametrize("doc_id", TRANSLATIONS)
def test_a_translation_keeps_every_checked_fact_of_its_original(doc_id: str) -> None:
    doc = DOCS[doc_id]
    original = DOCS[doc.meta.translation_of or ""]
    want, got = checked_items(original.body), checked_items(doc.body)
    assert want or menu_paths(original.body), f"{original.meta.id} has nothing the checks read"
    assert want - got == set(), f"{doc_id} lost {sorted(want - got)}"
    assert got - want == set(), f"{doc_id} adds {sorted(got - want)}"
    assert menu_paths(doc.body) == menu_paths(original.body), doc_id
    # a reply written from the translation passes the menu-path check against the original too
    known = [i.key for i in extract_all(normalise(original.body)) if i.kind == "menu_path"]
    for item in extract_all(normalise(doc.body)):
        if item.kind == "menu_path":
            assert path_supported(item.key, known), f"{doc_id}: {item.text!r} is not in {original.meta.id}"
    # same structure: the steps and notes sections, as many numbered steps
    for uk, en in (("## Кроки", "## Steps"), ("## Примітки", "## Notes")):
        assert (uk in doc.body) == (en in original.body)
    assert steps(doc.body) == steps(original.body)


def test_a_translation_must_be_named_after_its_original(tmp_path: Path) -> None:
    path = tmp_path / "x.md"
    path.write_text(
        "---\nid: KB-009-uk\ntranslation_of: KB-009\ntitle: T\ntype: kb\nlanguage: uk\n---\n# T\n\nТекст.\n",
        encoding="utf-8",
    )
    with pytest.raises(DocError, match=r"KB-009\.uk"):
        parse_doc(path)
    path.write_text(path.read_text(encoding="utf-8").replace("KB-009-uk", "KB-009.uk"), encoding="utf-8")
    assert parse_doc(path).meta.translation_of == "KB-009"


# -- search: one place per article ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "query",
    ["Як повторно надіслати розрахунковий лист працівникові?", "How do I resend a payslip to an employee?"],
)
def test_an_article_and_its_translation_take_one_place_under_the_originals_id(
    kb: InMemoryRetriever, query: str
) -> None:
    hits = kb.search(query, k=5)
    ids = [h.doc_id for h in hits]
    assert ids[0] == "KB-009" and len(ids) == len(set(ids)) == 5
    assert not any(d.endswith(".uk") for d in ids)
    # the stand-in ranks by words, so the Ukrainian query matched the Ukrainian version
    assert hits[0].language == ("uk" if query.startswith("Як") else "en")


# -- the draft reads the version in the ticket's language ------------------------------------------------
def test_in_language_picks_the_translation_or_falls_back_to_the_original(kb: InMemoryRetriever) -> None:
    text, title = in_language(kb, "KB-009", "uk")
    assert title == DOCS["KB-009.uk"].meta.title and "**People > Employees**" in text
    text, title = in_language(kb, "KB-009", "en")
    assert title == DOCS["KB-009"].meta.title and text.startswith("# How to resend")
    # an article written in Ukrainian has no English version: its own text
    text, title = in_language(kb, "KB-011", "en")
    assert title == DOCS["KB-011"].meta.title


def test_extractive_reply_to_a_ukrainian_ticket_is_the_ukrainian_article(kb: InMemoryRetriever) -> None:
    hit = kb.hit("KB-009", 0.8)
    text, title = in_language(kb, "KB-009", "uk")
    draft = extractive_draft(hit, text, "uk", title)
    assert draft.citations == ["KB-009"] and "[KB-009]" in draft.text
    assert draft.text.startswith("Добрий день") and DOCS["KB-009.uk"].meta.title in draft.text
    assert "Resend payslip" in draft.text and "Go to" not in draft.text  # the button, not English prose


def test_ukrainian_ticket_without_llm_gets_a_ukrainian_reply_that_passes_the_checks(settings: Settings) -> None:
    state = offline_agent(settings).run(PAYSLIP_UK)
    assert state["triage"].language.value == "uk" and state["hits"][0].doc_id == "KB-009"
    draft = state["draft"]
    assert draft.generated_by == "extractive" and draft.citations == ["KB-009"]
    assert DOCS["KB-009.uk"].meta.title in draft.text
    rules = {f.rule for f in state["findings"]}
    assert "reply_language_mismatch" not in rules and not {r for r in rules if r.startswith("unsupported")}
    (check,) = [a for a in state["audit"] if a.node == "ground_check"]
    assert check.detail["written_in"] == "uk" and check.detail["valid"] == ["KB-009"]


def test_the_same_ticket_before_translations_got_an_english_article(settings: Settings, tmp_path: Path) -> None:
    """Without the translation the reply is the English article's steps: the language check stops it
    (what this change fixes; the test fails if the fallback stops being checked)."""
    kb = InMemoryRetriever(d for d in DOCS.values() if d.meta.id != "KB-009.uk")
    kb.script("розрахунковим листом", [kb.hit("KB-009", 0.8)])  # as the real store finds it
    state = offline_agent(settings, kb).run(PAYSLIP_UK)
    assert state["draft"].citations == ["KB-009"] and "Go to **People > Employees**" in state["draft"].text
    assert "reply_language_mismatch" in {f.rule for f in state["findings"]}
    assert state["decision"].action != "auto_resolve"


# what the scripted LLM classifies PAYSLIP_UK as
PAYSLIPS = {
    "category": "payslips", "category_confidence": 0.95, "priority": "normal", "priority_confidence": 0.8,
    "sentiment": "neutral", "sentiment_confidence": 0.7, "risk_flags": [], "risk_confidence": 0.9,
}  # fmt: skip


def test_the_llm_prompt_carries_the_article_in_the_tickets_language(settings: Settings) -> None:
    reply = (
        "Добрий день! Відкрийте **People > Employees**, картку працівниці, вкладку **Documents > Payslips** "
        "і натисніть **⋯ > Resend payslip**.\n\nДжерело: [KB-009]"
    )
    rewrite = "An employee did not receive her October payslip email; how to resend it?"
    llm = ScriptedChatModel(replies=[rewrite, PAYSLIPS, reply])
    llm_drafts = settings.model_copy(update={"draft_extractive_languages": ""})  # the LLM drafts Ukrainian too
    state = offline_agent(llm_drafts, llm=llm).run(PAYSLIP_UK)
    draft_call = next(c for c in llm.calls if "Articles:" in c[-1]["content"])
    user = draft_call[-1]["content"]
    assert "[KB-009] " + DOCS["KB-009.uk"].meta.title in user
    assert "Відкрийте вкладку **Documents > Payslips**" in user and "Open the **Documents > Payslips**" not in user
    rules = {f.rule for f in state["findings"]}
    assert state["draft"].citations == ["KB-009"] and "reply_language_mismatch" not in rules, rules


def test_with_an_llm_a_ukrainian_ticket_whose_article_exists_in_ukrainian_gets_that_text_not_a_draft(
    settings: Settings,
) -> None:
    """The default (TRIAGE_DRAFT_EXTRACTIVE_LANGUAGES=uk): the LLM still classifies, but the reply is
    the Ukrainian article's own steps, so no Ukrainian decode runs and the reply cannot be in the
    wrong language or echo the prompt."""
    echo = "Ticket: <<<TICKET>>> це відповідь англійською? Open Documents.\n\nSource: [KB-009]"
    llm = ScriptedChatModel(replies=["payslip email not received, resend", PAYSLIPS, echo])
    state = offline_agent(settings, llm=llm).run(PAYSLIP_UK)
    assert not [c for c in llm.calls if "Articles:" in c[-1]["content"]]  # no draft prompt was sent
    d = state["draft"]
    assert d.generated_by == "extractive" and d.citations == ["KB-009"] and d.language == "uk"
    assert "Відкрийте вкладку **Documents > Payslips**" in d.text and "Ticket:" not in d.text
    reasons = [e.detail.get("reason") for e in state["audit"] if e.node == "draft"]
    assert reasons == ["document_in_ticket_language"]
    assert "reply_language_mismatch" not in {f.rule for f in state["findings"]}


def test_with_an_llm_a_ukrainian_ticket_whose_article_is_english_only_is_drafted_by_the_llm(
    settings: Settings, tmp_path: Path
) -> None:
    """No Ukrainian version of the article: the LLM writes the Ukrainian reply from the English text."""
    kb = InMemoryRetriever(d for d in DOCS.values() if d.meta.id != "KB-009.uk")
    kb.script("розрахунковим листом", [kb.hit("KB-009", 0.8)])
    reply = "Добрий день! Відкрийте **People > Employees** і натисніть **Resend payslip**.\n\nДжерело: [KB-009]"
    llm = ScriptedChatModel(replies=["payslip email not received, resend", PAYSLIPS, reply])
    state = offline_agent(settings, kb, llm=llm).run(PAYSLIP_UK)
    assert [c for c in llm.calls if "Articles:" in c[-1]["content"]]
    assert state["draft"].generated_by == "llm"
