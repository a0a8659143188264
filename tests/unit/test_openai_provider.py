"""`openai/<model>` against a scripted OpenAI-compatible server on loopback (the real client; the
server and the in-memory demo KB are the fakes)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI, Request

from agent.domain import Ticket
from agent.graph.llm import make_chat_model
from agent.runtime.assembly import Agent
from agent.settings import Settings
from tests.netutil import free_port
from tests.unit.conftest import offline_agent

REPLIES = [
    json.dumps(
        {
            "category": "account_access",
            "category_confidence": 0.9,
            "priority": "normal",
            "priority_confidence": 0.8,
            "sentiment": "neutral",
            "sentiment_confidence": 0.8,
            "risk_flags": [],
            "risk_confidence": 0.9,
        }
    ),
    "Use the Forgot password link on the sign-in page [KB-001].",
]


def agent_for(settings: Settings) -> Agent:
    """As `Agent.from_settings(settings, durable=False)` builds it, on the in-memory demo KB."""
    return offline_agent(settings, llm=make_chat_model(settings.llm, settings))


@pytest.fixture
def openai_server() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    app = FastAPI()
    seen: list[dict[str, Any]] = []

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> dict[str, Any]:
        body = await request.json()
        seen.append({"auth": request.headers.get("authorization"), **body})
        content = REPLIES[min(len(seen) - 1, len(REPLIES) - 1)]
        return {
            "id": f"c{len(seen)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body["model"],
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
        }

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}/v1", seen
    server.should_exit = True
    thread.join(10)


def test_openai_compatible_server_drives_the_graph(settings: Settings, openai_server) -> None:  # type: ignore[no-untyped-def]
    url, seen = openai_server
    agent = agent_for(
        settings.model_copy(update={"llm": "openai/local-model", "llm_base_url": url, "llm_api_key": "sk-test"})
    )
    state = agent.run(
        Ticket(id="o-1", external_id="O-1", subject="Forgot password", body="I forgot my password and cannot sign in.")
    )
    assert state["triage"].decided_by == "llm"
    assert state["triage"].category.value == "account_access"
    assert state["draft"].citations == ["KB-001"] and state["draft"].generated_by == "llm"
    # classification was asked with a JSON schema naming our categories; the key was sent
    fmt = seen[0]["response_format"]
    assert fmt["type"] == "json_schema"
    assert "account_access" in json.dumps(fmt["json_schema"]["schema"])
    assert seen[0]["model"] == "local-model" and seen[0]["auth"] == "Bearer sk-test"


def test_the_bundled_model_is_reached_as_llama_cpp_server_expects(settings: Settings, openai_server) -> None:  # type: ignore[no-untyped-def]
    """llamacpp/... talks to the model process over the same OpenAI API, in llama_cpp.server's dialect:
    `max_tokens` (it ignores `max_completion_tokens`, and a draft would run to the end of the context),
    a json_object `response_format` with the schema (its grammar), and no repetition penalty."""
    url, seen = openai_server
    llamacpp = {"llm": "llamacpp/smollm2-135m", "model_url": url.removesuffix("/v1"), "llm_max_tokens": 77}
    agent = agent_for(settings.model_copy(update=llamacpp))
    state = agent.run(
        Ticket(id="o-2", external_id="O-2", subject="Forgot password", body="I forgot my password and cannot sign in.")
    )
    assert state["triage"].decided_by == "llm" and state["draft"].generated_by == "llm"
    assert len(seen) == 2
    for request in seen:
        assert request["model"] == "smollm2-135m"
        assert request["max_tokens"] == 77 and "max_completion_tokens" not in request
        assert request["repeat_penalty"] == 1.0
    fmt = seen[0]["response_format"]
    assert fmt["type"] == "json_object" and "account_access" in json.dumps(fmt["schema"])
    assert "response_format" not in seen[1]  # the draft is plain text
