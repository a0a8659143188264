"""The trained triage classifier: sentence embeddings (+ TF-IDF n-grams) -> logistic regression,
temperature-calibrated, one model per triage field, saved as a versioned artefact.

Why this shape:
- The configured sentence-transformers model gives meaning; word and character n-grams give the
  exact wording that fine-grained intents hinge on ("top up" vs "transfer", "pending" vs
  "declined"). One logistic regression over both beat either alone on Banking77 dev
  (see the closing note of issue 3 and `triage eval triage`).
- Probabilities are calibrated by one temperature fitted on out-of-fold logits (5-fold CV on the
  training data; with a fine-tuned encoder, only on the rows held out of fine-tuning). A
  temperature does not change which label wins, only how sure it claims to be.
- Per field, the artefact stores the confidence threshold below which the service asks the LLM
  (the lowest that keeps ``target_precision`` on the out-of-fold predictions) and, when the
  history has an out-of-scope label, the threshold below which a ticket is called out-of-scope.

Artefact layout (a directory): ``manifest.json`` (format version, created, data sha256, embedder,
encoder fine-tuning, params, labels, thresholds, cross-validated metrics, sha256 of
``model.joblib``), ``model.joblib`` (the scikit-learn objects) and ``encoder/`` (tokenizer and
``model.onnx``; see encoder.py). Loading checks the hash, so a truncated or swapped file is refused
with a clear error instead of unpickled.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib  # pyright: ignore[reportMissingTypeStubs]
import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from agent.errors import ConfigError
from agent.graph.classifier.data import LabelledSet
from agent.graph.classifier.encoder import OnnxEncoder, build_encoder
from agent.graph.classifier.metrics import (
    calibrated,
    classification_metrics,
    fit_temperature,
    oos_threshold,
    threshold_for_precision,
)
from knowledge.embeddings import resolve_model_path

FORMAT_VERSION = 2
MANIFEST = "manifest.json"
PICKLE = "model.joblib"
ENCODER_DIR = "encoder"
MIN_FINE_TUNE_ROWS = 500


@contextmanager
def _artefact_module_names() -> Iterator[None]:
    """Artefacts trained before the classifier moved under agent/graph/ pickled its classes as
    `agent.classifier.*`: while one loads, those names resolve to the modules' new home (the sha256
    check has already passed, so this only renames our own classes)."""
    from agent.graph import classifier as package
    from agent.graph.classifier import data, encoder, metrics

    old = {"agent.classifier": package, "agent.classifier.data": data, "agent.classifier.encoder": encoder,
           "agent.classifier.metrics": metrics, "agent.classifier.model": sys.modules[__name__]}  # fmt: skip
    added = [name for name in old if name not in sys.modules]
    for name in added:
        sys.modules[name] = old[name]
    try:
        yield
    finally:
        for name in added:
            sys.modules.pop(name, None)


class ArtefactError(ConfigError):
    """The classifier artefact is missing, corrupt or was built for something else."""


@dataclass
class TrainParams:
    C: float = 10.0
    tfidf: bool = True
    tfidf_weight: float = 0.5
    folds: int = 5
    target_precision: float = 0.95
    oos_label: str | None = None
    oos_min_recall: float | None = None
    oos_max_in_scope_loss: float = 0.005
    max_iter: int = 3000
    seed: int = 0
    # fine-tune the encoder on the first field's labels: None = by data size (frozen below 500
    # rows, else about 800 steps, 3 to 30 epochs), 0 = keep the encoder frozen
    fine_tune_epochs: int | None = None
    # share of each label held out of fine-tuning, to calibrate on rows the encoder never saw
    calibration_holdout: float = 0.15

    def epochs_for(self, rows: int) -> int:
        """Fine-tuning pays on hundreds of rows and up (Banking77: +0.9 points on 6.4k rows, +0.8 on
        10 per label); below ``MIN_FINE_TUNE_ROWS`` the held-out calibration set is too small to
        trust and the frozen encoder did better (shipped history: 72.0% vs 69.5% category accuracy
        on the smoke set)."""
        if self.fine_tune_epochs is not None:
            return self.fine_tune_epochs
        if rows < MIN_FINE_TUNE_ROWS:
            return 0
        return max(3, min(30, math.ceil(800 * 32 / max(rows, 1))))


@dataclass
class Prediction:
    label: str
    confidence: float
    top: list[tuple[str, float]]
    confident: bool
    out_of_scope: bool = False


@dataclass
class FieldModel:
    name: str
    labels: list[str]
    vectorizers: list[TfidfVectorizer]
    clf: LogisticRegression
    temperature: float
    threshold: float
    oos_label: str | None = None
    oos_threshold: float | None = None
    cv_metrics: dict[str, Any] = field(default_factory=dict[str, Any])


def _features(
    embeddings: NDArray[np.float32], texts: list[str], vectorizers: list[TfidfVectorizer], weight: float
) -> Any:
    if not vectorizers:
        return embeddings
    blocks: list[Any] = [sp.csr_matrix(embeddings)]
    blocks += [v.transform(texts) * weight for v in vectorizers]
    return sp.hstack(blocks, format="csr")


def _new_vectorizers() -> list[TfidfVectorizer]:
    return [
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, lowercase=True),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2, lowercase=True),
    ]


def _fit_one(
    emb: NDArray[np.float32], texts: list[str], y: NDArray[np.int64], params: TrainParams
) -> tuple[list[TfidfVectorizer], LogisticRegression]:
    vecs = _new_vectorizers() if params.tfidf else []
    for v in vecs:
        v.fit(texts)
    clf = LogisticRegression(C=params.C, max_iter=params.max_iter)
    clf.fit(_features(emb, texts, vecs, params.tfidf_weight), y)
    return vecs, clf


def _logits(fm_vecs: list[TfidfVectorizer], clf: LogisticRegression, emb: Any, texts: list[str], w: float) -> Any:
    scores = np.asarray(clf.decision_function(_features(emb, texts, fm_vecs, w)), dtype=np.float64)
    return scores if scores.ndim == 2 else np.stack([-scores, scores], axis=1)


def train_field(
    name: str,
    emb: NDArray[np.float32],
    texts: list[str],
    labels: list[str],
    params: TrainParams,
    calibrate_on: NDArray[np.bool_] | None = None,
) -> FieldModel:
    """Cross-validated logits on every row; temperature, thresholds and the reported metrics come
    from the rows in ``calibrate_on`` (default all): with a fine-tuned encoder, only rows it never
    saw give honest confidences."""
    classes = sorted(set(labels))
    if len(classes) < 2:
        raise ValueError(f"field {name!r}: need at least two labels to learn, got {classes}")
    index = {c: i for i, c in enumerate(classes)}
    y = np.array([index[c] for c in labels], dtype=np.int64)
    counts = np.bincount(y)
    folds = int(min(params.folds, counts.min()))
    oof = np.zeros((len(y), len(classes)), dtype=np.float64)
    if folds >= 2:
        skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=params.seed)
        for tr, te in skf.split(np.zeros(len(y)), y):
            tr_texts = [texts[i] for i in tr]
            te_texts = [texts[i] for i in te]
            vecs, clf = _fit_one(emb[tr], tr_texts, y[tr], params)
            part = _logits(vecs, clf, emb[te], te_texts, params.tfidf_weight)
            # a fold may miss a rare class: place its columns by the fold classifier's classes
            oof[np.ix_(te, clf.classes_)] = part
            missing = np.setdiff1d(np.arange(len(classes)), clf.classes_)
            if len(missing):
                oof[np.ix_(te, missing)] = -1e4
        cal = calibrate_on if calibrate_on is not None and calibrate_on.sum() >= 2 else np.ones(len(y), dtype=bool)
        temperature = fit_temperature(oof[cal], y[cal])
    else:
        cal = np.ones(len(y), dtype=bool)
        temperature = 1.0
    vecs, clf = _fit_one(emb, texts, y, params)
    fm = FieldModel(name=name, labels=classes, vectorizers=vecs, clf=clf, temperature=temperature, threshold=0.0)
    if folds >= 2:
        probs = calibrated(oof[cal], temperature)
        conf = probs.max(axis=1)
        pred = [classes[i] for i in probs.argmax(axis=1)]
        labels = [lab for lab, keep in zip(labels, cal, strict=True) if keep]
        correct = np.array([p == g for p, g in zip(pred, labels, strict=True)])
        fm.threshold = threshold_for_precision(conf, correct, params.target_precision)
        if params.oos_label and params.oos_label in index:
            fm.oos_label = params.oos_label
            fm.oos_threshold, _ = oos_threshold(
                conf, pred, labels, params.oos_label, params.oos_min_recall, params.oos_max_in_scope_loss
            )
            pred = [params.oos_label if c < fm.oos_threshold else p for p, c in zip(pred, conf, strict=True)]
        m = classification_metrics(labels, pred, conf, fm.oos_label)
        fm.cv_metrics = {
            k: m[k] for k in ("n", "accuracy", "macro_f1", "ece", "in_scope_accuracy", "oos_recall") if k in m
        }
        fm.cv_metrics["folds"] = folds
    return fm


class TriageClassifier:
    def __init__(self, fields: dict[str, FieldModel], encoder: OnnxEncoder, manifest: dict[str, Any]) -> None:
        self.fields = fields
        self.encoder = encoder
        self.manifest = manifest
        self.tfidf_weight = float(manifest.get("params", {}).get("tfidf_weight", 0.5))

    @property
    def version(self) -> str:
        return str(self.manifest.get("version", "unknown"))

    def predict(self, texts: list[str], top_k: int = 3) -> list[dict[str, Prediction]]:
        emb = self.encoder.encode(texts)
        return self.predict_embedded(emb, texts, top_k)

    def predict_embedded(
        self, emb: NDArray[np.float32], texts: list[str], top_k: int = 3
    ) -> list[dict[str, Prediction]]:
        out: list[dict[str, Prediction]] = [{} for _ in texts]
        for name, fm in self.fields.items():
            logits = np.full((len(texts), len(fm.labels)), -1e4)
            logits[:, fm.clf.classes_] = _logits(fm.vectorizers, fm.clf, emb, texts, self.tfidf_weight)
            probs = calibrated(logits, fm.temperature)
            order = np.argsort(-probs, axis=1)[:, :top_k]
            for i in range(len(texts)):
                top = [(fm.labels[j], round(float(probs[i, j]), 4)) for j in order[i]]
                label, conf = top[0]
                oos = fm.oos_threshold is not None and conf < fm.oos_threshold
                if oos and fm.oos_label:
                    label = fm.oos_label
                out[i][name] = Prediction(
                    label=label,
                    confidence=conf,
                    top=top,
                    confident=conf >= fm.threshold and not oos,
                    out_of_scope=oos or (fm.oos_label is not None and label == fm.oos_label),
                )
        return out

    # ---- persistence -------------------------------------------------------------------------
    def save(self) -> Path:
        """Write the model and manifest next to the encoder this classifier was built with."""
        directory = self.encoder.directory.parent
        tmp = directory / (PICKLE + ".tmp")
        joblib.dump({"format": FORMAT_VERSION, "fields": self.fields}, tmp, compress=3)  # pyright: ignore[reportUnknownMemberType]
        digest = hashlib.sha256(tmp.read_bytes()).hexdigest()
        tmp.replace(directory / PICKLE)
        manifest = {**self.manifest, "model_sha256": digest}
        (directory / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        self.manifest = manifest
        return directory

    @classmethod
    def load(cls, directory: Path) -> TriageClassifier:
        mpath = directory / MANIFEST
        ppath = directory / PICKLE
        if not mpath.exists() or not ppath.exists():
            raise ArtefactError(
                f"{directory}: no trained classifier here (need {MANIFEST} and {PICKLE}); run `triage train`"
            )
        try:
            manifest: dict[str, Any] = json.loads(mpath.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ArtefactError(f"{mpath}: not JSON ({exc.msg})") from exc
        if manifest.get("format") != FORMAT_VERSION:
            raise ArtefactError(
                f"{mpath}: format {manifest.get('format')!r}, this build reads {FORMAT_VERSION}; retrain"
            )
        if hashlib.sha256(ppath.read_bytes()).hexdigest() != manifest.get("model_sha256"):
            raise ArtefactError(f"{ppath}: sha256 does not match the manifest; the file is corrupt or was replaced")
        with _artefact_module_names():
            blob: dict[str, Any] = joblib.load(ppath)  # pyright: ignore[reportUnknownMemberType]
        try:
            encoder = OnnxEncoder(directory / ENCODER_DIR)
        except Exception as exc:  # onnxruntime/tokenizers raise their own types
            raise ArtefactError(f"{directory / ENCODER_DIR}: cannot open the encoder ({exc})") from exc
        return cls(blob["fields"], encoder, manifest)


def _holdout(labels: list[str], share: float, oos_label: str | None, seed: int) -> NDArray[np.bool_]:
    """Rows kept out of fine-tuning: ``share`` of each label (at least one when it has 3+ rows)
    and every out-of-scope row (fine-tuning on them would teach the encoder this particular
    sample of "anything else", which does not generalise)."""
    rng = random.Random(seed)
    by_label: dict[str, list[int]] = {}
    for i, lab in enumerate(labels):
        by_label.setdefault(lab, []).append(i)
    mask = np.zeros(len(labels), dtype=bool)
    for lab, rows in by_label.items():
        if lab == oos_label:
            mask[rows] = True
            continue
        k = round(share * len(rows)) if len(rows) >= 3 else 0
        k = max(k, 1) if len(rows) >= 3 and share > 0 else k
        mask[rng.sample(rows, k)] = True
    return mask


def train(
    data: LabelledSet,
    embedder_spec: str,
    directory: Path,
    params: TrainParams | None = None,
    fields: list[str] | None = None,
    progress: Any = None,
) -> TriageClassifier:
    """Train one calibrated classifier per label column of ``data`` into ``directory``.

    The directory is replaced; the caller saves with ``.save()``.
    """
    params = params or TrainParams()
    names = fields or list(data.labels)
    t0 = time.perf_counter()
    primary = names[0]
    labels0 = [lab or "" for lab in data.labels[primary]]
    held = _holdout(labels0, params.calibration_holdout, params.oos_label, params.seed)
    tune_rows = [i for i, lab in enumerate(labels0) if lab and not held[i]]
    epochs = params.epochs_for(len(tune_rows)) if len(set(labels0[i] for i in tune_rows)) >= 2 else 0
    if epochs and progress:
        progress(f"fine-tuning the encoder on {len(tune_rows)} rows for {epochs} epochs ({held.sum()} held out)")
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    encoder = build_encoder(
        resolve_model_path(embedder_spec),
        directory / ENCODER_DIR,
        [data.texts[i] for i in tune_rows],
        [labels0[i] for i in tune_rows],
        epochs=epochs,
        seed=params.seed,
        progress=progress,
    )
    t_tune = time.perf_counter() - t0
    emb_all = encoder.encode(data.texts)
    t_embed = time.perf_counter() - t0 - t_tune
    models: dict[str, FieldModel] = {}
    for name in names:
        keep = [i for i, lab in enumerate(data.labels[name]) if lab not in (None, "")]
        texts = [data.texts[i] for i in keep]
        labels = [str(data.labels[name][i]) for i in keep]
        if progress:
            progress(f"training {name!r} on {len(texts)} rows, {len(set(labels))} labels")
        cal = held[keep] if epochs else None
        models[name] = train_field(name, emb_all[keep], texts, labels, params, cal)
    created = datetime.now(UTC)
    manifest: dict[str, Any] = {
        "format": FORMAT_VERSION,
        "version": f"{created:%Y%m%d%H%M%S}-{data.sha256[:8]}",
        "created": created.isoformat(timespec="seconds"),
        "data": {"source": data.source, "sha256": data.sha256, "rows": len(data), "text_columns": data.text_columns},
        "embedder": embedder_spec,
        "encoder": {
            "fine_tuned_on": primary if epochs else None,
            "epochs": epochs,
            "rows": len(tune_rows) if epochs else 0,
            "calibration_rows": int(held.sum()) if epochs else len(data),
            "runtime": "onnxruntime",
        },
        "learner": "sklearn LogisticRegression on [sentence embedding, tf-idf word 1-2 + char 2-5 grams]; "
        "temperature scaling on out-of-fold logits",
        "params": asdict(params),
        "fields": {
            n: {
                "labels": m.labels,
                "temperature": round(m.temperature, 4),
                "threshold": round(m.threshold, 4),
                "oos_label": m.oos_label,
                "oos_threshold": None if m.oos_threshold is None else round(m.oos_threshold, 4),
                "cv_metrics": m.cv_metrics,
            }
            for n, m in models.items()
        },
        "timing_s": {
            "fine_tune": round(t_tune, 1),
            "embed": round(t_embed, 1),
            "total": round(time.perf_counter() - t0, 1),
        },
    }
    return TriageClassifier(models, encoder, manifest)


def is_trained(directory: Path) -> bool:
    """Whether `directory` holds an artefact (its manifest; `TriageClassifier.load` checks the rest)."""
    return (directory / MANIFEST).exists()


def train_in_place(
    data: LabelledSet,
    embedder_spec: str,
    target: Path,
    params: TrainParams | None = None,
    progress: Any = None,
) -> TriageClassifier:
    """Train (as `train`) into `<target>.new`, save, and swap it in for `target` in one rename, so a
    running service never sees half an artefact. A ValueError from training leaves `target` as it
    was (the staging directory is removed). The returned classifier predicts and has its manifest; its
    files are at `target` now (load it from there to save it again)."""
    staging = target.with_name(target.name + ".new")
    try:
        clf = train(data, embedder_spec, staging, params, progress=progress)
    except ValueError:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    clf.save()
    old = target.with_name(target.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    staging.rename(target)
    shutil.rmtree(old, ignore_errors=True)
    return clf
