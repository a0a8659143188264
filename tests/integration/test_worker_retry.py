"""Errors by kind, through the real graph and the real worker on a real SQLite store: a transient failure
is retried in place (the node's RetryPolicy) and then given back to the queue; a bug or a permanent
error fails the ticket at once, recorded, never retried; an LLM that is down degrades the ticket
(fallback) instead of failing it; a misconfigured LLM server (401) fails it loudly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import httpx2
import openai
import pytest
from sqlalchemy.exc import OperationalError

from agent.errors import LLMOutputError, LLMUnavailable, is_transient
from agent.graph.context import AgentContext
from agent.graph.llm import LLM_FALLBACK_ERRORS, LLMConfigError
from agent.graph.policy import load_policy
from agent.graph.testing import ScriptedChatModel
from agent.runtime.assembly import Agent, sqlite_checkpointer
from agent.runtime.worker import Worker
from agent.storage.tickets import TicketStore
from knowledge.testing import InMemoryRetriever
from knowledge.types import Hit
from tests.conftest import make_settings
from tools.http import PermanentWriteBackError, TransientWriteBackError

pytestmark = pytest.mark.integration


class FailingRetriever(InMemoryRetriever):
    """The demo KB, whose search raises `error` the first `times` calls (then answers)."""

    def __init__(self, base: InMemoryRetriever, error: BaseException, times: int) -> None:
        self.__dict__.update(base.__dict__)
        self.error, self.times, self.calls = error, times, 0

    def search(self, query: str, k: int = 5, filters: dict[str, Any] | None = None, mode: str = "hybrid",
               dense_weight: float = 1.0) -> list[Hit]:  # fmt: skip
        self.calls += 1
        if self.calls <= self.times:
            raise self.error
        return super().search(query, k, filters, mode, dense_weight)


def _openai_request() -> httpx2.Request:  # the openai client runs on httpx2
    return httpx2.Request("POST", "http://127.0.0.1:9/v1/chat/completions")


def _openai_error(cls: type[openai.APIStatusError], status: int) -> openai.APIStatusError:
    return cls("boom", response=httpx2.Response(status, request=_openai_request()), body=None)


def test_is_transient_says_which_errors_may_pass() -> None:
    request = httpx.Request("POST", "http://127.0.0.1:9")
    transient = [
        LLMUnavailable("down"),
        TransientWriteBackError(
            "503 x6", system="zendesk", method="PUT", endpoint="/x", attempts=6, elapsed_s=30.0, status=503
        ),
        httpx.ConnectError("refused", request=request),
        openai.APIConnectionError(request=_openai_request()),
        _openai_error(openai.InternalServerError, 500),
        _openai_error(openai.RateLimitError, 429),
        OperationalError("select 1", {}, Exception("database is locked")),
        TimeoutError("slow"),
    ]
    permanent = [
        LLMOutputError("not JSON"),
        LLMConfigError("no such model"),
        PermanentWriteBackError("403", system="jira", method="POST", endpoint="/x", status=403, api_error="no"),
        _openai_error(openai.AuthenticationError, 401),
        KeyError("a bug"),
        ValueError("a bug"),
    ]
    assert [type(e).__name__ for e in transient if not is_transient(e)] == []
    assert [type(e).__name__ for e in permanent if is_transient(e)] == []
    # the nodes degrade on an unavailable or unusable LLM, but a wrong key or model name is not hidden
    assert isinstance(openai.APIConnectionError(request=_openai_request()), LLM_FALLBACK_ERRORS)
    assert not isinstance(_openai_error(openai.AuthenticationError, 401), LLM_FALLBACK_ERRORS)
    assert not isinstance(_openai_error(openai.NotFoundError, 404), LLM_FALLBACK_ERRORS)
    assert not isinstance(LLMConfigError("x"), LLM_FALLBACK_ERRORS)


def _worker(tmp_path: Path, knowledge: InMemoryRetriever, llm: Any = None, max_attempts: int = 3) -> Worker:
    settings = make_settings(tmp_path, database_url=f"sqlite:///{tmp_path / 'triage.db'}",
                             checkpoint_db=tmp_path / "checkpoints.sqlite")  # fmt: skip
    ctx = AgentContext(settings=settings, policy=load_policy(settings.policy_file), knowledge=knowledge, llm=llm)
    store = TicketStore(settings.db_url)
    return Worker(store, Agent(ctx, sqlite_checkpointer(settings)), poll_s=0.01, max_attempts=max_attempts)


def _post(worker: Worker, external_id: str = "R-1") -> str:
    fields = {"external_id": external_id, "subject": "Payslip missing", "body": "Please resend my March payslip."}
    ticket_id, _ = worker.store.create_or_get("generic", external_id, fields)
    return ticket_id


def test_a_transient_failure_is_retried_in_place_then_requeued_then_finished(tmp_path: Path) -> None:
    demo = InMemoryRetriever.demo()
    # 3 failures: the retrieve node's RetryPolicy (3 attempts) gives up, the worker requeues the ticket
    kb = FailingRetriever(demo, OperationalError("select", {}, Exception("database is locked")), times=3)
    worker = _worker(tmp_path, kb)
    ticket_id = _post(worker)
    assert worker.run_once()
    row = worker.store.get(ticket_id)
    assert row is not None and row["status"] == "received" and row["attempts"] == 1, row
    assert kb.calls == 3  # retried in place before giving up
    assert "OperationalError" in str(row["error"])
    assert worker.run_once()  # the next attempt: the store answers now
    row = worker.store.get(ticket_id)
    assert row is not None and row["status"] in ("done", "awaiting_review", "handed_off"), row


def test_a_bug_fails_the_ticket_at_once_and_is_not_retried(tmp_path: Path) -> None:
    kb = FailingRetriever(InMemoryRetriever.demo(), KeyError("chunk_index"), times=99)
    worker = _worker(tmp_path, kb)
    ticket_id = _post(worker)
    assert worker.run_once()
    row = worker.store.get(ticket_id)
    assert row is not None and row["status"] == "failed" and row["attempts"] == 1, row
    assert kb.calls == 1  # no RetryPolicy retry, no requeue
    (failed,) = [e for e in row["audit"] if e["event"] == "failed"]
    assert failed["detail"]["transient"] is False and failed["detail"]["kind"] == "KeyError"
    assert not worker.run_once()  # nothing left to claim


def test_transient_failures_stop_after_max_attempts(tmp_path: Path) -> None:
    kb = FailingRetriever(InMemoryRetriever.demo(), ConnectionError("chroma unreachable"), times=99)
    worker = _worker(tmp_path, kb, max_attempts=2)
    ticket_id = _post(worker)
    assert worker.run_once() and worker.run_once()
    row = worker.store.get(ticket_id)
    assert row is not None and row["status"] == "failed" and row["attempts"] == 2
    (failed,) = [e for e in row["audit"] if e["event"] == "failed"]
    assert failed["detail"]["transient"] is True


def test_an_llm_that_is_down_degrades_the_ticket_and_a_wrong_key_fails_it(tmp_path: Path) -> None:
    down = ScriptedChatModel(replies=[openai.APIConnectionError(request=_openai_request())] * 3)
    worker = _worker(tmp_path / "down", InMemoryRetriever.demo(), llm=down)
    ticket_id = _post(worker)
    assert worker.run_once()
    row = worker.store.get(ticket_id)
    assert row is not None and row["status"] == "handed_off", row  # nearest-doc triage, handoff
    assert [e for e in row["audit"] if e["event"] == "llm_failed"]

    wrong_key = ScriptedChatModel(replies=[_openai_error(openai.AuthenticationError, 401)] * 3)
    worker = _worker(tmp_path / "key", InMemoryRetriever.demo(), llm=wrong_key)
    ticket_id = _post(worker)
    assert worker.run_once()
    row = worker.store.get(ticket_id)
    assert row is not None and row["status"] == "failed" and "AuthenticationError" in str(row["error"])
