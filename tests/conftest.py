"""Shared by both suites. Outbound network is blocked for every test: only loopback and UNIX sockets.

tests/unit runs on fakes (its conftest fails a test that loads the real embedder or opens Chroma);
the real embedder and the demo KB in Chroma are fixtures of tests/integration/conftest.py."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from agent.settings import REPO_ROOT, Settings
from tests.netutil import free_port

DEMO_KB = REPO_ROOT / "knowledge" / "demo"
SMOKE = REPO_ROOT / "evals" / "datasets" / "smoke.jsonl"

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _allowed(address: Any) -> bool:
    if isinstance(address, str | bytes):  # AF_UNIX path
        return True
    host = address[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guarded_connect(self: socket.socket, address: Any) -> None:
    if not _allowed(address):
        raise ConnectionRefusedError(f"tests may not reach the network (tried {address!r})")
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    if not _allowed(address):
        raise ConnectionRefusedError(f"tests may not reach the network (tried {address!r})")
    return _real_connect_ex(self, address)


@pytest.fixture(autouse=True, scope="session")
def _block_network() -> Iterator[None]:
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
    yield
    socket.socket.connect = _real_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _real_connect_ex  # type: ignore[method-assign]


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings isolated from the developer's .env / triage.toml."""
    base: dict[str, Any] = {
        "data_dir": data_dir,
        "llm": "none",
        "api_key": "test-api-key",
        "webhook_secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "worker_poll_s": 0.05,
        # a port of its own for any model process a test starts: with the suite on two xdist workers,
        # a shared default (8090) meant one test found the other's model there and refused it
        "model_port": free_port(),
    }
    base.update(overrides)
    return Settings(_env_file=None, **base)  # type: ignore[call-arg]


def clean_env() -> dict[str, str]:
    """This process's environment for a child process, without the developer's own TRIAGE_* settings;
    the test session's embedding cache (tests/integration/conftest.py) is passed on."""
    return {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_") or k == "TRIAGE_EMBEDDING_CACHE"}
