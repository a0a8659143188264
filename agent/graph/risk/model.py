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

Semantic part (format 3, `semantic` in the file): a logistic regression on the multilingual-e5-small
embedding of the whole ticket ("query: " prefix, knowledge/embeddings.py), Platt-calibrated on
out-of-fold scores, so a risk told in words no example used still lands near the examples that mean
the same. The two calibrated scores are stacked (`combine`: a logistic regression on their logits,
fitted on out-of-fold scores) into P(risk). The file records the embedder (spec, model, dimension and
the weights' version): a vector from any other embedder is never scored. `detect` reuses the caller's
embedder when it is the recorded one (the retrieval embedder, once that is e5), else embeds the ticket
once with the recorded one; when that is not possible (another version installed, no engine for this
CPU) it says so (`semantic_status`, a warning in the log) and falls back to the TF-IDF part with the
TF-IDF-only threshold chosen on dev (`fallback`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import math
import os
import re
from collections import Counter
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, Field

from agent.errors import ConfigError
from agent.graph.risk.features import chars, words_and_concepts

if TYPE_CHECKING:
    from knowledge.embeddings import Embedder

log = logging.getLogger(__name__)

FORMAT = "payflow-risk-model"
FORMAT_VERSION = 3  # 2: word block = word n-grams + risk concepts (features.concepts); 3: + semantic part
READABLE_VERSIONS = (2, 3)  # a format-2 file has no semantic part: it scores with the TF-IDF part alone
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
    lexical: float | None = None  # the TF-IDF part's calibrated P(risk)
    semantic: float | None = None  # the embedding part's calibrated P(risk); None: not used
    # "used", "absent" (the file has no semantic part) or why it was not used (then the TF-IDF part alone
    # decided, at its own threshold)
    semantic_status: str = "absent"

    def audit(self) -> dict[str, Any]:
        return {
            "probability": self.probability,
            "threshold": self.threshold,
            "flagged": self.flagged,
            "kind": self.kind,
            "kinds": self.kinds,
            "flags": self.flags,
            "model": self.version,
            "lexical": self.lexical,
            "semantic": self.semantic,
            "semantic_status": self.semantic_status,
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


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


_warned: set[str] = set()


def _warn_once(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        log.warning("risk model: %s", message)


class SemanticPart:
    """Logistic regression on the recorded embedder's (L2-normalised, "query: ") ticket vector."""

    def __init__(self, body: dict[str, Any]):
        emb = body["embedder"]
        self.spec, self.model = str(emb["spec"]), str(emb["model"])
        self.dim, self.embedder_version = int(emb["dim"]), str(emb["version"])
        self.coef = unpack(body["coef"]).astype(np.float64)
        self.intercept = float(body["intercept"])
        self.a, self.b = float(body["calibration"]["a"]), float(body["calibration"]["b"])
        self.scoring = str(body.get("scoring", "whole"))
        if self.scoring not in ("whole", "max", "mix"):
            raise ValueError(f"unknown semantic scoring {self.scoring!r}")
        if self.coef.shape != (self.dim,):
            raise ValueError(f"semantic coefficients of shape {self.coef.shape}, not ({self.dim},)")

    def describe(self) -> str:
        return f"{self.spec} ({self.dim}-d, {self.embedder_version})"

    def mismatch(self, spec: str, dim: int, version: str) -> str | None:
        """Why a vector of this embedder must not be scored; None when it is the recorded one."""
        if (spec, dim, version) == (self.spec, self.dim, self.embedder_version):
            return None
        return f"embedder mismatch: the semantic part was trained on {self.describe()}, not {spec} ({dim}-d, {version})"

    def raw(self, vectors: npt.ArrayLike) -> float:
        """The decision value of a ticket from the vectors of its `pieces` (the whole ticket first):
        `scoring` "whole": the whole ticket's; "max": the riskiest piece's; "mix" (shipped): the mean of
        the two, so a risk told in one sentence of a long ticket counts (the whole ticket's vector is
        dominated by its ordinary question) without one alarming-sounding sentence deciding alone."""
        v = np.asarray(vectors, dtype=np.float64)
        v = v.reshape(1, -1) if v.ndim == 1 else v
        if v.shape[1:] != (self.dim,) or not len(v):
            raise ValueError(f"vectors of shape {v.shape} for a {self.dim}-d model")
        d = v @ self.coef + self.intercept
        if self.scoring == "mix":
            return 0.5 * float(d[0]) + 0.5 * float(d.max())
        return float(d.max()) if self.scoring == "max" else float(d[0])

    def probability(self, vectors: npt.ArrayLike) -> float:
        """Calibrated P(risk) of a ticket from the vectors of its pieces (`raw`)."""
        return _sigmoid(self.a * self.raw(vectors) + self.b)


def embedder_threads() -> int | None:
    """TRIAGE_EMBEDDER_THREADS (what the service sizes its embedder with), so the instance is shared."""
    try:
        n = int(os.environ.get("TRIAGE_EMBEDDER_THREADS", "") or 0)
    except ValueError:
        return None
    return n if n > 0 else None


class RiskModel:
    def __init__(self, body: dict[str, Any], source: str = "<memory>"):
        self.source = source
        try:
            if body.get("format") != FORMAT or body.get("format_version") not in READABLE_VERSIONS:
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
            self.semantic = SemanticPart(body["semantic"]) if body.get("semantic") else None
            combine: dict[str, Any] = body.get("combine") or {"method": "lexical"}
            self.combine_method = str(combine["method"])
            if self.combine_method not in ("lexical", "max", "stack"):
                raise ValueError(f"unknown combine method {self.combine_method!r}")
            if self.semantic is not None and self.combine_method == "lexical":
                raise ValueError("a semantic part needs combine method max or stack")
            self.combine_w = [float(w) for w in combine.get("w", [1.0, 1.0])]
            self.combine_b = float(combine.get("b", 0.0))
            # the TF-IDF part alone, when the semantic part cannot be used: its own dev-chosen threshold
            self.fallback_threshold = float((body.get("fallback") or {}).get("threshold", self.threshold))
            self.version: str = str(body["version"])
            self.manifest: dict[str, Any] = {
                k: body[k]
                for k in ("version", "created", "data", "params", "metrics", "threshold", "fallback")
                if k in body
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

    def semantic_probability(
        self,
        text: str,
        embedder: Embedder | Literal["auto"] | None = "auto",
        vector: tuple[str, int, str, npt.ArrayLike] | None = None,
    ) -> tuple[float | None, str]:
        """The semantic part's calibrated P(risk) and "used", or None and why it was not used.

        `vector`: (spec, dim, version, the ticket's "query: " vector) computed elsewhere (the retrieval
        embedding); `embedder`: one to reuse when it is the recorded one, else the recorded embedder
        embeds the ticket ("auto": always the recorded one); None: the caller runs no embedder (an
        in-memory knowledge base, the unit tests): the TF-IDF part alone. Nothing of another embedder
        is ever scored."""
        sem = self.semantic
        if sem is None:
            return None, "absent"
        if embedder is None:
            return None, "no embedder: the caller runs none (in-memory knowledge base)"
        texts = [text] if sem.scoring == "whole" else pieces(text)
        given: npt.NDArray[np.float64] | None = None
        if vector is not None:
            spec, dim, version, vec = vector
            if sem.mismatch(spec, dim, version) is None:
                given = np.asarray(vec, dtype=np.float64).reshape(1, -1)
                if len(texts) == 1:
                    return sem.probability(given), "used"
        try:
            if embedder == "auto" or embedder.spec != sem.spec:
                from knowledge.embeddings import get_embedder

                embedder = get_embedder(sem.spec, embedder_threads())
            ident = embedder.identity
            why = sem.mismatch(ident.spec, ident.dim, ident.version)
            if why is not None:
                _warn_once(f"{why}; scoring with the TF-IDF part alone")
                return None, why
            if given is not None:  # the whole ticket's vector is the caller's; the sentences are embedded here
                vectors = np.vstack([given, embedder.encode_queries(texts[1:]).astype(np.float64)])
            else:
                vectors = embedder.encode_queries(texts).astype(np.float64)
            return sem.probability(vectors), "used"
        except (ImportError, OSError, RuntimeError, ValueError) as exc:
            why = f"embedder unavailable: {type(exc).__name__}: {str(exc)[:200]}"
            _warn_once(f"{why}; scoring with the TF-IDF part alone")
            return None, why

    def combined(self, lexical: float, semantic: float) -> float:
        """P(risk) from the two calibrated parts (`combine` of the file)."""
        if self.combine_method == "max":
            return max(lexical, semantic)
        w_l, w_s = self.combine_w
        return _sigmoid(w_l * _logit(lexical) + w_s * _logit(semantic) + self.combine_b)

    def detect(
        self,
        text: str,
        threshold: float | None = None,
        embedder: Embedder | Literal["auto"] | None = "auto",
        vector: tuple[str, int, str, npt.ArrayLike] | None = None,
    ) -> RiskDetection:
        """The verdict on one ticket. `threshold` (the policy's override) applies to the combined P(risk);
        when the semantic part cannot be used the TF-IDF part decides at its own dev-chosen threshold."""
        raw, piece = self.raw_risk(text)
        probs = self.class_probabilities(piece)  # which kind: the multinomial head on the riskiest piece
        p_lex = self.calibrated(raw)
        p_sem, status = self.semantic_probability(text, embedder, vector)
        if p_sem is not None:
            p_risk = self.combined(p_lex, p_sem)
            cut = self.threshold if threshold is None else threshold
        elif self.semantic is not None:  # fallback: the TF-IDF part at its own threshold
            p_risk, cut = p_lex, self.fallback_threshold
        else:
            p_risk, cut = p_lex, self.threshold if threshold is None else threshold
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
            lexical=round(p_lex, 4),
            semantic=None if p_sem is None else round(p_sem, 4),
            semantic_status=status,
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
