"""Test doubles that implement the real interfaces of agent/graph (shipped with the code, not in tests/).

`ScriptedChatModel` is a LangChain chat model that returns scripted replies in order and records the
prompts it was given; register it with `agent.graph.llm.register("scripted", ...)` or hand it to an
`AgentContext` directly.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable, RunnableLambda
from pydantic import BaseModel, Field, PrivateAttr

from agent.graph.llm import LLMOutputError, json_parser, to_dicts


class StructuredByJsonSchema(BaseChatModel):
    """Base for chat models that take a `response_format` JSON schema (llama.cpp, scripted)."""

    def with_structured_output(  # type: ignore[override]
        self, schema: type[BaseModel], **kwargs: Any
    ) -> Runnable[LanguageModelInput, Any]:
        fmt = {"type": "json_object", "schema": schema.model_json_schema()}
        return self.bind(response_format=fmt) | RunnableLambda(json_parser(schema))


class ScriptedChatModel(StructuredByJsonSchema):
    """A test double with the real interface: returns scripted replies in order, records prompts.

    A reply may be a string (the raw model output), an AIMessage (returned as it is, metadata and all),
    a dict or BaseModel (dumped to JSON), or an exception instance (raised, to simulate a timeout or a
    server error).
    """

    replies: list[Any]
    calls: list[list[dict[str, str]]] = Field(default_factory=list)
    _i: int = PrivateAttr(default=0)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.calls.append(to_dicts(messages))
        if self._i >= len(self.replies):
            raise LLMOutputError(f"ScriptedChatModel ran out of replies after {len(self.replies)} calls")
        reply = self.replies[self._i]
        self._i += 1
        if isinstance(reply, BaseException):
            raise reply
        if isinstance(reply, AIMessage):  # with its metadata (finish_reason "length": cut at the token limit)
            return ChatResult(generations=[ChatGeneration(message=reply)])
        if isinstance(reply, BaseModel):
            reply = reply.model_dump_json()
        elif isinstance(reply, dict):
            reply = json.dumps(reply)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=str(reply)))])

    def _stream(self, *args: Any, **kwargs: Any) -> Iterator[Any]:  # pragma: no cover - not used
        raise NotImplementedError


def sample_result(**fields: Any) -> dict[str, Any]:
    """A stored ticket result (TicketResult as JSON) for tests that put tickets in a store by hand:
    a plausible triage and decision, with any field replaced (`decision={...}`, `reply={...}`, ...)."""
    from agent.domain import Decision, Scored, TicketResult, Triage

    def scored(value: Any) -> Scored[Any]:
        return Scored[Any](value=value, confidence=0.9)

    base = TicketResult(
        triage=Triage(
            category=scored("payslips"),
            priority=scored("normal"),
            language=scored("en"),
            sentiment=scored("neutral"),
            risk=Scored[list[str]](value=[], confidence=0.9),
        ),
        decision=Decision(action="suggest", reason="a human should review the draft"),
        policy_version="test",
    ).model_dump(mode="json")
    return TicketResult.model_validate({**base, **fields}).model_dump(mode="json")
