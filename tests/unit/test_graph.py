"""The graph with a scripted chat model and the demo KB in memory (`knowledge.testing.InMemoryRetriever`)."""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage

from agent.domain import Customer, Ticket
from agent.graph.llm import LLMConfigError, make_chat_model, register
from agent.graph.result import status_of, ticket_result
from agent.graph.search_query import search_query
from agent.graph.state import TriageState
from agent.graph.testing import ScriptedChatModel
from agent.runtime.assembly import Agent
from agent.settings import Settings
from knowledge.testing import InMemoryRetriever
from tests.unit.conftest import offline_agent


def classification(category: str = "payslips", conf: float = 0.95, risk: list[str] | None = None) -> dict:
    return {
        "category": category,
        "category_confidence": conf,
        "priority": "normal",
        "priority_confidence": 0.8,
        "sentiment": "neutral",
        "sentiment_confidence": 0.7,
        "risk_flags": risk or [],
        "risk_confidence": 0.9,
    }


def agent_with(
    settings: Settings, replies: list, kb: InMemoryRetriever | None = None
) -> tuple[Agent, ScriptedChatModel]:
    llm = ScriptedChatModel(replies=replies)
    return offline_agent(settings, kb, llm), llm


PAYSLIP = Ticket(
    id="t-1",
    external_id="Z-1",
    subject="Payslip not received",
    body="Hi, one of our employees never got her March payslip by email, can you resend it? "
    "Reach me at olena@acme.example or +380 67 123 4567.",
    customer=Customer(name="Acme", tier="premium"),
)


def test_a_reply_cut_off_at_the_token_limit_is_never_auto_sent(settings: Settings) -> None:
    reply = "Hello! Open People > Employees, open the profile and click Resend payslip [KB-009]."
    for finish, action in (("stop", "auto_resolve"), ("length", "suggest")):
        agent, _ = agent_with(
            settings, [classification(), AIMessage(content=reply, response_metadata={"finish_reason": finish})]
        )
        state = agent.run(PAYSLIP)
        assert state["draft"].truncated is (finish == "length")
        assert state["decision"].action == action, state["decision"]
        if finish == "length":
            assert "draft_truncated" in state["decision"].rules
            assert "token limit" in state["decision"].reason


def test_llm_path_auto_resolves_with_grounded_citations(settings: Settings) -> None:
    agent, llm = agent_with(
        settings,
        [
            classification(),
            "Hello! Open People > Employees, open the profile and click Resend payslip [KB-009].",
        ],
    )
    state = agent.run(PAYSLIP)
    assert state["triage"].decided_by == "llm"
    assert state["decision"].action == "auto_resolve"
    assert state["draft"].citations == ["KB-009"] and state["draft"].grounded
    assert status_of(state) == "done"
    result = ticket_result(state, "v")
    assert result.reply is not None and result.reply.citations == ["KB-009"]
    assert [c.doc_id for c in result.reply.sources] == ["KB-009"] and result.reply.sources[0].title
    assert result.prompts == {"classify": "3", "draft": "4"}
    # PII never reaches the LLM
    sent = " ".join(m["content"] for call in llm.calls for m in call)
    assert "olena@acme.example" not in sent and "123 4567" not in sent
    assert "[EMAIL]" in sent and "[PHONE]" in sent


def test_draft_citing_unretrieved_doc_is_downgraded_to_suggest(settings: Settings) -> None:
    agent, _ = agent_with(settings, [classification(), "Click Resend [KB-999]."])
    state = agent.run(PAYSLIP)
    assert state["decision"].action == "suggest"
    assert "ungrounded_draft" in state["decision"].rules
    assert not state["draft"].grounded


def test_draft_without_citation_is_not_auto_sent(settings: Settings) -> None:
    agent, _ = agent_with(settings, [classification(), "Sure, we resent it."])
    state = agent.run(PAYSLIP)
    assert state["decision"].action == "suggest"


@pytest.mark.parametrize("bad", ["not json at all", {"category": "payslips"}, TimeoutError("llm timed out")])
def test_unusable_llm_output_falls_back_and_hands_off(settings: Settings, bad: object) -> None:
    agent, _ = agent_with(settings, [bad])
    state = agent.run(PAYSLIP)
    assert state["triage"].decided_by == "fallback"
    assert state["decision"].action == "handoff" and state["decision"].rules == ["llm_fallback"]
    failed = [e for e in state["audit"] if e.event == "llm_failed"]
    assert failed and failed[0].node == "classify"


def test_llm_cannot_talk_its_way_past_risk_rules(settings: Settings) -> None:
    # The LLM says "payslips, certain, no risk"; the deterministic rule still sees the double payment.
    ticket = PAYSLIP.model_copy(update={"body": "Half our staff were paid twice this month, fix it now!"})
    agent, _ = agent_with(settings, [classification(conf=1.0)])
    state = agent.run(ticket)
    assert "financial" in state["triage"].risk.value
    assert state["decision"].action == "handoff"
    assert state.get("draft") is None and "handoff_note" in state


def test_none_provider_replies_extractively_in_ukrainian(settings: Settings) -> None:
    agent = offline_agent(settings)
    ticket = Ticket(
        id="t-uk",
        external_id="U-1",
        subject="Повторно надіслати розрахунковий лист",
        body="Працівниця не отримала розрахунковий лист за березень. Як надіслати його ще раз?",
    )
    state = agent.run(ticket)
    assert state["triage"].language.value == "uk"
    if state["decision"].action != "handoff":
        assert state["draft"].text.startswith("Добрий день")
        assert state["draft"].citations and state["draft"].citations[0] in state["draft"].text


def test_factory_errors_say_how_to_fix(settings: Settings) -> None:
    with pytest.raises(LLMConfigError, match="unknown LLM provider 'gpt'"):
        make_chat_model("gpt/4", settings)
    with pytest.raises(LLMConfigError, match="needs a model"):
        make_chat_model("llamacpp", settings)
    with pytest.raises(LLMConfigError, match="neither"):
        make_chat_model("llamacpp/no-such-model", settings)
    assert make_chat_model("none", settings) is None
    register("scripted", lambda _m, _s: ScriptedChatModel(replies=["x"]))
    assert isinstance(make_chat_model("scripted/any", settings), ScriptedChatModel)


UK_TICKET = Ticket(
    id="t-uk2",
    external_id="U-2",
    subject="Не приходить розрахунковий лист",
    body="Працівниця не отримала листа з розрахунковим листом за березень. Надішліть, будь ласка, ще раз.",
)


def coverage_searches(state: TriageState) -> list[tuple[str, float]]:
    """The searches ground_check makes for what the ticket asks (the question-coverage check), in order."""
    from agent.graph.checks import asks
    from agent.graph.checks.coverage import MAX_ASKS
    from agent.graph.textutil import detect_language

    if state.get("draft") is None:
        return []
    return [(a.text, 1.0 if detect_language(a.text)[0] == "en" else 0.25) for a in asks(state["text"])[:MAX_ASKS]]


def test_ukrainian_ticket_is_searched_through_an_english_rewrite(settings: Settings, kb: InMemoryRetriever) -> None:
    rewrite = "An employee did not receive her payslip email for March; please resend the payslip."
    agent, llm = agent_with(
        settings,
        [rewrite, classification(), "Добрий день! Відкрийте People > Employees і натисніть Resend payslip [KB-009]."],
        kb,
    )
    state = agent.run(UK_TICKET)
    # the retrieve node searched the English rewrite at full dense weight, and only that ...
    searched = [(s.query, s.dense_weight) for s in kb.searches]
    assert searched[0] == (rewrite, 1.0)
    assert searched == [(rewrite, 1.0), *coverage_searches(state)] and len(searched) > 1
    assert state["hits"][0].doc_id == "KB-009"
    # ... but the rewrite does not lift the cap on Ukrainian retrieval: nothing verifies it says what
    # the ticket says, so the ticket's language is what the policy reads
    assert state["query_language"] == "uk"
    event = next(e for e in state["audit"] if e.node == "retrieve" and e.event == "retrieved")
    assert event.detail["search_language"] == "en" and event.detail["rewritten_query"] == rewrite
    assert state["decision"].action == "suggest"
    assert "unreliable_retrieval_language" in state["decision"].rules
    assert state["draft"].citations == ["KB-009"] and state["draft"].grounded
    assert state["prompts"]["search_query"] == "2"
    assert "Працівниця" in llm.calls[0][1]["content"]  # the rewrite prompt got the original text


def test_without_a_rewrite_a_ukrainian_search_is_capped_at_suggest(settings: Settings) -> None:
    agent = offline_agent(settings)
    state = agent.run(UK_TICKET)
    assert state["query_language"] == "uk"
    assert state["decision"].action != "auto_resolve"
    assert "unreliable_retrieval_language" in state["decision"].rules or state["decision"].action == "handoff"


def test_a_failed_rewrite_searches_the_original_text(settings: Settings, kb: InMemoryRetriever) -> None:
    agent, _ = agent_with(settings, [TimeoutError("down"), classification(), "[KB-009]"], kb)
    state = agent.run(UK_TICKET)
    searched = [(s.query, s.dense_weight) for s in kb.searches]
    assert searched == [(search_query(state["text"]), 0.25), *coverage_searches(state)]
    assert state["query_language"] == "uk"
    assert any(e.node == "retrieve" and e.event == "llm_failed" for e in state["audit"])


def test_uncited_reply_is_attributed_only_when_built_from_one_document() -> None:
    from agent.graph.nodes.draft import attribute

    doc = "To resend a payslip open People then Employees, choose Documents, then Payslips, click Resend payslip."
    texts = {"KB-009": doc, "KB-001": "Reset your password from the sign-in page using Forgot password."}
    assert attribute("Please open People, then Employees, choose Documents and Payslips, click Resend.", texts) == (
        "KB-009"
    )
    assert attribute("We have refunded your invoice and upgraded your subscription plan today.", texts) is None


def test_reply_in_the_wrong_language_is_not_auto_sent(settings: Settings) -> None:
    agent, _ = agent_with(
        settings.model_copy(update={"draft_extractive_languages": ""}),  # the LLM drafts this Ukrainian reply
        [
            "An employee did not receive her payslip email for March; please resend the payslip.",
            classification(),
            "Open People > Employees and click Resend payslip. Source: [KB-009]",
        ],
    )
    state = agent.run(UK_TICKET)
    assert state["draft"].grounded
    assert state["decision"].action == "suggest"
    assert "reply_language_mismatch" in state["decision"].rules


def test_quoted_text_must_come_from_a_cited_doc(settings: Settings) -> None:
    real = 'Open Documents > Payslips and click "⋯ > Resend payslip" [KB-009].'
    agent, _ = agent_with(settings, [classification(), real])
    state = agent.run(PAYSLIP)
    assert state["decision"].action == "auto_resolve" and state["draft"].grounded

    made_up = 'Click "Regenerate and email all payslips now" on the Payslips tab [KB-009].'
    agent, _ = agent_with(settings, [classification(), made_up])
    state = agent.run(PAYSLIP)
    assert state["decision"].action == "suggest" and "unsupported_quote" in state["decision"].rules
    assert not state["draft"].grounded
    event = next(e for e in state["audit"] if e.node == "ground_check")
    assert event.detail["unsupported_quotes"] == ["Regenerate and email all payslips now"]


def test_unsupported_quotes_ignores_markup_and_knows_quote_styles() -> None:
    from agent.graph.nodes.ground_check import unsupported_quotes

    doc = "Go to **People > Employees**. Error `PF-3001 Delivery failed: mailbox unavailable` means..."
    assert unsupported_quotes('See "People > Employees" and “PF-3001 Delivery failed”.', [doc]) == []
    assert unsupported_quotes("Натисніть «Видалити все».", [doc]) == ["Видалити все"]
    assert unsupported_quotes('Short "ok" quotes are ignored.', [doc]) == []


@pytest.mark.parametrize(
    ("score", "action", "rule"),
    [(0.52, "auto_resolve", "auto"), (0.48, "suggest", "retrieval_score"), (0.40, "handoff", "out_of_scope")],
)
def test_the_match_score_decides_between_auto_suggest_and_handoff(
    settings: Settings, kb: InMemoryRetriever, score: float, action: str, rule: str
) -> None:
    # scripted hits: the policy's retrieval thresholds (0.46 / 0.50) on exact scores
    kb.script("Payslip not received", [kb.hit("KB-009", score), kb.hit("KB-010", score - 0.1)])
    agent, _ = agent_with(settings, [classification(), "Open the profile and click Resend payslip [KB-009]."], kb)
    state = agent.run(PAYSLIP)
    assert [h.doc_id for h in state["hits"]] == ["KB-009", "KB-010"] and state["hits"][0].score == score
    assert state["decision"].action == action and rule in state["decision"].rules


def test_a_document_naming_an_action_off_the_allowlist_is_suggested_not_failed(settings: Settings) -> None:
    # a KB author's typo or an action not built yet must not fail the ticket nor go out as if done
    demo = InMemoryRetriever.demo()
    docs = [
        d.model_copy(update={"meta": d.meta.model_copy(update={"action": "resend_payslipp"})})
        if d.meta.id in ("KB-009", "KB-009.uk")
        else d
        for d in demo.docs.values()
    ]
    agent, _ = agent_with(
        settings,
        [classification(), "Hello! Open People > Employees, open the profile and click Resend payslip [KB-009]."],
        InMemoryRetriever(docs),
    )
    state = agent.run(PAYSLIP)
    assert state["draft"].citations == ["KB-009"]
    assert state["decision"].action == "suggest"
    assert "action_not_allowlisted" in state["decision"].rules
    assert "resend_payslipp" in state["decision"].reason and "not on the allowlist" in state["decision"].reason
    assert status_of(state) == "awaiting_review"
