"""The shipped policy with its cosine thresholds on all-MiniLM-L6-v2's scale, for the unit tests.

The unit tests' knowledge base (`knowledge.testing.InMemoryRetriever`) maps a TF-IDF cosine onto
MiniLM's cosine scale, and their scripted hits are MiniLM-scale scores; the shipped policy's
`retrieval` thresholds are multilingual-e5-small's (the default embedder since issue 14: compressed
cosines, unrelated pairs ~0.8). So the unit tests pin MiniLM explicitly: the shipped policy (every
rule, risk pattern and category as shipped) with the retrieval thresholds and the answerability
model it had under MiniLM (tests/fixtures/minilm/answerability.json, trained on MiniLM features)
and Settings.embedder = MiniLM (the model's embedder check passes). The e5 values are exercised by
the integration tests on the real store.
"""

from __future__ import annotations

import re
import tempfile
from functools import cache
from pathlib import Path

import yaml

from agent.settings import REPO_ROOT

MINILM = "bundled:all-MiniLM-L6-v2"
SHIPPED_POLICY = REPO_ROOT / "agent" / "graph" / "policy.yaml"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "minilm"
MINILM_MODEL = FIXTURES / "answerability.json"
CATEGORIES = FIXTURES / "categories.yaml"  # the categories' auto thresholds before the switch
MINILM_RETRIEVAL = {
    "out_of_scope_below": 0.46,
    "suggest_at_least": 0.46,
    "auto_at_least": 0.50,
    "auto_min_margin": 0.0,
    "rca_link_at_least": 0.45,
    "vote_temperature": 0.05,
    "answerability_model": str(MINILM_MODEL),
    "auto_min_answerability": 0.6,
    "suggest_min_answerability": 0.3,
    "reliable_languages": ["en"],
    "unreliable_dense_weight": 0.25,
}


@cache
def minilm_policy_file() -> Path:
    """A copy of the shipped policy's text (comments kept) with `MINILM_RETRIEVAL` and the categories'
    auto thresholds of tests/fixtures/minilm/categories.yaml (written once per test process)."""
    text = SHIPPED_POLICY.read_text(encoding="utf-8")
    text = re.sub(r"(?ms)^# --- tuned by `triage tune`.*\Z", "", text).rstrip() + "\n"
    for key, value in MINILM_RETRIEVAL.items():
        shown = f"[{', '.join(value)}]" if isinstance(value, list) else str(value)
        text, n = re.subn(rf"(?m)^(  {key}: )[^#\n]*", lambda m, v=shown: m.group(1) + v + " ", text, count=1)
        assert n == 1, f"policy.yaml has no retrieval.{key}"
    categories = yaml.safe_load(CATEGORIES.read_text(encoding="utf-8"))
    for name, rule in categories.items():
        pat = re.compile(rf"(?m)^(  {re.escape(name)}:\n(?:    .*\n)*?    auto_threshold: )([0-9.]+)")
        text, n = pat.subn(lambda m, v=rule["auto_threshold"]: m.group(1) + str(v), text, count=1)
        assert n == 1, f"policy.yaml has no category {name}"
    path = Path(tempfile.mkdtemp(prefix="minilm-policy-")) / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    return path
