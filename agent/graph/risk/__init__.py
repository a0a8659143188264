"""Risk that does not depend on phrasing: a learned detector combined with the policy's rules.

- `data/risk_examples.jsonl`: the labelled set (English and Ukrainian; `split` dev/test, `group` the
  situation a ticket was written from), composed by `data/build.py` from hand-written cores.
- `features.py`: word and character n-grams (the same code trains and predicts).
- `model.py`: `RiskModel` (TF-IDF + multinomial logistic regression over none + 8 kinds, Platt-
  calibrated P(risk), stacked with a semantic part: logistic regression on multilingual-e5-small ticket
  vectors), shipped as JSON (`risk_model.json`, its own sha256 checked at load; no pickle).
- `semantic.py`: training side of the semantic part (ticket vectors, cached between runs).
- `train.py`: grouped cross-validation on dev, threshold choice, `python -m agent.graph.risk.train`.
- `notes.py`: what the engineer should (not) do, per kind and per flag (the handoff note).
- `evaluate.py`: recall, precision, per kind and per language (`triage eval risk`).
"""

from agent.graph.risk.model import KIND_FLAGS, KINDS, RiskDetection, RiskModel, RiskModelError, shipped_model
from agent.graph.risk.notes import careful_notes

__all__ = [
    "KINDS",
    "KIND_FLAGS",
    "RiskDetection",
    "RiskModel",
    "RiskModelError",
    "careful_notes",
    "shipped_model",
]
