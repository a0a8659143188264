"""The labelled risk set: one JSON object a line (id, text, language, risk, kind, split, group, source).

`source` is "written" (composed by data/build.py from hand-written cores), "history" (a real past
ticket of evals/datasets/history.jsonl, labelled by hand in data/history_labels.py) or "demo" (a
ticket of the demo help centre's dev eval sets, the smoke set and evals/fresh/, labelled by their
gold risk flags).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ValidationError, model_validator

from agent.graph.risk.model import KINDS, RiskModelError

DEFAULT_DATA = Path(__file__).resolve().parent / "data" / "risk_examples.jsonl"
SOURCES = ("written", "history", "demo")


class Example(BaseModel):
    id: str
    text: str
    language: str
    risk: bool
    kind: str | None
    split: str
    group: str = ""
    source: str = "written"

    @model_validator(mode="after")
    def _consistent(self) -> Example:
        if self.risk != (self.kind is not None):
            raise ValueError("risk must be true exactly when kind is set")
        if self.kind is not None and self.kind not in KINDS:
            raise ValueError(f"unknown kind {self.kind!r}; use one of {', '.join(KINDS)}")
        if self.split not in ("dev", "test"):
            raise ValueError("split must be dev or test")
        if self.source not in SOURCES:
            raise ValueError(f"source must be one of {', '.join(SOURCES)}")
        if not self.group:
            self.group = self.id
        return self


def load_examples(path: Path = DEFAULT_DATA) -> list[Example]:
    out: list[Example] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise RiskModelError(f"{path}: cannot read the risk examples ({exc})") from exc
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            out.append(Example.model_validate_json(line))
        except ValidationError as exc:
            raise RiskModelError(f"{path}:{n}: not a risk example: {exc.errors()[0]['msg']}") from exc
    return out
