"""The model process's prompt cache counts the logits copy each saved prompt carries
(agent/runtime/model_process.py count_whole_prompt_states); llama-cpp-python's own count leaves it out."""

from __future__ import annotations

import numpy as np
import pytest
from llama_cpp.llama import LlamaState
from llama_cpp.llama_cache import LlamaRAMCache

from agent.runtime.model_process import count_whole_prompt_states


def state(rows: int, vocab: int, kv_bytes: int) -> LlamaState:
    return LlamaState(
        input_ids=np.zeros(64, dtype=np.intc),
        scores=np.zeros((rows, vocab), dtype=np.single),
        n_tokens=10,
        llama_state=b"\0" * kv_bytes,
        llama_state_size=kv_bytes,
        seed=0,
    )


def test_the_budget_holds_the_logits_copies_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(LlamaRAMCache, "cache_size", LlamaRAMCache.cache_size)  # restored after the test
    one = state(rows=8, vocab=1000, kv_bytes=1000)  # 32,000 bytes of logits, 1,000 of state
    budget = 3 * 33_500
    count_whole_prompt_states()
    cache = LlamaRAMCache(capacity_bytes=budget)
    for i in range(10):
        cache[(i, i + 1)] = one
    assert len(cache.cache_state) == 3  # the last three, each counted whole
    assert cache.cache_size <= budget
    assert list(cache.cache_state) == [(7, 8), (8, 9), (9, 10)]
