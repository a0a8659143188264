"""The optional LLM judge, driven by a scripted model (the real interface), with the real embedder."""

from __future__ import annotations

import pytest

from agent.graph.testing import ScriptedChatModel
from agent.settings import REPO_ROOT
from evals.judge import answer_relevancy, faithfulness, statements
from knowledge.embeddings import Embedder

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
    assert faithfulness(judge, PROMPTS, REPLY, ["Settings > Security > Reset 2FA; code by SMS"]) == pytest.approx(2 / 3)
    assert "1. Open Settings" in judge.calls[0][1]["content"]
    assert faithfulness(judge, PROMPTS, REPLY, ["doc"]) == pytest.approx(1 / 3)
    assert faithfulness(ScriptedChatModel(replies=[]), PROMPTS, "Hi!", ["doc"]) is None  # nothing to check


def test_answer_relevancy_uses_the_embedder_and_noncommittal_scores_zero(embedder: Embedder) -> None:
    ticket = "How do I reset two-factor authentication for my account?"
    on_topic = ScriptedChatModel(
        replies=[{"questions": ["How can I reset my 2FA?", "How do I reset two-factor authentication?"]}]
    )
    off_topic = ScriptedChatModel(replies=[{"questions": ["What is the price of the premium plan?"]}])
    evasive = ScriptedChatModel(replies=[{"questions": ["?"], "noncommittal": True}])
    good = answer_relevancy(on_topic, PROMPTS, embedder, ticket, REPLY)
    bad = answer_relevancy(off_topic, PROMPTS, embedder, ticket, REPLY)
    assert good > 0.7 > bad
    assert answer_relevancy(evasive, PROMPTS, embedder, ticket, "A colleague will follow up.") == 0.0
