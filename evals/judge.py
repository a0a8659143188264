"""LLM-judged metrics for `triage eval resolve --judge provider/model`: ragas's own.

- faithfulness: ragas `Faithfulness` (ragas.metrics.collections): the judge breaks the reply into
  statements, then says for each whether the documents the reply cites support it; the score is
  the supported share (NaN, left out of the mean as ragas does, when it finds no statement).
- answer relevancy: ragas `AnswerRelevancy` (the collections name of ResponseRelevancy): the judge
  writes the question the reply answers and whether the reply is noncommittal; the score is the
  cosine similarity of that question to the ticket with our embedder, 0 when noncommittal.
Both only for tickets that got a draft; ragas's prompts, scoring and averaging (`safe_nanmean`).

The judge is our chat model (agent/graph/llm.py) behind the LLM interface ragas 0.4's metrics take
(`ChatModelLLM`, an `InstructorBaseRagasLLM`: ragas's prompt in, its response model out, through
the model's structured output, i.e. llama.cpp's JSON-schema grammar for the bundled model), and our
embedder behind ragas's embeddings interface (`EncoderEmbeddings`). ragas's own `llm_factory` wants
an OpenAI/Anthropic/LiteLLM SDK client and `LangchainLLMWrapper` only feeds the deprecated metric
classes free text: neither takes our provider registry (nor its test double).

Per case, a ragas metric whose prompt the model cannot answer (unparseable or invalid output, a
prompt over its context, a timeout) falls back to our own prompt for that metric
(prompts/judge_*.md, `fallback_faithfulness` / `fallback_answer_relevancy`); a case neither scores
is counted as failed. The verdict says, per metric, how many cases ragas scored, how many the
fallback did, how many failed and why, and the mean of each.
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from collections.abc import Callable, Sequence
from typing import Any, Literal, Protocol, TypeVar

import numpy as np
import openai
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI
from numpy.typing import NDArray
from pydantic import BaseModel, Field

from agent.errors import LLMOutputError
from agent.graph.llm import LLM_FALLBACK_ERRORS
from agent.graph.prompts import load_prompt
from agent.graph.redaction import redact
from agent.runtime.model_server import probe
from agent.settings import Settings
from evals.resolve.metrics import nan_to_none, ragas_mean, ragas_offline
from evals.resolve.replay import Trace

RAGAS_VERSION = ragas_offline()  # telemetry off before ragas is imported

from ragas.embeddings.base import BaseRagasEmbedding  # noqa: E402
from ragas.llms.base import InstructorBaseRagasLLM  # noqa: E402
from ragas.metrics.collections import AnswerRelevancy, Faithfulness  # noqa: E402
from ragas.metrics.result import MetricResult  # noqa: E402

M = TypeVar("M", bound=BaseModel)
ScoredBy = Literal["ragas", "fallback"]

MAX_STATEMENTS = 8
DOC_CHARS = 1500  # per cited document: ragas's NLI prompt (~900 tokens of examples) must fit a 4k context
MAX_DOCS = 3
# ragas's NLI verdicts carry a reason per statement: more than the drafting budget (llm_max_tokens)
JUDGE_MAX_TOKENS = 1024
# ragas asks for 3 questions (strictness) to average over sampling; our judge runs at temperature 0
# with a fixed seed, so the 2nd and 3rd would repeat the 1st at twice the cost
RELEVANCY_QUESTIONS = 1
# what a ragas metric raises when the model cannot run its prompt: ours (LLM_FALLBACK_ERRORS) plus
# ValueError (pydantic's ValidationError, LangChain's OutputParserException, ragas's input checks)
JUDGE_ERRORS: tuple[type[BaseException], ...] = (*LLM_FALLBACK_ERRORS, ValueError)
# the model process is unreachable (down, restarting) or gave no answer in time: worth waiting for
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (ConnectionError, TimeoutError, openai.APIConnectionError)

_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_BOILER = re.compile(
    r"^(hello|hi|dear|thank|thanks|best|regards|kind regards|source|джерело|источник|добрий|дякуємо|"
    r"if this does not|якщо це не)",
    re.IGNORECASE,
)


class Encoder(Protocol):
    """What the judge needs of an embedder (knowledge.embeddings.Embedder): query vectors,
    normalised or not. Answer relevancy compares questions with questions (the ticket and the
    question the judge says the reply answers), so both sides are queries: e5's "query: " prefix,
    as its model card says for symmetric tasks; MiniLM ignores the kind."""

    def encode_queries(self, texts: Sequence[str]) -> NDArray[Any]: ...


# ---------------------------------------------------------------------------------------------
# our model and embedder behind ragas's interfaces


def judge_model(model: BaseChatModel, max_tokens: int = JUDGE_MAX_TOKENS) -> BaseChatModel:
    """The chat model with room for ragas's answers (an OpenAI-compatible one: its max_tokens)."""
    if isinstance(model, ChatOpenAI) and (model.max_tokens or 0) < max_tokens:
        return model.model_copy(update={"max_tokens": max_tokens})
    return model


def judge_settings(settings: Settings) -> Settings:
    """Settings for the judge's chat model: ragas's prompts are long (its NLI examples, the documents,
    a reason per statement), and no customer waits on an eval, so a call may run as long as the
    bundled model's supervisor lets one (`model_hang_after_s`) rather than the service's per-call
    budget; a client that gave up sooner would retry behind its own abandoned request."""
    return settings.model_copy(update={"llm_timeout_s": max(settings.llm_timeout_s, settings.model_hang_after_s)})


def model_recovery(settings: Settings, poll_s: float = 2.0) -> Callable[[], None] | None:
    """For the bundled model (llamacpp/...): wait, up to `model_start_timeout_s`, until its process
    answers /health again. `judge` calls it after a connection error, so one case that got the
    process killed and restarted (a stuck decode) does not fail every case after it. None for a
    remote provider."""
    if not settings.llm.startswith("llamacpp/"):
        return None
    url, limit = settings.model_server_url, settings.model_start_timeout_s

    def wait() -> None:
        deadline = time.monotonic() + limit
        while probe(url) is None and time.monotonic() < deadline:
            time.sleep(poll_s)

    return wait


def structured(chat: BaseChatModel, messages: list[BaseMessage], response_model: type[M]) -> M:
    """The model's answer as `response_model`, through its structured output (a dict is validated;
    anything else is an LLMOutputError, which the judge's per-case fallback catches)."""
    out = chat.with_structured_output(response_model).invoke(messages)
    if isinstance(out, response_model):
        return out
    if isinstance(out, dict):
        return response_model.model_validate(out)
    raise LLMOutputError(f"judge returned {type(out).__name__}, not {response_model.__name__}")


class ChatModelLLM(InstructorBaseRagasLLM):
    """A LangChain chat model as ragas 0.4's LLM: `generate(prompt, ResponseModel)` returns a
    ResponseModel, asked for through the model's structured output. The async method runs the sync
    call in a thread: each ragas `score()` runs in an event loop of its own, and an async HTTP
    client kept across loops fails ("Event loop is closed")."""

    def __init__(self, chat: BaseChatModel) -> None:
        self.chat = chat

    def generate(self, prompt: str, response_model: type[M]) -> M:
        return structured(self.chat, [HumanMessage(prompt)], response_model)

    async def agenerate(self, prompt: str, response_model: type[M]) -> M:
        return await asyncio.to_thread(self.generate, prompt, response_model)


class EncoderEmbeddings(BaseRagasEmbedding):
    """Our embedder as ragas 0.4's embeddings (local and quick: the async methods call it directly).
    ragas's AnswerRelevancy embeds only the ticket and its generated questions: every text here is
    a query (see `Encoder`)."""

    def __init__(self, encoder: Encoder) -> None:
        super().__init__()
        self.encoder = encoder

    def embed_text(self, text: str, **kwargs: Any) -> list[float]:
        return self.embed_texts([text])[0]

    async def aembed_text(self, text: str, **kwargs: Any) -> list[float]:
        return self.embed_text(text)

    def embed_texts(self, texts: list[str], **kwargs: Any) -> list[list[float]]:
        return np.asarray(self.encoder.encode_queries(list(texts)), dtype=np.float64).tolist()

    async def aembed_texts(self, texts: list[str], **kwargs: Any) -> list[list[float]]:
        return self.embed_texts(texts)


class RagasJudge:
    """ragas's Faithfulness and AnswerRelevancy with our model and embedder."""

    def __init__(self, model: BaseChatModel, embedder: Encoder, questions: int = RELEVANCY_QUESTIONS) -> None:
        self.model = judge_model(model)
        llm = ChatModelLLM(self.model)
        self.faithfulness_metric = Faithfulness(llm=llm)
        self.relevancy_metric = AnswerRelevancy(llm=llm, embeddings=EncoderEmbeddings(embedder), strictness=questions)

    def faithfulness(self, question: str, reply: str, contexts: list[str]) -> float:
        result: MetricResult = self.faithfulness_metric.score(
            user_input=question, response=reply, retrieved_contexts=contexts
        )
        return float(result.value)

    def answer_relevancy(self, question: str, reply: str) -> float:
        result: MetricResult = self.relevancy_metric.score(user_input=question, response=reply)
        return float(result.value)


# ---------------------------------------------------------------------------------------------
# our own prompts: the fallback when the model cannot run ragas's


class Verdicts(BaseModel):
    verdicts: list[bool] = Field(description="one per statement, in order: true = supported by the documents")


class Questions(BaseModel):
    questions: list[str] = Field(max_length=5)
    noncommittal: bool = False


def statements(reply: str) -> list[str]:
    """The reply's factual sentences (greetings, sign-offs and the source line dropped)."""
    parts = [p.strip(" -*•\t") for p in _SENTENCE.split(reply)]
    return [p for p in parts if len(p) > 12 and not _BOILER.match(p)][:MAX_STATEMENTS]


def fallback_faithfulness(model: BaseChatModel, prompts_dir: Any, reply: str, docs: list[str]) -> float | None:
    """Our faithfulness: the reply's sentences as statements, one verdict each (None: no statement)."""
    sts = statements(reply)
    if not sts:
        return None
    prompt = load_prompt(prompts_dir, "judge_faithfulness")
    system, user = prompt.render(
        docs="\n\n".join(d[:DOC_CHARS] for d in docs), statements="\n".join(f"{i}. {s}" for i, s in enumerate(sts, 1))
    )
    out = structured(model, [SystemMessage(system), HumanMessage(user)], Verdicts)
    verdicts = list(out.verdicts)[: len(sts)]
    if len(verdicts) < len(sts):  # a verdict the judge left out counts as unsupported
        verdicts += [False] * (len(sts) - len(verdicts))
    return sum(verdicts) / len(sts)


def fallback_answer_relevancy(
    model: BaseChatModel, prompts_dir: Any, embedder: Encoder, question: str, reply: str
) -> float:
    """Our answer relevancy: up to 5 questions in one call, mean cosine to the ticket."""
    prompt = load_prompt(prompts_dir, "judge_relevancy")
    system, user = prompt.render(reply=reply)
    out = structured(model, [SystemMessage(system), HumanMessage(user)], Questions)
    qs = [q for q in out.questions if q.strip()]
    if out.noncommittal or not qs:
        return 0.0
    vecs: NDArray[np.float32] = np.asarray(embedder.encode_queries([question, *qs]), dtype=np.float32)
    vecs /= np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-9)
    cosines: NDArray[np.float32] = vecs[1:] @ vecs[0]
    return float(cosines.mean())


# ---------------------------------------------------------------------------------------------
# a run's drafts


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc)[:200]}"


def _scored(
    ragas_call: Callable[[], float],
    fallback_call: Callable[[], float | None],
    recover: Callable[[], None] | None = None,
) -> tuple[float | None, ScoredBy | None, list[str]]:
    """ragas's score; if the model cannot run ragas's prompt, ours; (score, by whom, errors). After
    a connection error (the model process down or restarting), `recover` before the next call."""
    errors: list[str] = []
    try:
        return nan_to_none(ragas_call()), "ragas", errors
    except JUDGE_ERRORS as exc:
        errors.append(f"ragas: {_error(exc)}")
        if recover is not None and isinstance(exc, CONNECTION_ERRORS):
            recover()
    try:
        v = fallback_call()
        return (None if v is None or math.isnan(v) else round(v, 4)), "fallback", errors
    except JUDGE_ERRORS as exc:
        errors.append(f"fallback: {_error(exc)}")
        if recover is not None and isinstance(exc, CONNECTION_ERRORS):
            recover()
    return None, None, errors


def _summary(rows: list[dict[str, Any]], name: str) -> dict[str, Any]:
    by = [r for r in rows if r[f"{name}_by"] is not None]
    ragas_scores = [r[name] for r in by if r[f"{name}_by"] == "ragas"]
    fallback_scores = [r[name] for r in by if r[f"{name}_by"] == "fallback"]
    return {
        "scored": sum(r[name] is not None for r in by),
        "by_ragas": len(ragas_scores),
        "by_fallback": len(fallback_scores),
        "no_score": sum(r[name] is None for r in by),  # ragas's NaN (no statements) or ours' None
        "failed": len(rows) - len(by),
        "ragas_mean": ragas_mean(ragas_scores),
        "fallback_mean": ragas_mean(fallback_scores),
    }


def _method(s: dict[str, Any], ragas_name: str, version: str, fallback_prompt: str) -> str:
    parts: list[str] = []
    if s["by_ragas"]:
        parts.append(f"ragas {version} {ragas_name} ({s['by_ragas']} cases)")
    if s["by_fallback"]:
        parts.append(f"our prompt {fallback_prompt} as fallback ({s['by_fallback']} cases)")
    if s["failed"]:
        parts.append(f"{s['failed']} failed")
    return "; ".join(parts) or "no draft judged"


def judge(
    traces: list[Trace],
    model: BaseChatModel,
    prompts_dir: Any,
    embedder: Encoder,
    document_text: Callable[[str], str],
    spec: str,
    progress: Callable[[int, int], None] | None = None,
    recover: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Faithfulness and answer relevancy of every draft, by ragas (our prompts as the per-case
    fallback); never raises for what the model answers or fails to. `recover` (`model_recovery`):
    called after a connection error, before the next call."""
    rj = RagasJudge(model, embedder)
    fallback_model = rj.model
    drafted = [t for t in traces if t.draft is not None and t.draft.text.strip()]
    rows: list[dict[str, Any]] = []
    for i, t in enumerate(drafted, 1):
        assert t.draft is not None
        reply = t.draft.text
        # the redacted text the graph's models saw (masked here for a trace that did not record it):
        # the judge is a model too, and never sees a secret or an identifier from the ticket
        question = t.text or redact(f"{t.case.subject}\n\n{t.case.body}".strip())[0]
        docs = [document_text(d)[:DOC_CHARS] for d in t.draft.citations[:MAX_DOCS]]
        contexts = docs or [h.text[:DOC_CHARS] for h in t.hits[:MAX_DOCS]]
        f, f_by, f_err = _scored(
            lambda q=question, r=reply, c=contexts: rj.faithfulness(q, r, c),
            lambda r=reply, c=contexts: fallback_faithfulness(fallback_model, prompts_dir, r, c),
            recover,
        )
        a, a_by, a_err = _scored(
            lambda q=question, r=reply: rj.answer_relevancy(q, r),
            lambda q=question, r=reply: fallback_answer_relevancy(fallback_model, prompts_dir, embedder, q, r),
            recover,
        )
        rows.append(
            {
                "id": t.case.id,
                "faithfulness": f,
                "faithfulness_by": f_by,
                "answer_relevancy": a,
                "answer_relevancy_by": a_by,
                "errors": f_err + a_err,
            }
        )
        if progress is not None:
            progress(i, len(drafted))
    faith, relev = _summary(rows, "faithfulness"), _summary(rows, "answer_relevancy")
    return {
        "judge": spec,
        "faithfulness": ragas_mean([r["faithfulness"] for r in rows]),
        "answer_relevancy": ragas_mean([r["answer_relevancy"] for r in rows]),
        "judged_drafts": len(rows),
        "faithfulness_cases": faith,
        "answer_relevancy_cases": relev,
        "metrics_by": {
            "faithfulness": _method(faith, "Faithfulness", RAGAS_VERSION, "judge_faithfulness"),
            "answer_relevancy": _method(
                relev, f"AnswerRelevancy (strictness {RELEVANCY_QUESTIONS})", RAGAS_VERSION, "judge_relevancy"
            ),
        },
        "cases": rows,
        "prompts": {
            "judge_faithfulness": load_prompt(prompts_dir, "judge_faithfulness").version,
            "judge_relevancy": load_prompt(prompts_dir, "judge_relevancy").version,
        },
    }


def add_verdict(result: dict[str, Any], verdict: dict[str, Any]) -> None:
    """Record a `judge` verdict in a resolve result (`evals.resolve.metrics.evaluate`): its figures
    under `judge`, faithfulness and answer relevancy beside the other metrics (so `triage eval
    compare` sees them), who scored them in the run facts (`metrics_by`), the fallback prompts'
    versions with the run's prompts when they were used."""
    result["judge"] = {k: v for k, v in verdict.items() if k not in ("prompts", "metrics_by")}
    result["faithfulness"], result["answer_relevancy"] = verdict["faithfulness"], verdict["answer_relevancy"]
    result["run"].setdefault("metrics_by", {}).update(verdict["metrics_by"])
    used = {
        "judge_faithfulness": verdict["faithfulness_cases"]["by_fallback"],
        "judge_relevancy": verdict["answer_relevancy_cases"]["by_fallback"],
    }
    result["run"]["prompts"].update({k: v for k, v in verdict["prompts"].items() if used[k]})
