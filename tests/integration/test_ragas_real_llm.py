"""ragas's prompts through a real small LLM (SmolLM2-135M in its own llama.cpp process, the path the
bundled model takes): our `ChatModelLLM` gets ragas's response models back through llama.cpp's
JSON-schema grammar, and `judge` accounts for every draft whatever the model answers. The bundled
model itself as the judge of two drafts (opt-in: TRIAGE_TEST_BUNDLED_LLM=1, minutes per draft)."""

from __future__ import annotations

import json
import math
import os

import pytest

from agent.graph.llm import make_chat_model
from agent.runtime.model_server import local_model
from agent.settings import Settings
from evals.judge import ChatModelLLM, judge, judge_model
from knowledge.embeddings import Embedder
from tests.unit.test_judge import PROMPTS
from tests.unit.test_ragas_judge import DOC, trace

pytestmark = [pytest.mark.integration, pytest.mark.llm]


def test_ragas_prompts_run_through_the_grammar(demo_settings: Settings, embedder: Embedder) -> None:
    from ragas.metrics.collections.answer_relevancy.util import AnswerRelevanceInput, AnswerRelevancePrompt
    from ragas.metrics.collections.faithfulness.util import (
        StatementGeneratorInput,
        StatementGeneratorOutput,
        StatementGeneratorPrompt,
    )

    base = demo_settings.model_copy(update={"llm": "llamacpp/smollm2-135m", "llm_max_tokens": 160})
    with local_model(base) as (settings, _sup):
        model = make_chat_model(settings.llm, settings)
        assert model is not None
        llm = ChatModelLLM(judge_model(model, max_tokens=256))
        prompt = StatementGeneratorPrompt().to_string(
            StatementGeneratorInput(question="How do I reset 2FA?", answer="Open Settings > Security.")
        )
        got = llm.generate(prompt, StatementGeneratorOutput)
        assert isinstance(got, StatementGeneratorOutput)
        relevance = AnswerRelevancePrompt()
        assert isinstance(
            llm.generate(relevance.to_string(AnswerRelevanceInput(response="Open Settings.")), relevance.output_model),
            relevance.output_model,
        )

        v = judge([trace("t")], model, PROMPTS, embedder, lambda d: DOC, settings.llm)
    for name in ("faithfulness", "answer_relevancy"):
        c = v[f"{name}_cases"]
        assert c["by_ragas"] + c["by_fallback"] + c["failed"] == 1, v
        assert v[name] is None or (not math.isnan(v[name]) and -1.0 <= v[name] <= 1.0)


FAITHFUL = "Open Settings > Security and click Reset 2FA. The new code is sent by SMS."
INVENTED = "Our premium plan costs $99 a month. Every new customer gets three free months of priority support."


@pytest.mark.skipif(
    not os.environ.get("TRIAGE_TEST_BUNDLED_LLM"),
    reason="the bundled Qwen judge takes minutes per draft on a shared CPU: set TRIAGE_TEST_BUNDLED_LLM=1",
)
def test_the_bundled_model_judges_a_faithful_reply_above_an_invented_one(
    demo_settings: Settings, embedder: Embedder
) -> None:
    """Two drafts for one ticket and one document, judged by the bundled model (Qwen2.5-Coder-1.5B,
    llama.cpp): the reply taken from the document scores above one the document says nothing of, on
    both metrics, whoever (ragas's prompt or our fallback) scored each case."""
    base = demo_settings.model_copy(update={"llm": "llamacpp/qwen2.5-coder-1.5b-instruct"})
    with local_model(base) as (settings, _sup):
        model = make_chat_model(settings.llm, settings)
        assert model is not None
        traces = [trace("faithful", reply=FAITHFUL), trace("invented", reply=INVENTED)]
        v = judge(traces, model, PROMPTS, embedder, lambda d: DOC, settings.llm)
    rows = {r["id"]: r for r in v["cases"]}
    print(json.dumps({k: v[k] for k in ("faithfulness_cases", "answer_relevancy_cases", "metrics_by")}, indent=1))
    print(json.dumps(v["cases"], indent=1, ensure_ascii=False))
    for name in ("faithfulness", "answer_relevancy"):
        c = v[f"{name}_cases"]
        assert c["by_ragas"] + c["by_fallback"] + c["failed"] == 2, v
        assert c["failed"] == 0, v  # ragas's prompt or ours answers for each case
        assert rows["faithful"][name] is not None and rows["invented"][name] is not None, v
        assert rows["faithful"][name] > rows["invented"][name], (name, v)
