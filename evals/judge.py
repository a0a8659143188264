"""Optional LLM-judged metrics for `triage eval resolve --judge provider/model`, after ragas.

- faithfulness: the reply is split into statements (sentences, boilerplate dropped); the judge says
  for each whether the cited documents support it; the score is the supported share (ragas
  Faithfulness).
- answer relevancy: the judge writes the questions the reply answers; the score is the mean cosine
  similarity of those questions to the ticket, with our embedder, 0 when the judge finds the reply
  noncommittal (ragas ResponseRelevancy).
Both only for tickets that got a draft. ragas itself is not imported: 0.4.3 and 0.3.9 fail at import
with every current langchain-community (vibrantlabsai/ragas#2745, #2995); the prompts are ours,
in prompts/judge_*.md, versioned like every other prompt.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from agent.graph.llm import LLM_FALLBACK_ERRORS
from agent.graph.prompts import load_prompt
from evals.resolve.replay import Trace
from knowledge.embeddings import Embedder

MAX_STATEMENTS = 8
DOC_CHARS = 1500
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_BOILER = re.compile(
    r"^(hello|hi|dear|thank|thanks|best|regards|kind regards|source|джерело|источник|добрий|дякуємо|"
    r"if this does not|якщо це не)",
    re.IGNORECASE,
)


class Verdicts(BaseModel):
    verdicts: list[bool] = Field(description="one per statement, in order: true = supported by the documents")


class Questions(BaseModel):
    questions: list[str] = Field(max_length=5)
    noncommittal: bool = False


def statements(reply: str) -> list[str]:
    """The reply's factual sentences (greetings, sign-offs and the source line dropped)."""
    parts = [p.strip(" -*•\t") for p in _SENTENCE.split(reply)]
    return [p for p in parts if len(p) > 12 and not _BOILER.match(p)][:MAX_STATEMENTS]


def faithfulness(model: BaseChatModel, prompts_dir: Any, reply: str, docs: list[str]) -> float | None:
    sts = statements(reply)
    if not sts:
        return None
    prompt = load_prompt(prompts_dir, "judge_faithfulness")
    system, user = prompt.render(
        docs="\n\n".join(d[:DOC_CHARS] for d in docs), statements="\n".join(f"{i}. {s}" for i, s in enumerate(sts, 1))
    )
    out: Any = model.with_structured_output(Verdicts).invoke([SystemMessage(system), HumanMessage(user)])
    verdicts = list(out.verdicts)[: len(sts)]
    if len(verdicts) < len(sts):  # a verdict the judge left out counts as unsupported
        verdicts += [False] * (len(sts) - len(verdicts))
    return sum(verdicts) / len(sts)


def answer_relevancy(model: BaseChatModel, prompts_dir: Any, embedder: Embedder, question: str, reply: str) -> float:
    prompt = load_prompt(prompts_dir, "judge_relevancy")
    system, user = prompt.render(reply=reply)
    out: Any = model.with_structured_output(Questions).invoke([SystemMessage(system), HumanMessage(user)])
    qs = [q for q in out.questions if q.strip()]
    if out.noncommittal or not qs:
        return 0.0
    vecs = np.asarray(embedder.encode([question, *qs]), dtype=np.float32)
    vecs /= np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-9)
    return float(np.mean(vecs[1:] @ vecs[0]))


def judge(
    traces: list[Trace],
    model: BaseChatModel,
    prompts_dir: Any,
    embedder: Embedder,
    document_text: Callable[[str], str],
    spec: str,
) -> dict[str, Any]:
    faith: list[float] = []
    relev: list[float] = []
    failed = 0
    for t in traces:
        if t.draft is None or not t.draft.text.strip():
            continue
        question = f"{t.case.subject}\n{t.case.body}".strip()
        try:
            f = faithfulness(model, prompts_dir, t.draft.text, [document_text(d) for d in t.draft.citations])
            if f is not None:
                faith.append(f)
            relev.append(answer_relevancy(model, prompts_dir, embedder, question, t.draft.text))
        except LLM_FALLBACK_ERRORS:
            failed += 1
    return {
        "judge": spec,
        "faithfulness": round(sum(faith) / len(faith), 4) if faith else None,
        "answer_relevancy": round(sum(relev) / len(relev), 4) if relev else None,
        "judged_drafts": len(relev),
        "judge_failures": failed,
        "prompts": {
            "judge_faithfulness": load_prompt(prompts_dir, "judge_faithfulness").version,
            "judge_relevancy": load_prompt(prompts_dir, "judge_relevancy").version,
        },
    }


def add_verdict(result: dict[str, Any], verdict: dict[str, Any]) -> None:
    """Record a `judge` verdict in a resolve result (`evals.resolve.metrics.evaluate`): its figures
    under `judge`, faithfulness and answer relevancy beside the other metrics (so `triage eval
    compare` sees them), the judge prompts' versions with the run's prompts."""
    result["judge"] = {k: v for k, v in verdict.items() if k != "prompts"}
    result["faithfulness"], result["answer_relevancy"] = verdict["faithfulness"], verdict["answer_relevancy"]
    result["run"]["prompts"].update(verdict["prompts"])
