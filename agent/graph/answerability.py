"""How likely the drafted reply resolves the ticket: features of the search, and the calibrated model.

`features(hits, triage, text, query_language)` turns what the graph has computed by the time it
decides (the fused hits with their dense and BM25 ranks and cosines, the triage confidences, the
ticket text and the language it was searched in) into a few numbers. The service's decide node and
the eval harness both use it: the decide node records the features it computed in its audit event,
and `evals.resolve.run` takes them from there (never recomputing them), so what `triage eval
resolve` measures and `triage answerability train` learns from is what the service computes.

The features are built to carry over between knowledge bases and embedders: ranks, agreements and
shares rather than raw cosines (a cosine of 0.6 is a good match for one embedder and a poor one for
another; multilingual-e5 packs its cosines into a narrow range). The only cosine-derived ones are
relative (how far the best document stands out from the rest of the list).

Which features the model reads. `features` computes all of FEATURES (recorded in the audit); a
model file names the ones it was fitted on (any subset; the shipped one: MODEL_FEATURES). Issue 13:
on TechQA the 22 v1 features together separated the tickets the reply resolves worse than the best
cosine alone when TechQA was left out of training (AUC 0.69 vs 0.70 on its train half): their
weights, learned on the other knowledge bases, do not carry over. Five of them, chosen by forward
selection on the leave-one-dataset-out AUC of the four training sets' train halves, do (0.89):
`cos_z`, `coverage_gap`, `both_in_list`, `specific_coverage`, `bigram_gap`. All are computed from
the hits retrieval returns (no other index is read), in about 3 ms per ticket.

`AnswerabilityModel` is a logistic regression over those features with an isotonic calibration of
its output, trained by `evals.answerability` on labelled dev sets of several knowledge bases and
shipped as JSON (`answerability.json` beside this module): coefficients, the feature list, the
calibration breakpoints, the embedder its features came from, the hash of its training data and its
own sha256. `load_model` checks it all and raises `AnswerabilityModelError` (a ConfigError that says
how to fix it). The policy (`retrieval.auto_min_answerability`,
`retrieval.suggest_min_answerability`) turns the probability into auto-resolve / suggest / handoff.

The embedder. The cosine-derived features (`cos_gap`, `cos_z`) and the dense ranks shift when the
embedder changes (issue 14: multilingual-e5), so a model is valid only for the embedder it was
trained with (`embedder`, the `TRIAGE_EMBEDDER` spec). `check_embedder` raises
`AnswerabilityEmbedderError` on a mismatch; the policy (`Policy.assess`) turns that into "no P"
with the reason, and `decide` then never auto-resolves (rule `answerability_unavailable`: suggest).
Retraining for the new embedder is one command: `TRIAGE_EMBEDDER=... triage answerability train`.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, model_validator

from agent.domain import Triage
from agent.errors import ConfigError
from knowledge.lexical import tokens
from knowledge.types import Hit

SHIPPED_MODEL = Path(__file__).resolve().parent / "answerability.json"
# bump when a feature's definition changes: a model trained on other definitions is refused. Adding a
# feature needs no bump: a model reads the features it names (any of FEATURES), so v1 models still load.
FEATURE_VERSION = 1
FEATURES: tuple[str, ...] = (
    "dense_top1",  # the first (fused) document is also the dense search's first
    "lexical_top1",  # ... and BM25's first
    "both_top1",  # dense and BM25 agree on it
    "lexical_missing",  # BM25 did not find it at all
    "dense_rank_inv",  # 1 / its dense rank
    "lexical_rank_inv",  # 1 / its BM25 rank (0 when BM25 did not find it)
    "fused_gap",  # (fused 1st - fused 2nd) / fused 1st
    "cos_gap",  # (cosine 1st - best other cosine) / spread of the list's cosines
    "cos_z",  # cosine 1st as a z-score among the list's cosines
    "coverage",  # share of the question's content words found in the first document's text
    "coverage_gap",  # coverage of the first document minus the best other's
    "coverage_unique",  # share of the question's words found in the first document and in no other
    "title_coverage",  # share of the first document's title words found in the question
    "codes",  # the question quotes codes/versions/identifiers (error codes, 8.5.5, swg21...)
    "code_coverage",  # share of them found in the first document
    "category_agrees",  # triage category is the first document's category
    "category_share",  # share of the hits in the first document's category
    "category_confidence",
    "reliable_language",  # searched in English (the embedder's language)
    "question_words",  # log(1 + content words of the question)
    "doc_words",  # log(1 + words of the first document's chunk)
    "distinct_docs",  # distinct documents among the hits / hits
    # v2 (issue 13): what separates "the KB has no answer" on TechQA and carries over to the other sets
    "both_in_list",  # share of the hits that both the dense and the BM25 search ranked within the list's length
    "specific_coverage",  # share of the question's names (CamelCase, ACRONYMS, words with digits) in the first document
    "bigram_coverage",  # share of the question's content-word pairs (adjacent) found in the first document
    "bigram_gap",  # bigram_coverage of the first document minus the best other's
    "idf_coverage",  # coverage weighted by how few of the hits hold each word (rare words count more)
)
# What the shipped model reads (`evals.answerability` fits on these; a model file names its own,
# any subset of FEATURES). Chosen by leave-one-dataset-out AUC on the train halves of smoke, WixQA,
# TechQA and Bitext (forward selection; README, issue 13): a z-scored cosine, two coverage margins
# over the other hits, the names the question quotes, and dense/BM25 agreement over the whole list.
# The other features are still computed and recorded in the audit (cheap; for a future retrain).
MODEL_FEATURES: tuple[str, ...] = ("cos_z", "coverage_gap", "both_in_list", "specific_coverage", "bigram_gap")

_CODE = re.compile(r"(?<![\w.])(?=[\w.\-]*\d)(?=[\w.\-]*[a-z])[a-z0-9][\w\-]{2,}(?![\w])|\b\d+(?:\.\d+){1,3}\b")
# names a question quotes: CamelCase words (WebSphere), ACRONYMS (IIB, SQLSTATE) and words with digits (V9, HY000)
_SPECIFIC = re.compile(r"\b(?:[A-Z][a-z]+[A-Z]\w*|[A-Z]{2,}[\w\-]*|\w*\d\w*)\b")
STOPWORDS = frozenset(
    tokens(
        "a about above after again against all am an and any are as at be because been before being below "
        "between both but by can could did do does doing down during each few for from further had has have "
        "having he her here hers him his how i if in into is it its itself just me more most my no nor not now "
        "of off on once only or other our ours out over own same she should so some such than that the their "
        "them then there these they this those through to too under until up very was we were what when where "
        "which while who whom why will with would you your yours hello hi thanks thank please regards help "
        "need want get got use using used also like know way able still however problem issue question "
        "я ми ви він вона вони це що як чи не на за до від для при про та і й або але щоб коли де який яка "
        "яке які бо вже ще також є був була було будь ласка дякую добрий день привіт "
        "я мы вы он она они это что как или не на за до от для при про и но чтобы когда где какой пожалуйста "
        "спасибо здравствуйте"
    )
)


RETRAIN = "triage answerability train"


class AnswerabilityModelError(ConfigError):
    """The answerability model file is missing, corrupt, or trained for other features; retrain it."""


class AnswerabilityEmbedderError(AnswerabilityModelError):
    """The model was trained on features from another embedder than the one the service runs."""


def _words(text: str) -> set[str]:
    return {t for t in tokens(text) if t not in STOPWORDS}


def _codes(text: str) -> set[str]:
    return {m.group(0).strip(".-") for m in _CODE.finditer(text.lower())} - {""}


def _specific(text: str) -> set[str]:
    return {t for m in _SPECIFIC.finditer(text) for t in tokens(m.group(0))}


def _bigrams(text: str) -> set[tuple[str, str]]:
    ws = [t for t in tokens(text) if t not in STOPWORDS]
    return set(pairwise(ws))


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def features(hits: Sequence[Hit], triage: Triage | None, text: str, query_language: str = "en") -> dict[str, float]:
    """The features of one decision (see FEATURES); all zero but the triage ones without hits."""
    out = dict.fromkeys(FEATURES, 0.0)
    q = _words(text)
    out["question_words"] = math.log1p(len(q))
    out["reliable_language"] = float(query_language == "en")
    if triage is not None:
        out["category_confidence"] = float(triage.category.confidence)
    if not hits:
        return out
    top, rest = hits[0], list(hits[1:])
    dense_rank, lexical_rank = top.dense_rank, top.lexical_rank
    out["dense_top1"] = float(dense_rank == 1)
    out["lexical_top1"] = float(lexical_rank == 1)
    out["both_top1"] = float(dense_rank == 1 and lexical_rank == 1)
    out["lexical_missing"] = float(lexical_rank is None)
    out["dense_rank_inv"] = 1.0 / dense_rank if dense_rank else 0.0
    out["lexical_rank_inv"] = 1.0 / lexical_rank if lexical_rank else 0.0
    fused = [h.fused or 0.0 for h in hits]
    out["fused_gap"] = (fused[0] - max(fused[1:])) / fused[0] if len(fused) > 1 and fused[0] > 0 else 1.0
    scores = [h.score for h in hits]
    others = [h.score for h in rest if h.doc_id != top.doc_id]
    spread = max(scores) - min(scores)
    out["cos_gap"] = max(-1.0, min(1.0, (top.score - max(others)) / spread)) if others and spread > 1e-6 else 1.0
    if len(scores) > 1:
        mean = sum(scores) / len(scores)
        sd = math.sqrt(sum((s - mean) ** 2 for s in scores) / len(scores))
        out["cos_z"] = max(-3.0, min(3.0, (top.score - mean) / sd)) if sd > 1e-6 else 0.0
    words = [_words(f"{h.title}\n{h.text}") for h in hits]
    cov = [_share(len(q & w), len(q)) for w in words]
    out["coverage"] = cov[0]
    out["coverage_gap"] = cov[0] - max(cov[1:]) if len(cov) > 1 else cov[0]
    elsewhere = set().union(*words[1:]) if len(words) > 1 else set[str]()
    out["coverage_unique"] = _share(len((q & words[0]) - elsewhere), len(q))
    title = _words(top.title)
    out["title_coverage"] = _share(len(title & q), len(title))
    codes = _codes(text)
    if codes:
        doc = f"{top.title}\n{top.text}".lower()
        out["codes"] = 1.0
        out["code_coverage"] = _share(sum(c in doc for c in codes), len(codes))
    out["category_agrees"] = float(triage is not None and triage.category.value == top.category)
    out["category_share"] = _share(sum(h.category == top.category for h in hits), len(hits))
    out["doc_words"] = math.log1p(len(tokens(top.text)))
    out["distinct_docs"] = _share(len({h.doc_id for h in hits}), len(hits))
    n = len(hits)
    out["both_in_list"] = _share(
        sum(
            h.dense_rank is not None and h.lexical_rank is not None and max(h.dense_rank, h.lexical_rank) <= n
            for h in hits
        ),
        n,
    )
    specific = _specific(text)
    top_tokens = set(tokens(f"{top.title}\n{top.text}"))
    out["specific_coverage"] = _share(len(specific & top_tokens), len(specific)) if specific else 1.0
    pairs = _bigrams(text)
    if pairs:
        hit_pairs = [_bigrams(f"{h.title}\n{h.text}") for h in hits]
        bcov = [_share(len(pairs & p), len(pairs)) for p in hit_pairs]
        out["bigram_coverage"] = bcov[0]
        out["bigram_gap"] = bcov[0] - max(bcov[1:]) if len(bcov) > 1 else bcov[0]
    idf = {w: math.log((n + 1) / (sum(w in ws for ws in words) + 0.5)) for w in q}
    total = sum(idf.values())
    out["idf_coverage"] = sum(v for w, v in idf.items() if w in words[0]) / total if total > 0 else 0.0
    return {k: round(v, 6) for k, v in out.items()}


# ---- the model ---------------------------------------------------------------------------------


class Calibration(BaseModel):
    """Isotonic map from the logistic regression's probability to the calibrated one: breakpoints
    (x increasing, y non-decreasing), linear in between, flat beyond the ends."""

    x: list[float]
    y: list[float]

    @model_validator(mode="after")
    def _monotone(self) -> Calibration:
        if len(self.x) != len(self.y) or not self.x:
            raise ValueError("calibration needs as many y as x breakpoints, at least one")
        if any(b < a for a, b in zip(self.x, self.x[1:], strict=False)) or any(
            b < a for a, b in zip(self.y, self.y[1:], strict=False)
        ):
            raise ValueError("calibration breakpoints must be non-decreasing")
        if not all(0.0 <= v <= 1.0 for v in (*self.x, *self.y)):
            raise ValueError("calibration breakpoints must lie in [0, 1]")
        return self

    def __call__(self, p: float) -> float:
        xs, ys = self.x, self.y
        if p <= xs[0]:
            return ys[0]
        if p >= xs[-1]:
            return ys[-1]
        lo, hi = 0, len(xs) - 1
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if xs[mid] <= p else (lo, mid)
        span = xs[hi] - xs[lo]
        return ys[lo] if span <= 0 else ys[lo] + (ys[hi] - ys[lo]) * (p - xs[lo]) / span


class AnswerabilityModel(BaseModel):
    """P(the drafted reply, from the first document, resolves the ticket | features)."""

    kind: Literal["logistic-isotonic"] = "logistic-isotonic"
    version: str
    feature_version: int
    # the TRIAGE_EMBEDDER spec the training features were computed with (see `check_embedder`)
    embedder: str = Field(min_length=1)
    features: list[str]
    mean: list[float]
    scale: list[float]
    coef: list[float]
    intercept: float
    calibration: Calibration
    # thresholds chosen by leave-one-dataset-out (what an untuned knowledge base should get)
    recommended: dict[str, float] = Field(default_factory=dict[str, float])
    training: dict[str, Any] = Field(default_factory=dict[str, Any])  # data sha256, sets, figures
    sha256: str = ""  # of the file's content without this field (see `content_digest`)

    @model_validator(mode="after")
    def _shapes(self) -> AnswerabilityModel:
        n = len(self.features)
        if not (len(self.mean) == len(self.scale) == len(self.coef) == n):
            raise ValueError(f"mean, scale and coef must each have one value per feature ({n})")
        if any(s <= 0 for s in self.scale):
            raise ValueError("scale values must be positive")
        if not all(math.isfinite(v) for v in (*self.mean, *self.coef, self.intercept)):
            raise ValueError("coefficients must be finite numbers")
        return self

    def raw(self, feats: Mapping[str, float]) -> float:
        """The logistic regression's (uncalibrated) probability."""
        z = self.intercept + sum(
            c * (float(feats.get(f, 0.0)) - m) / s
            for f, m, s, c in zip(self.features, self.mean, self.scale, self.coef, strict=True)
        )
        z = max(-30.0, min(30.0, z))
        return 1.0 / (1.0 + math.exp(-z))

    def predict(self, feats: Mapping[str, float]) -> float:
        """The calibrated probability, rounded to 4 decimals (what the policy compares)."""
        return round(self.calibration(self.raw(feats)), 4)

    def contributions(self, feats: Mapping[str, float], n: int = 3) -> list[tuple[str, float]]:
        """The `n` features that moved the logit most for this ticket, signed: why P is what it is."""
        parts = [
            (f, round(c * (float(feats.get(f, 0.0)) - m) / s, 3))
            for f, m, s, c in zip(self.features, self.mean, self.scale, self.coef, strict=True)
        ]
        return sorted(parts, key=lambda p: -abs(p[1]))[:n]

    def check_embedder(self, embedder: str) -> None:
        """Raise `AnswerabilityEmbedderError` unless the model was trained with `embedder`'s features."""
        if embedder != self.embedder:
            raise AnswerabilityEmbedderError(
                f"the answerability model {self.version} was trained on features of embedder {self.embedder!r}, "
                f"but the service searches with {embedder!r}: its scores mean something else there, so no ticket is "
                f"auto-resolved on it. Retrain it for this embedder: `TRIAGE_EMBEDDER={embedder} {RETRAIN}` "
                "(writes agent/graph/answerability.json), or set TRIAGE_EMBEDDER back"
            )


def content_digest(payload: Mapping[str, Any]) -> str:
    """sha256 of the model's canonical JSON without its `sha256` field."""
    body = {k: v for k, v in payload.items() if k != "sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def model_json(model: AnswerabilityModel) -> str:
    """The model as the file holds it, with its sha256 filled in."""
    payload = model.model_dump(mode="json")
    payload["sha256"] = content_digest(payload)
    return json.dumps(payload, indent=1, sort_keys=True) + "\n"


def load_model(path: Path) -> AnswerabilityModel:
    """Read and check a model file: valid JSON of the right shape, its sha256, and trained for the
    features this code computes. Any problem is an `AnswerabilityModelError` saying how to fix it."""
    fix = f"rebuild it with `{RETRAIN}` (or restore the shipped agent/graph/answerability.json)"
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise AnswerabilityModelError(f"answerability model {path} not found; {fix}") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AnswerabilityModelError(f"answerability model {path} is not readable JSON ({exc}); {fix}") from exc
    if not isinstance(payload, dict):
        raise AnswerabilityModelError(f"answerability model {path} is not a JSON object; {fix}")
    try:
        model = AnswerabilityModel.model_validate(payload)
    except ValidationError as exc:
        where = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5])
        raise AnswerabilityModelError(f"answerability model {path} is malformed ({where}); {fix}") from exc
    digest = content_digest(payload)
    if model.sha256 != digest:
        raise AnswerabilityModelError(
            f"answerability model {path}: sha256 {model.sha256[:12] or '(none)'} does not match its content "
            f"({digest[:12]}): the file was edited or damaged; {fix}"
        )
    if model.feature_version != FEATURE_VERSION or not model.features or not set(model.features) <= set(FEATURES):
        raise AnswerabilityModelError(
            f"answerability model {path} (version {model.version}) was trained on features v{model.feature_version} "
            f"{model.features}, this code computes v{FEATURE_VERSION} {list(FEATURES)} (a model may read any of "
            f"them); {fix}"
        )
    return model


@lru_cache(maxsize=8)
def _cached(path: Path, mtime_ns: int, size: int) -> AnswerabilityModel:
    return load_model(path)


def model_at(path: Path) -> AnswerabilityModel:
    """`load_model`, cached while the file is unchanged (the policy asks once per decision)."""
    try:
        st = path.stat()
    except OSError:
        return load_model(path)  # raises the clear error
    return _cached(path, st.st_mtime_ns, st.st_size)


def resolve_model_path(name: str) -> Path:
    """A policy's `retrieval.answerability_model`: a relative path is relative to this package
    (where the shipped model lives), an absolute one is used as it is."""
    p = Path(name).expanduser()
    return p if p.is_absolute() else Path(__file__).resolve().parent / p
