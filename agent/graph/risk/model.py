"""The learned risk detector: P(the ticket carries a risk a human must handle) and which kind.

Two logistic regressions on TF-IDF word and character n-grams (`features.py`): a binary one for
P(risk), Platt-calibrated on out-of-fold scores of the dev split (`train.py`), and a multinomial one
over "none" and the eight kinds below for which kind. The ticket is scored whole and sentence by
sentence (`pieces`), and the riskiest piece counts. A ticket is flagged when the calibrated P(risk)
reaches the threshold chosen on dev (recall first); its kinds are the most likely kind plus any other at least
`SECONDARY_KIND_AT` likely, and each kind maps to the policy's risk flags (`KIND_FLAGS`).

The artefact is one JSON file (`risk_model.json` beside this module; numbers as base64 float32):
vocabularies, idf weights, coefficients, calibration, threshold, the training data's sha256, the
measured figures, and the sha256 of all of that, checked at load (a changed or truncated file is
refused with `RiskModelError`). JSON, never pickle: loading it runs no code.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, Field

from agent.errors import ConfigError
from agent.graph.risk.features import chars, words_and_concepts

FORMAT = "payflow-risk-model"
FORMAT_VERSION = 2  # 2: word block = word n-grams + risk concepts (features.concepts)
SHIPPED_MODEL = Path(__file__).resolve().parent / "risk_model.json"
SECONDARY_KIND_AT = 0.3
# the ticket is scored as a whole and sentence by sentence, and its score is the highest: a risk told
# in one sentence of a long ticket that ends with an ordinary question is not diluted by the rest
_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+")
MIN_SENTENCE_WORDS = 3


def pieces(text: str) -> list[str]:
    """The whole text, then each sentence of at least MIN_SENTENCE_WORDS words."""
    sents = [s for s in _SENTENCE.split(text) if len(s.split()) >= MIN_SENTENCE_WORDS]
    return [text, *sents] if len(sents) > 1 else [text]


KINDS: tuple[str, ...] = (
    "account_takeover",  # takeover, phishing victims, sessions or admins nobody recognises
    "leaked_credentials",  # passwords, API tokens or keys exposed
    "payment_fraud",  # fraud, wrong, double or missing payments and charges
    "data_breach",  # personal data exposed, GDPR / data-subject requests, notification duties
    "regulatory",  # tax office, inspections, penalties, failed or wrong filings
    "legal_threat",  # lawyers, claims, courts, formal complaints to authorities
    "abuse",  # threats of harm, harassment, abuse, self-harm
    "executive_escalation",  # executives, contract termination, press
)
KIND_FLAGS: dict[str, tuple[str, ...]] = {
    "account_takeover": ("security",),
    "leaked_credentials": ("security",),
    "payment_fraud": ("financial",),
    "data_breach": ("regulatory",),
    "regulatory": ("regulatory",),
    "legal_threat": ("legal",),
    "abuse": ("abuse",),
    "executive_escalation": ("escalation",),
}

Vector = npt.NDArray[np.float32]


class RiskModelError(ConfigError):
    """The risk model file is missing, corrupt, tampered with or of another format."""


class RiskDetection(BaseModel):
    """What the model says about one ticket (never the text)."""

    probability: float = Field(ge=0.0, le=1.0)  # calibrated P(risk)
    threshold: float
    flagged: bool
    kind: str | None  # the most likely kind (also when not flagged)
    kinds: list[str] = Field(default_factory=list[str])  # flagged kinds
    kind_probabilities: dict[str, float] = Field(default_factory=dict[str, float])
    flags: list[str] = Field(default_factory=list[str])  # the policy risk flags of `kinds`
    version: str

    def audit(self) -> dict[str, Any]:
        return {
            "probability": self.probability,
            "threshold": self.threshold,
            "flagged": self.flagged,
            "kind": self.kind,
            "kinds": self.kinds,
            "flags": self.flags,
            "model": self.version,
        }


def pack(a: npt.ArrayLike) -> str:
    return base64.b64encode(np.asarray(a, dtype="<f4").tobytes()).decode("ascii")


def unpack(s: str) -> Vector:
    return np.frombuffer(base64.b64decode(s.encode("ascii"), validate=True), dtype="<f4").astype(np.float32)


def body_sha256(body: dict[str, Any]) -> str:
    canon = json.dumps({k: v for k, v in body.items() if k != "sha256"}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()


class _Block:
    """One TF-IDF block: sublinear tf x idf over a fixed vocabulary, l2-normalised (sklearn's maths)."""

    def __init__(self, analyzer: Callable[[str], list[str]], vocab: Sequence[str], idf: Vector, offset: int):
        self.analyzer = analyzer
        self.index = {t: i for i, t in enumerate(vocab)}
        self.idf = idf
        self.offset = offset

    def transform(self, text: str) -> tuple[list[int], list[float]]:
        counts = Counter(t for t in self.analyzer(text) if t in self.index)
        if not counts:
            return [], []
        cols = [self.index[t] for t in counts]
        vals = np.array([(1.0 + math.log(c)) for c in counts.values()], dtype=np.float64) * self.idf[cols]
        vals /= float(np.linalg.norm(vals)) or 1.0
        return [c + self.offset for c in cols], vals.tolist()


class RiskModel:
    def __init__(self, body: dict[str, Any], source: str = "<memory>"):
        self.source = source
        try:
            if body.get("format") != FORMAT or body.get("format_version") != FORMAT_VERSION:
                raise RiskModelError(
                    f"{source}: not a risk model of format {FORMAT} v{FORMAT_VERSION}; retrain it with "
                    "`python -m agent.graph.risk.train`"
                )
            self.classes: list[str] = list(body["classes"])
            wv, cv = list(body["word"]["vocab"]), list(body["char"]["vocab"])
            self.word = _Block(words_and_concepts, wv, unpack(body["word"]["idf"]), 0)
            self.char = _Block(chars, cv, unpack(body["char"]["idf"]), len(wv))
            n_features = len(wv) + len(cv)
            self.coef = unpack(body["coef"]).reshape(len(self.classes), n_features)
            self.intercept = np.asarray(body["intercept"], dtype=np.float64)
            self.binary_coef = unpack(body["binary"]["coef"]).reshape(n_features)
            self.binary_intercept = float(body["binary"]["intercept"])
            self.a, self.b = float(body["calibration"]["a"]), float(body["calibration"]["b"])
            self.threshold = float(body["threshold"])
            self.version: str = str(body["version"])
            self.manifest: dict[str, Any] = {
                k: body[k] for k in ("version", "created", "data", "params", "metrics", "threshold") if k in body
            }
        except RiskModelError:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise RiskModelError(f"{source}: the risk model file is malformed ({type(exc).__name__}: {exc})") from exc
        if self.classes[0] != "none" or not set(self.classes[1:]) <= set(KINDS):
            raise RiskModelError(f"{source}: classes {self.classes} are not none + known kinds {list(KINDS)}")
        if len(self.idf_sizes()) != 2 or self.intercept.shape != (len(self.classes),):
            raise RiskModelError(f"{source}: the risk model's arrays do not fit together")

    def idf_sizes(self) -> tuple[int, int]:
        return len(self.word.idf), len(self.char.idf)

    # ---- prediction --------------------------------------------------------------------------
    def _features(self, text: str) -> tuple[list[int], npt.NDArray[np.float64]]:
        cols_w, vals_w = self.word.transform(text)
        cols_c, vals_c = self.char.transform(text)
        return cols_w + cols_c, np.array(vals_w + vals_c, dtype=np.float64)

    def class_probabilities(self, text: str) -> npt.NDArray[np.float64]:
        """P(none), P(kind)... of the multinomial head."""
        cols, vals = self._features(text)
        scores = self.intercept.copy()
        if cols:
            scores += self.coef[:, cols].astype(np.float64) @ vals
        scores -= scores.max()
        e = np.exp(scores)
        return e / e.sum()

    def binary_probability(self, text: str) -> float:
        """Uncalibrated P(risk) of the binary head."""
        cols, vals = self._features(text)
        z = self.binary_intercept + (float(self.binary_coef[cols].astype(np.float64) @ vals) if cols else 0.0)
        return 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0

    def raw_risk(self, text: str) -> tuple[float, str]:
        """The binary head's P(risk) of the riskiest piece (`pieces`), and that piece."""
        scored = [(self.binary_probability(p), p) for p in pieces(text)]
        return max(scored, key=lambda sp: sp[0])

    def calibrated(self, raw_risk: float) -> float:
        """Platt scaling of the logit of the binary head's P(risk)."""
        p = min(max(raw_risk, 1e-6), 1 - 1e-6)
        z = self.a * math.log(p / (1 - p)) + self.b
        return 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0

    def detect(self, text: str, threshold: float | None = None) -> RiskDetection:
        raw, piece = self.raw_risk(text)
        probs = self.class_probabilities(piece)  # which kind: the multinomial head on the riskiest piece
        p_risk = self.calibrated(raw)
        cut = self.threshold if threshold is None else threshold
        kind_p = {k: float(p) for k, p in zip(self.classes[1:], probs[1:], strict=True)}
        total = sum(kind_p.values()) or 1.0
        share = {k: v / total for k, v in kind_p.items()}  # which kind, given that it is risky
        top = max(share, key=lambda k: share[k])
        flagged = p_risk >= cut
        kinds = [
            top,
            *(k for k, s in sorted(share.items(), key=lambda kv: -kv[1]) if k != top and s >= SECONDARY_KIND_AT),
        ]
        kinds = kinds if flagged else []
        flags = sorted({f for k in kinds for f in KIND_FLAGS[k]})
        return RiskDetection(
            probability=round(p_risk, 4),
            threshold=cut,
            flagged=flagged,
            kind=top,
            kinds=kinds,
            kind_probabilities={k: round(v, 4) for k, v in share.items()},
            flags=flags,
            version=self.version,
        )

    def risk_probabilities(self, texts: Sequence[str]) -> list[float]:
        return [self.calibrated(self.raw_risk(t)[0]) for t in texts]


def load_model(path: Path) -> RiskModel:
    """The model at `path`, its sha256 checked; RiskModelError (a ConfigError) says what is wrong."""
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RiskModelError(
            f"{path}: cannot read the risk model ({exc}); train it with `python -m agent.graph.risk.train`"
        ) from exc
    try:
        body: Any = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise RiskModelError(f"{path}: the risk model is not valid JSON ({exc}); the file is corrupt") from exc
    if not isinstance(body, dict):
        raise RiskModelError(f"{path}: the risk model is not a JSON object")
    data: dict[str, Any] = body  # pyright: ignore[reportUnknownVariableType]
    if data.get("sha256") != body_sha256(data):
        raise RiskModelError(f"{path}: sha256 does not match the content; the file is corrupt or was edited")
    return RiskModel(data, str(path))


@lru_cache(maxsize=4)
def _cached(path: Path, mtime_ns: int, size: int) -> RiskModel:
    return load_model(path)


def model_at(path: Path) -> RiskModel:
    """`load_model`, cached while the file is unchanged."""
    try:
        st = path.stat()
    except OSError as exc:
        raise RiskModelError(
            f"{path}: no risk model there ({exc}); train it with `python -m agent.graph.risk.train`"
        ) from exc
    return _cached(path, st.st_mtime_ns, st.st_size)


def resolve_model_path(name: str) -> Path:
    """A policy's `risk.model`: absolute, or relative to agent/graph/ (where the shipped one lives)."""
    p = Path(name)
    return p if p.is_absolute() else Path(__file__).resolve().parent.parent / p


def shipped_model() -> RiskModel:
    return model_at(SHIPPED_MODEL)
