"""`openai/<model>` against a scripted OpenAI-compatible server on loopback (the LLM is the only fake)."""

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
from agent.service import Agent
from agent.settings import Settings
from tests.netutil import free_port

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


def test_openai_compatible_server_drives_the_graph(demo_settings: Settings, openai_server) -> None:  # type: ignore[no-untyped-def]
    url, seen = openai_server
    settings = demo_settings.model_copy(
        update={"llm": "openai/local-model", "llm_base_url": url, "llm_api_key": "sk-test"}
    )
    agent = Agent.from_settings(settings, durable=False)
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
