"""Our own judge prompts, the per-case fallback when the model cannot run ragas's (evals/judge.py),
driven by a scripted model (the real interface). Its answer relevancy with the real embedder:
tests/integration/test_judge_relevancy.py; ragas's metrics: tests/unit/test_ragas_judge.py."""

from __future__ import annotations

import pytest

from agent.graph.testing import ScriptedChatModel
from agent.settings import REPO_ROOT
from evals.judge import fallback_faithfulness, statements

PROMPTS = REPO_ROOT / "prompts"
REPLY = (
    "Hello,\n\nThank you for contacting us. Open Settings > Security and click Reset 2FA. "
    "The new code arrives by SMS within a minute. You will also get a free month of service.\n\n"
    "Source: [KB-003]"
)


def test_statements_drop_greetings_and_the_source_line() -> None:
    got = statements(REPLY)
    assert got == [
        "Open Settings > Security and click Reset 2FA.",
        "The new code arrives by SMS within a minute.",
        "You will also get a free month of service.",
    ]


def test_faithfulness_is_the_supported_share_and_missing_verdicts_count_against() -> None:
    judge = ScriptedChatModel(replies=[{"verdicts": [True, True, False]}, {"verdicts": [True]}])
    docs = ["Settings > Security > Reset 2FA; code by SMS"]
    assert fallback_faithfulness(judge, PROMPTS, REPLY, docs) == pytest.approx(2 / 3)
    assert "1. Open Settings" in judge.calls[0][1]["content"]
    assert fallback_faithfulness(judge, PROMPTS, REPLY, ["doc"]) == pytest.approx(1 / 3)
    assert fallback_faithfulness(ScriptedChatModel(replies=[]), PROMPTS, "Hi!", ["doc"]) is None  # nothing to check
