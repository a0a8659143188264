"""The LLM judge's answer relevancy: scripted questions, embedded by the real embedder."""

from __future__ import annotations

from agent.graph.testing import ScriptedChatModel
from evals.judge import answer_relevancy
from knowledge.embeddings import Embedder
from tests.unit.test_judge import PROMPTS, REPLY


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
