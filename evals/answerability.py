"""`triage answerability train`: learn the calibrated chance that the drafted reply resolves the
ticket (`agent.graph.answerability`) from labelled dev sets of several knowledge bases at once.

Data. Each training set (a knowledge base and labelled cases: `default_sets`) is run once through
the real graph (`--llm none`, no classifier, the permissive policy: `evals.resolve.run.run_cases`);
the traces are cached under `<data_dir>/answerability/` by the KB's and the cases' hashes, so a
retrain after a feature change recomputes the features from the cached hits without rerunning the
graph. An example is a drafted ticket (one the permissive policy did not hand off for a fixed reason)
with its features, labelled 1 when the ticket is answerable and the document the reply answers from
is a gold one (`Trace.resolves`).

Model. Logistic regression on standardised features (`MODEL_FEATURES`: five chosen by
leave-one-dataset-out AUC on the train halves; issue 13), every training set weighing the same whatever
its size, then a calibration of its output fitted on out-of-fold predictions (5 folds by a fixed hash
of the case). Shipped as JSON (`agent/graph/answerability.json`) with its training data's sha256.

Honest figures. Per set: AUC, ECE and the auto/wrong trade-off at candidate thresholds under the
service's default policy (replayed with `Trace.decide`, exactly as `triage eval resolve` decides),
measured (a) by the fixed hash split (`evals.resolve.run.half_of`: fit on every set's train half,
measure on its test half) and (b) leave one dataset out (fit on the other sets, measure on this
one: what a knowledge base nobody trained on gets). The recommended defaults of the policy
(`retrieval.auto_min_answerability`, `retrieval.suggest_min_answerability`) are chosen on (b): the
lowest auto threshold at which every left-out set stays within the wrong-resolution budget, and the
lowest handoff threshold that hands off the required share of its unanswerable tickets.
"""

from __future__ import annotations

import hashlib
import json
import math
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from numpy.typing import NDArray

from agent.graph.answerability import (
    FEATURE_VERSION,
    MODEL_FEATURES,
    AnswerabilityModel,
    AnswerabilityModelError,
    Calibration,
    features,
    load_model,
    model_json,
)
from agent.graph.policy import Policy, load_policy
from agent.settings import REPO_ROOT, Settings
from evals.resolve.data import load_cases, load_kb
from evals.resolve.metrics import outcome_metrics
from evals.resolve.replay import Trace, from_json, to_json
from evals.resolve.run import half_of, policy_for_kb, run_cases

FOLDS = 5
GRID = [round(0.30 + 0.01 * i, 2) for i in range(70)]  # candidate thresholds 0.30 .. 0.99
CACHE_VERSION = 1
HANDOFF_CAP = 0.5  # the highest default handoff threshold (see choose_defaults)


@dataclass(frozen=True)
class TrainingSet:
    """A knowledge base and labelled cases; `limit`: the first N cases; `every`: then one case in N by a
    fixed hash of its id (a sample across a file sorted by intent). `extra`: every case is a training
    example of every model (no test half, never measured on, never left out): the support agents'
    verdicts from `triage export-feedback` (`feedback_set`)."""

    name: str
    kb: Path
    cases: Path
    limit: int | None = None
    every: int = 1
    extra: bool = False


def default_sets(datasets: Path) -> list[TrainingSet]:
    """The dev halves the shipped model is trained on: the demo KB's smoke set, WixQA, TechQA and a
    one-in-24 sample of Bitext (about 150 of 3,663 rows, every intent)."""
    return [
        TrainingSet("smoke", REPO_ROOT / "knowledge" / "demo", REPO_ROOT / "evals" / "datasets" / "smoke.jsonl"),
        TrainingSet(
            "wixqa",
            datasets / "wixqa_expertwritten_sample" / "kb_corpus.jsonl",
            datasets / "wixqa_expertwritten_sample" / "questions_dev.jsonl",
        ),
        TrainingSet(
            "techqa",
            datasets / "techqa_rag_eval_sample" / "kb_corpus.jsonl",
            datasets / "techqa_rag_eval_sample" / "questions_dev.jsonl",
        ),
        TrainingSet(
            "bitext",
            datasets / "bitext_customer_support" / "train.csv",
            datasets / "bitext_customer_support" / "train.csv",
            every=24,
        ),
    ]


def feedback_set(path: Path, kb: Path) -> TrainingSet:
    """The eval file `triage export-feedback` writes (agents' verdicts on the service's replies, on the
    service's knowledge base `kb`) as extra training examples: an approved reply citing a gold
    document resolves (label 1); a rejected one, or an auto-resolution that was reopened, does not (0)."""
    return TrainingSet("feedback", kb, path, extra=True)


def _hash_int(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest(), 16)


@dataclass
class SetRun:
    """One training set run through the graph: its traces and the policy they are decided under."""

    spec: TrainingSet
    traces: list[Trace]
    policy: Policy
    embedder: str


def collect(
    settings: Settings,
    spec: TrainingSet,
    base: Policy,
    cache_dir: Path | None,
    progress: Callable[[str], None] | None = None,
) -> SetRun:
    """The set's traces (cached by the KB's and the cases' hashes, the embedder and top_k), with
    their features computed by the current code."""
    kb = load_kb(spec.kb)
    cases = load_cases(spec.cases, kb, spec.limit)
    if spec.every > 1:
        cases = [c for c in cases if _hash_int(c.id) % spec.every == 0]
    policy = policy_for_kb(base, kb)
    key = hashlib.sha256(
        json.dumps(
            [
                CACHE_VERSION,
                kb.digest,
                hashlib.sha256(spec.cases.read_bytes()).hexdigest(),
                spec.limit,
                spec.every,
                settings.embedder,
                settings.top_k,
                settings.chunk_chars,
                base.retrieval.vote_temperature,  # the triage category confidences of the traces
            ]
        ).encode()
    ).hexdigest()[:16]
    path = cache_dir / f"{spec.name}-{key}.jsonl" if cache_dir is not None else None
    if path is not None and path.exists():
        traces = [from_json(json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines() if line]
        if progress:
            progress(f"{spec.name}: {len(traces)} cached traces ({path})")
    else:
        if progress:
            progress(f"{spec.name}: running {len(cases)} cases through the graph (llm none)")
        step = max(1, len(cases) // 4)

        def tick(i: int, n: int) -> None:
            if progress and (i == n or i % step == 0):
                progress(f"  {spec.name} {i}/{n}")

        traces, _facts, _store = run_cases(settings, kb, cases, policy, "none", None, tick)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text("".join(json.dumps(to_json(t), ensure_ascii=False) + "\n" for t in traces), encoding="utf-8")
            tmp.replace(path)
    for t in traces:  # the decide node's function on the inputs it had (a feature change needs no rerun)
        t.features = features(t.hits, t.triage, t.text, t.query_language)
        t.embedder = settings.embedder  # part of the cache key
    return SetRun(spec, traces, policy, settings.embedder)


# ---- examples and fitting ------------------------------------------------------------------------


@dataclass
class Example:
    set: str
    case_id: str
    x: list[float]
    y: int

    @property
    def key(self) -> str:
        return f"{self.set}/{self.case_id}"


def drafted(trace: Trace) -> bool:
    """A ticket the answerability rules can act on: not handed off for a fixed reason (risk, out of
    scope, open known issue, LLM failure) in the permissive run."""
    return trace.permissive_action != "handoff" and bool(trace.hits) and trace.features is not None


def examples(run: SetRun, names: Sequence[str] = MODEL_FEATURES) -> list[Example]:
    """The set's drafted tickets as examples: the features `names` (in that order) and the label."""
    return [
        Example(run.spec.name, t.case.id, [float(t.features[f]) for f in names], int(t.resolves))
        for t in run.traces
        if drafted(t) and t.features is not None
    ]


def data_digest(exs: Iterable[Example]) -> str:
    """sha256 of the training examples (set, case, label, features): what the model was fitted on."""
    h = hashlib.sha256()
    for e in sorted(exs, key=lambda e: e.key):
        h.update(json.dumps([e.set, e.case_id, e.y, [round(v, 6) for v in e.x]]).encode())
    return h.hexdigest()


def _arrays(exs: list[Example]) -> tuple[NDArray[np.float64], NDArray[np.int_], NDArray[np.float64]]:
    x = np.array([e.x for e in exs], dtype=np.float64)
    y = np.array([e.y for e in exs], dtype=np.int_)
    sizes: dict[str, int] = {}
    for e in exs:
        sizes[e.set] = sizes.get(e.set, 0) + 1
    w = np.array([1.0 / sizes[e.set] for e in exs], dtype=np.float64)
    return x, y, w * len(exs) / w.sum()


@dataclass
class Fitted:
    mean: list[float]
    scale: list[float]
    coef: list[float]
    intercept: float

    def raw(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        z = (x - np.array(self.mean)) / np.array(self.scale) @ np.array(self.coef) + self.intercept
        return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))


def _fit_lr(exs: list[Example], c: float) -> Fitted:
    from sklearn.linear_model import LogisticRegression

    x, y, w = _arrays(exs)
    mean = np.average(x, axis=0, weights=w)
    scale = np.sqrt(np.average((x - mean) ** 2, axis=0, weights=w))
    scale[scale < 1e-9] = 1.0
    if len(set(y.tolist())) < 2:
        raise ValueError("the training examples need both labels (some replies that resolve, some that do not)")
    lr = LogisticRegression(C=c, max_iter=5000)
    lr.fit((x - mean) / scale, y, sample_weight=w)  # pyright: ignore[reportUnknownMemberType]
    coef: NDArray[np.float64] = np.asarray(lr.coef_, dtype=np.float64)[0]
    intercept = float(np.asarray(lr.intercept_, dtype=np.float64)[0])
    return Fitted(mean.tolist(), scale.tolist(), [float(v) for v in coef], intercept)


def _fit_calibration(raw: NDArray[np.float64], y: NDArray[np.int_], w: NDArray[np.float64]) -> Calibration:
    """Isotonic regression of the label on the out-of-fold raw probability, as breakpoints; a small
    share of the raw probability is kept so that the map stays strictly increasing (ties would
    merge tickets the regression tells apart)."""
    from sklearn.isotonic import IsotonicRegression

    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
    iso.fit(raw, y, sample_weight=w)  # pyright: ignore[reportUnknownMemberType]
    xs = [float(v) for v in iso.X_thresholds_]  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType]
    ys = [float(v) for v in iso.y_thresholds_]  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType]
    xs = [0.0, *xs, 1.0] if xs[0] > 0.0 else xs
    ys = [ys[0], *ys, ys[-1]] if len(ys) < len(xs) else ys
    # blend: 95% isotonic, 5% the raw probability itself
    blended = [round(0.95 * yv + 0.05 * xv, 6) for xv, yv in zip(xs, ys, strict=True)]
    for i in range(1, len(blended)):
        blended[i] = max(blended[i], blended[i - 1])
    return Calibration(x=[round(v, 6) for v in xs], y=blended)


def fit(
    exs: list[Example],
    c: float = 1.0,
    version: str = "",
    extra: dict[str, Any] | None = None,
    embedder: str = "bundled:all-MiniLM-L6-v2",
    names: Sequence[str] = MODEL_FEATURES,
) -> AnswerabilityModel:
    """Logistic regression + calibration on out-of-fold predictions; every set weighs the same.
    `names`: the features each example's `x` holds, in order (what the model will read)."""
    lr = _fit_lr(exs, c)
    x, y, w = _arrays(exs)
    oof = np.zeros(len(exs))
    fold = np.array([_hash_int(e.key) % FOLDS for e in exs])
    for f in range(FOLDS):
        inside = fold != f
        part = [e for e, keep in zip(exs, inside, strict=True) if keep]
        if not np.any(~inside) or len({e.y for e in part}) < 2:
            oof[~inside] = lr.raw(x[~inside])
            continue
        oof[~inside] = _fit_lr(part, c).raw(x[~inside])
    model = AnswerabilityModel(
        version=version or f"{datetime.now(UTC):%Y-%m-%d}.{data_digest(exs)[:8]}",
        feature_version=FEATURE_VERSION,
        embedder=embedder,
        features=list(names),
        mean=[round(v, 8) for v in lr.mean],
        scale=[round(v, 8) for v in lr.scale],
        coef=[round(v, 8) for v in lr.coef],
        intercept=round(lr.intercept, 8),
        calibration=_fit_calibration(oof, y, w),
        training={"data_sha256": data_digest(exs), "examples": len(exs), "C": c, **(extra or {})},
    )
    return load_model_text(model_json(model))


def load_model_text(text: str) -> AnswerabilityModel:
    """A model from its JSON text, through the same checks as a file (sha256 filled in)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "answerability.json"
        path.write_text(text, encoding="utf-8")
        return load_model(path)


# ---- measuring ---------------------------------------------------------------------------------


def auc(p: list[float], y: list[int]) -> float | None:
    """Area under the ROC curve (ties count half); None without both labels."""
    pos = [q for q, t in zip(p, y, strict=True) if t]
    neg = [q for q, t in zip(p, y, strict=True) if not t]
    if not pos or not neg:
        return None
    order = sorted(range(len(p)), key=lambda i: p[i])
    ranks = [0.0] * len(p)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and p[order[j + 1]] == p[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    r_pos = sum(r for r, t in zip(ranks, y, strict=True) if t)
    return round((r_pos - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)), 4)


def ece(p: list[float], y: list[int], bins: int = 10) -> float | None:
    """Expected calibration error over equal-width bins."""
    if not p:
        return None
    total = 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        idx = [i for i, q in enumerate(p) if lo <= q < hi or (b == bins - 1 and q == 1.0)]
        if idx:
            total += len(idx) / len(p) * abs(sum(p[i] for i in idx) / len(idx) - sum(y[i] for i in idx) / len(idx))
    return round(total, 4)


def with_model(policy: Policy, model_path: Path | None, auto_min: float, suggest_min: float) -> Policy:
    """`policy` deciding with the model at `model_path` and these two thresholds."""
    return policy.model_copy(
        update={
            "retrieval": policy.retrieval.model_copy(
                update={
                    "answerability_model": str(model_path) if model_path is not None else None,
                    "auto_min_answerability": auto_min,
                    "suggest_min_answerability": suggest_min,
                }
            )
        }
    )


@dataclass
class SetFigures:
    """How a model does on one set's traces it was not trained on."""

    set: str
    examples: int
    positives: int
    auc: float | None
    auc_cosine: float | None  # the best document's cosine alone, for comparison
    ece: float | None
    # per candidate auto threshold, under the default policy (suggest threshold 0)
    curve: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])
    # handoff recall of the tickets that should reach a human, per candidate handoff threshold
    handoff: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])
    at_default: dict[str, Any] = field(default_factory=dict[str, Any])


def measure(
    model: AnswerabilityModel,
    runs: list[SetRun],
    keep: Callable[[Trace], bool],
    label: str,
    grid: list[float] = GRID,
) -> list[SetFigures]:
    """Figures of `model` on the traces of `runs` that `keep` selects (the held-out ones)."""
    out: list[SetFigures] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{label}.json"
        path.write_text(model_json(model), encoding="utf-8")
        for run in runs:
            traces = [t for t in run.traces if keep(t)]
            if not traces:
                continue
            ex = [t for t in traces if drafted(t)]
            p = [model.predict(t.features or {}) for t in ex]
            y = [int(t.resolves) for t in ex]
            figs = SetFigures(
                run.spec.name,
                len(ex),
                sum(y),
                auc(p, y),
                auc([t.hits[0].score for t in ex], y),
                ece(p, y),
            )
            for th in grid:
                m = outcome_metrics(traces, with_model(run.policy, path, th, 0.0))
                figs.curve.append(_point(th, m))
            for th in grid:
                m = outcome_metrics(traces, with_model(run.policy, path, 1.01, th))
                figs.handoff.append(
                    {
                        "threshold": th,
                        "handoff_recall": m["handoff_recall"],
                        "answerable_handed_off": _answerable_handoff(traces, m),
                    }
                )
            out.append(figs)
    return out


def _point(th: float, m: dict[str, Any]) -> dict[str, Any]:
    return {
        "threshold": th,
        "auto": m["outcomes"]["auto_resolve"],
        "wrong": m["wrong_resolutions"],
        "wrong_rate": m["wrong_resolution_rate"],
        "correct_auto_answerable": m["correct_auto_rate_answerable"],
        "handoff_recall": m["handoff_recall"],
    }


def _answerable_handoff(traces: list[Trace], m: dict[str, Any]) -> float | None:
    ans = m["answerable"]
    handed = m["outcomes"]["handoff"] - round((m["handoff_recall"] or 0.0) * m["should_handoff"])
    return round(handed / ans, 4) if ans else None


def at_thresholds(
    model: AnswerabilityModel, runs: list[SetRun], keep: Callable[[Trace], bool], auto_min: float, suggest_min: float
) -> dict[str, dict[str, Any]]:
    """Outcome metrics per set under the default policy with these two thresholds."""
    out: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.json"
        path.write_text(model_json(model), encoding="utf-8")
        for run in runs:
            traces = [t for t in run.traces if keep(t)]
            if traces:
                m = outcome_metrics(traces, with_model(run.policy, path, auto_min, suggest_min))
                out[run.spec.name] = {k: v for k, v in m.items() if k != "wrong_ids"}
    return out


def choose_defaults(
    lodo: list[SetFigures], max_wrong: float, min_handoff_recall: float, min_unanswerable: int = 10
) -> tuple[float, float, list[str]]:
    """The defaults an untuned knowledge base gets, from the leave-one-dataset-out figures:
    `auto_min_answerability`, the lowest threshold at which no left-out set auto-resolves more than
    `max_wrong` of its auto-resolutions wrongly (nor, pooled, more than `max_wrong` / 2); and
    `suggest_min_answerability`, the lowest threshold (not above the auto one, nor HANDOFF_CAP) at
    which the left-out sets with at least `min_unanswerable` tickets that should reach a human hand
    off, pooled, at least `min_handoff_recall` of them (else HANDOFF_CAP)."""
    notes: list[str] = []
    auto_min = 1.01
    for i, th in enumerate(GRID):
        pts = [f.curve[i] for f in lodo]
        auto = sum(p["auto"] for p in pts)
        wrong = sum(p["wrong"] for p in pts)
        if all(p["wrong_rate"] <= max_wrong for p in pts) and wrong <= max_wrong / 2 * max(auto, 1):
            # and it stays within the budget at every stricter threshold too (no lucky dip)
            later = [f.curve[j] for f in lodo for j in range(i, len(GRID))]
            if all(p["wrong_rate"] <= max_wrong for p in later):
                auto_min = th
                break
    if auto_min > 1.0:
        notes.append(f"no threshold keeps every left-out set within {max_wrong:.1%} wrong: auto-resolution off")
    suggest_min = 0.0
    judged = [f for f in lodo if f.handoff and _should_handoff(f) >= min_unanswerable]
    if not judged:
        notes.append("no left-out set has enough tickets that should reach a human: handoff threshold 0")
    else:
        # pooled over the left-out sets; never above HANDOFF_CAP: a ticket the model gives even odds
        # is drafted for a human, not handed off
        total = sum(_should_handoff(f) for f in judged)
        reached = [
            th
            for i, th in enumerate(GRID)
            if th <= HANDOFF_CAP
            and sum((f.handoff[i]["handoff_recall"] or 0.0) * _should_handoff(f) for f in judged) / total
            >= min_handoff_recall
        ]
        if reached:
            suggest_min = reached[0]
        else:
            suggest_min = HANDOFF_CAP
            notes.append(
                f"no threshold up to {HANDOFF_CAP} hands off {min_handoff_recall:.0%} of the left-out sets' "
                f"unanswerable tickets: handoff threshold {HANDOFF_CAP}"
            )
    suggest_min = min(suggest_min, auto_min)
    return auto_min, suggest_min, notes


def _should_handoff(f: SetFigures) -> int:
    return int(f.at_default.get("should_handoff") or 0)


# ---- the whole command ---------------------------------------------------------------------------


@dataclass
class TrainResult:
    model: AnswerabilityModel
    final: list[SetFigures]  # the shipped model (every set's train half) on each set's test half
    lodo: list[SetFigures]  # fitted without the set (train halves of the others), on the set's test half
    lodo_tune: list[SetFigures]  # the same models on the left-out set's train half: where defaults are chosen
    final_at_default: dict[str, dict[str, Any]]
    lodo_at_default: dict[str, dict[str, Any]]
    notes: list[str] = field(default_factory=list[str])


def is_train(t: Trace) -> bool:
    return half_of(t.case.id) == "train"


def is_test(t: Trace) -> bool:
    return half_of(t.case.id) == "test"


def train(
    runs: list[SetRun],
    c: float = 1.0,
    max_wrong: float = 0.02,
    min_handoff_recall: float = 0.8,
    progress: Callable[[str], None] | None = None,
) -> TrainResult:
    """Fit the model on the train half (`half_of`) of every set; the test halves are only measured on.

    Cross-validation leaves one dataset out: a model fitted on the other sets' train halves stands
    for a knowledge base nobody trained on. The default thresholds are chosen on those models'
    figures on the left-out set's train half (`choose_defaults`); the figures reported are on its
    test half (never used to choose anything), and the shipped model's on every test half."""
    say = progress or (lambda _m: None)
    names = [r.spec.name for r in runs]
    if len(set(names)) != len(names):
        raise ValueError(f"training set names must be distinct (have {', '.join(names)})")
    exs = {r.spec.name: [e for e in examples(r) if r.spec.extra or half_of(e.case_id) == "train"] for r in runs}
    measured = [r for r in runs if not r.spec.extra]
    if not measured:
        raise ValueError("train on at least one labelled set besides the feedback file (it is never measured on)")
    alone = [r.spec.name for r in measured if not any(exs[n] for n in names if n != r.spec.name)]
    if alone:
        raise ValueError(
            f"leave one dataset out needs examples besides {alone[0]}'s: with it alone nothing is left to fit the "
            "model it is measured on; add another --set (or a --feedback file)"
        )
    embedder = {r.embedder for r in runs}
    if len(embedder) != 1:
        raise ValueError(f"every training set must come from one embedder (have {', '.join(sorted(embedder))})")
    emb = embedder.pop()
    lodo: list[SetFigures] = []
    lodo_tune: list[SetFigures] = []
    lodo_models: dict[str, AnswerabilityModel] = {}
    for run in measured:
        name = run.spec.name
        say(f"leave one dataset out: fitting without {name}")
        m = fit([e for n in names if n != name for e in exs[n]], c, embedder=emb)
        lodo_models[name] = m
        for keep, out in ((is_train, lodo_tune), (is_test, lodo)):
            got = measure(m, [run], keep, f"lodo-{name}")
            for f in got:
                f.at_default = at_thresholds(m, [run], keep, 1.01, 0.0).get(name, {})
            out += got
    auto_min, suggest_min, notes = choose_defaults(lodo_tune, max_wrong, min_handoff_recall)
    say(f"defaults from leave-one-out: auto_min_answerability {auto_min}, suggest_min_answerability {suggest_min}")
    final = [e for n in names for e in exs[n]]
    model = fit(
        final,
        c,
        embedder=emb,
        extra={
            "sets": {
                r.spec.name: {
                    "kb": r.spec.kb.name if r.spec.kb.name != "demo" else "knowledge/demo",
                    "cases": r.spec.cases.name,
                    "cases_sha256": hashlib.sha256(r.spec.cases.read_bytes()).hexdigest(),
                    "limit": r.spec.limit,
                    "every": r.spec.every,
                    "half": "all" if r.spec.extra else "train",
                    "examples": len(exs[r.spec.name]),
                    "positives": sum(e.y for e in exs[r.spec.name]),
                }
                for r in runs
            },
            "max_wrong": max_wrong,
            "min_handoff_recall": min_handoff_recall,
            "leave_one_out_test_half": {f.set: {"auc": f.auc, "ece": f.ece, "examples": f.examples} for f in lodo},
        },
    )
    model = load_model_text(
        model_json(
            model.model_copy(
                update={"recommended": {"auto_min_answerability": auto_min, "suggest_min_answerability": suggest_min}}
            )
        )
    )
    final_figs = measure(model, measured, is_test, "final")
    lodo_at: dict[str, dict[str, Any]] = {}
    for run in measured:
        lodo_at.update(at_thresholds(lodo_models[run.spec.name], [run], is_test, auto_min, suggest_min))
    return TrainResult(
        model=model,
        final=final_figs,
        lodo=lodo,
        lodo_tune=lodo_tune,
        final_at_default=at_thresholds(model, measured, is_test, auto_min, suggest_min),
        lodo_at_default=lodo_at,
        notes=notes,
    )


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{100 * v:.1f}%"


def _num(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.3f}"


def format_result(result: TrainResult) -> str:
    """What `triage answerability train` prints."""
    m = result.model
    rec = m.recommended
    lines = [
        f"answerability model {m.version} for embedder {m.embedder}: {m.training['examples']} examples "
        f"(train halves), data sha256 {m.training['data_sha256'][:12]}",
        f"recommended defaults (leave one dataset out, on the left-out train halves): auto_min_answerability "
        f"{rec['auto_min_answerability']}, suggest_min_answerability {rec['suggest_min_answerability']}",
        "",
        "figures on each set's TEST half (never fitted or tuned on), at the recommended defaults:",
        "set      | model          | examples (+) | AUC   | AUC cosine | ECE   | auto right of answerable / wrong "
        "of auto | handoff recall",
    ]
    for label, figs, at in (
        ("shipped", result.final, result.final_at_default),
        ("leave set out", result.lodo, result.lodo_at_default),
    ):
        for f in figs:
            d = at.get(f.set, {})
            lines.append(
                f"{f.set:8} | {label:14} | {f.examples:4} ({f.positives:4}) | {_num(f.auc)} | "
                f"{_num(f.auc_cosine)}      | {_num(f.ece)} | {_pct(d.get('correct_auto_rate_answerable'))} / "
                f"{d.get('wrong_resolutions', 'n/a')} = {_pct(d.get('wrong_resolution_rate'))} "
                f"| {_pct(d.get('handoff_recall'))}"
            )
    lines.append("")
    lines.append("leave one dataset out (test half), auto threshold -> right of answerable / wrong of auto:")
    for f in result.lodo:
        pts = [p for p in f.curve if p["threshold"] in (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95)]
        lines.append(
            f"  {f.set:8} "
            + "  ".join(
                f"{p['threshold']:.2f}: {_pct(p['correct_auto_answerable'])}/{_pct(p['wrong_rate'])}" for p in pts
            )
        )
    lines += [f"note: {n}" for n in result.notes]
    return "\n".join(lines)


def result_json(result: TrainResult) -> dict[str, Any]:
    """The full figures (what `--json` writes)."""

    def figs(fs: list[SetFigures]) -> list[dict[str, Any]]:
        return [f.__dict__ for f in fs]

    return {
        "kind": "answerability",
        "model": {k: v for k, v in result.model.model_dump(mode="json").items() if k not in ("mean", "scale")},
        "final_test_half": figs(result.final),
        "leave_one_out_test_half": figs(result.lodo),
        "leave_one_out_train_half": figs(result.lodo_tune),
        "final_at_defaults": result.final_at_default,
        "leave_one_out_at_defaults": result.lodo_at_default,
        "notes": result.notes,
    }


def base_policy(path: Path) -> Policy:
    """The policy the training runs decide under. A shipped model the code no longer reads (trained on
    features of an older FEATURE_VERSION, or damaged) is what retraining replaces, so it must not stop
    the retrain: the policy is then read without it (the runs never use its P: every threshold the
    figures need is set with `with_model`)."""
    try:
        return load_policy(path)
    except AnswerabilityModelError:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        raw.setdefault("retrieval", {})["answerability_model"] = None
        return Policy.model_validate(raw)


def load_runs(
    settings: Settings,
    sets: list[TrainingSet],
    policy_file: Path | None = None,
    cache: bool = True,
    progress: Callable[[str], None] | None = None,
) -> list[SetRun]:
    base = base_policy(policy_file or settings.policy_file)
    cache_dir = settings.data_dir / "answerability" if cache else None
    return [collect(settings, s, base, cache_dir, progress) for s in sets]


def save_model(model: AnswerabilityModel, path: Path) -> AnswerabilityModel:
    """Write the model file and read it back through `load_model` (the checks the service runs)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(model_json(model), encoding="utf-8")
    got = load_model(tmp)
    tmp.replace(path)
    return got


def finite(v: float) -> bool:
    return math.isfinite(v)
