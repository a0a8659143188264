"""The graph with a scripted chat model (real embedder, real Chroma with the demo KB)."""

from __future__ import annotations

import pytest

from agent.domain import Customer, Ticket
from agent.graph.context import AgentContext
from agent.graph.llm import LLMConfigError, make_chat_model, register
from agent.graph.policy import load_policy
from agent.graph.testing import ScriptedChatModel
from agent.runtime.assembly import Agent, open_knowledge, result_of, status_of
from agent.settings import Settings


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


def agent_with(settings: Settings, replies: list) -> tuple[Agent, ScriptedChatModel]:
    llm = ScriptedChatModel(replies=replies)
    ctx = AgentContext(
        settings=settings, policy=load_policy(settings.policy_file), knowledge=open_knowledge(settings), llm=llm
    )
    return Agent(ctx), llm


PAYSLIP = Ticket(
    id="t-1",
    external_id="Z-1",
    subject="Payslip not received",
    body="Hi, one of our employees never got her March payslip by email, can you resend it? "
    "Reach me at olena@acme.example or +380 67 123 4567.",
    customer=Customer(name="Acme", tier="premium"),
)


def test_llm_path_auto_resolves_with_grounded_citations(demo_settings: Settings) -> None:
    agent, llm = agent_with(
        demo_settings,
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
    result = result_of(state, "v")
    assert result["reply"]["citations"] == ["KB-009"]
    assert result["prompts"] == {"classify": "2", "draft": "3"}
    # PII never reaches the LLM
    sent = " ".join(m["content"] for call in llm.calls for m in call)
    assert "olena@acme.example" not in sent and "123 4567" not in sent
    assert "[EMAIL]" in sent and "[PHONE]" in sent


def test_draft_citing_unretrieved_doc_is_downgraded_to_suggest(demo_settings: Settings) -> None:
    agent, _ = agent_with(demo_settings, [classification(), "Click Resend [KB-999]."])
    state = agent.run(PAYSLIP)
    assert state["decision"].action == "suggest"
    assert "ungrounded_draft" in state["decision"].rules
    assert not state["draft"].grounded


def test_draft_without_citation_is_not_auto_sent(demo_settings: Settings) -> None:
    agent, _ = agent_with(demo_settings, [classification(), "Sure, we resent it."])
    state = agent.run(PAYSLIP)
    assert state["decision"].action == "suggest"


@pytest.mark.parametrize("bad", ["not json at all", {"category": "payslips"}, TimeoutError("llm timed out")])
def test_unusable_llm_output_falls_back_and_hands_off(demo_settings: Settings, bad: object) -> None:
    agent, _ = agent_with(demo_settings, [bad])
    state = agent.run(PAYSLIP)
    assert state["triage"].decided_by == "fallback"
    assert state["decision"].action == "handoff" and state["decision"].rules == ["llm_fallback"]
    failed = [e for e in state["audit"] if e.event == "llm_failed"]
    assert failed and failed[0].node == "classify"


def test_llm_cannot_talk_its_way_past_risk_rules(demo_settings: Settings) -> None:
    # The LLM says "payslips, certain, no risk"; the deterministic rule still sees the double payment.
    ticket = PAYSLIP.model_copy(update={"body": "Half our staff were paid twice this month, fix it now!"})
    agent, _ = agent_with(demo_settings, [classification(conf=1.0)])
    state = agent.run(ticket)
    assert "financial" in state["triage"].risk.value
    assert state["decision"].action == "handoff"
    assert state.get("draft") is None and "handoff_note" in state


def test_none_provider_replies_extractively_in_ukrainian(demo_settings: Settings) -> None:
    agent = Agent.from_settings(demo_settings, durable=False, llm="none")
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


def test_factory_errors_say_how_to_fix(demo_settings: Settings) -> None:
    with pytest.raises(LLMConfigError, match="unknown LLM provider 'gpt'"):
        make_chat_model("gpt/4", demo_settings)
    with pytest.raises(LLMConfigError, match="needs a model"):
        make_chat_model("llamacpp", demo_settings)
    with pytest.raises(LLMConfigError, match="neither"):
        make_chat_model("llamacpp/no-such-model", demo_settings)
    assert make_chat_model("none", demo_settings) is None
    register("scripted", lambda _m, _s: ScriptedChatModel(replies=["x"]))
    assert isinstance(make_chat_model("scripted/any", demo_settings), ScriptedChatModel)


UK_TICKET = Ticket(
    id="t-uk2",
    external_id="U-2",
    subject="Не приходить розрахунковий лист",
    body="Працівниця не отримала листа з розрахунковим листом за березень. Надішліть, будь ласка, ще раз.",
)


def test_ukrainian_ticket_is_searched_through_an_english_rewrite(demo_settings: Settings) -> None:
    agent, llm = agent_with(
        demo_settings,
        [
            "An employee did not receive her payslip email for March; please resend the payslip.",
            classification(),
            "Добрий день! Відкрийте People > Employees і натисніть Resend payslip [KB-009].",
        ],
    )
    state = agent.run(UK_TICKET)
    assert state["query_language"] == "en"
    assert state["hits"][0].doc_id == "KB-009"
    assert state["decision"].action == "auto_resolve"
    assert state["prompts"]["search_query"] == "1"
    assert "Працівниця" in llm.calls[0][1]["content"]  # the rewrite prompt got the original text


def test_without_a_rewrite_a_ukrainian_search_is_capped_at_suggest(demo_settings: Settings) -> None:
    agent = Agent.from_settings(demo_settings, durable=False, llm="none")
    state = agent.run(UK_TICKET)
    assert state["query_language"] == "uk"
    assert state["decision"].action != "auto_resolve"
    assert "unreliable_retrieval_language" in state["decision"].rules or state["decision"].action == "handoff"


def test_a_failed_rewrite_searches_the_original_text(demo_settings: Settings) -> None:
    agent, _ = agent_with(demo_settings, [TimeoutError("down"), classification(), "[KB-009]"])
    state = agent.run(UK_TICKET)
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


def test_reply_in_the_wrong_language_is_not_auto_sent(demo_settings: Settings) -> None:
    agent, _ = agent_with(
        demo_settings,
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


def test_quoted_text_must_come_from_a_cited_doc(demo_settings: Settings) -> None:
    real = 'Open Documents > Payslips and click "⋯ > Resend payslip" [KB-009].'
    agent, _ = agent_with(demo_settings, [classification(), real])
    state = agent.run(PAYSLIP)
    assert state["decision"].action == "auto_resolve" and state["draft"].grounded

    made_up = 'Click "Regenerate and email all payslips now" on the Payslips tab [KB-009].'
    agent, _ = agent_with(demo_settings, [classification(), made_up])
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
