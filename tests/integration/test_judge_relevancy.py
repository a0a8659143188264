"""Answer relevancy with the real embedder: ragas's AnswerRelevancy (our embedder behind ragas's
embeddings interface) and our fallback prompt, both from scripted judge replies."""

from __future__ import annotations

from agent.graph.testing import ScriptedChatModel
from evals.judge import RagasJudge, fallback_answer_relevancy
from knowledge.embeddings import Embedder
from tests.unit.test_judge import PROMPTS, REPLY

TICKET = "How do I reset two-factor authentication for my account?"


def test_ragas_answer_relevancy_with_our_embedder(embedder: Embedder) -> None:
    def score(q: str, noncommittal: int = 0, reply: str = REPLY) -> float:
        model = ScriptedChatModel(replies=[{"question": q, "noncommittal": noncommittal}])
        return RagasJudge(model, embedder).answer_relevancy(TICKET, reply)

    good = score("How can I reset two-factor authentication on my account?")
    bad = score("What is the price of the premium plan?")
    assert good > 0.8 > 0.4 > bad
    assert score("How can I reset 2FA?", noncommittal=1, reply="A colleague will follow up.") == 0.0


def test_fallback_answer_relevancy_uses_the_embedder_and_noncommittal_scores_zero(embedder: Embedder) -> None:
    on_topic = ScriptedChatModel(
        replies=[{"questions": ["How can I reset my 2FA?", "How do I reset two-factor authentication?"]}]
    )
    off_topic = ScriptedChatModel(replies=[{"questions": ["What is the price of the premium plan?"]}])
    evasive = ScriptedChatModel(replies=[{"questions": ["?"], "noncommittal": True}])
    good = fallback_answer_relevancy(on_topic, PROMPTS, embedder, TICKET, REPLY)
    bad = fallback_answer_relevancy(off_topic, PROMPTS, embedder, TICKET, REPLY)
    assert good > 0.7 > bad
    assert fallback_answer_relevancy(evasive, PROMPTS, embedder, TICKET, "A colleague will follow up.") == 0.0
