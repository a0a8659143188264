"""`triage eval triage`: train on one labelled file, measure on another, report.

Everything that picks a number (temperature, the LLM-fallback threshold, the out-of-scope
threshold) is chosen on the training file by cross-validation; the test file is only predicted.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from agent.graph.classifier.data import LabelledSet, read_labelled
from agent.graph.classifier.metrics import classification_metrics
from agent.graph.classifier.model import TrainParams, TriageClassifier, train


def few_shot(data: LabelledSet, field: str, shots: int, seed: int = 0) -> LabelledSet:
    """At most ``shots`` rows per label of ``field`` (fixed seed; every label keeps min(shots, n))."""
    by_label: dict[str, list[int]] = defaultdict(list)
    for i, lab in enumerate(data.labels[field]):
        if lab not in (None, ""):
            by_label[str(lab)].append(i)
    rng = random.Random(seed)
    keep: list[int] = []
    for lab in sorted(by_label):
        rows = by_label[lab]
        keep += sorted(rng.sample(rows, min(shots, len(rows))))
    keep.sort()
    return LabelledSet(
        source=f"{data.source} ({shots} per label, seed {seed})",
        texts=[data.texts[i] for i in keep],
        labels={k: [v[i] for i in keep] for k, v in data.labels.items()},
        sha256=data.sha256,
        text_columns=data.text_columns,
    )


def evaluate(
    clf: TriageClassifier, test: LabelledSet, field: str, oos_label: str | None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    texts, gold = test.field_rows(field)
    t0 = time.perf_counter()
    preds = clf.predict(texts)
    elapsed = time.perf_counter() - t0
    fm = clf.fields[field]
    if oos_label is not None and fm.oos_label is None:
        # no out-of-scope examples in training: the learner cannot name the label, so a
        # prediction below the fallback threshold counts as "out of scope" (handed off)
        pred = [oos_label if not p[field].confident else p[field].label for p in preds]
    else:
        pred = [p[field].label for p in preds]
    conf = np.array([p[field].confidence for p in preds], dtype=np.float64)
    metrics = classification_metrics(gold, pred, conf, oos_label)
    metrics["tickets_per_s"] = len(texts) / elapsed if elapsed > 0 else 0.0
    metrics["seconds"] = elapsed
    confident = np.array([p[field].confident for p in preds])
    correct = np.array([a == b for a, b in zip(gold, pred, strict=True)])
    metrics["at_threshold"] = {
        "threshold": fm.threshold,
        "coverage": float(confident.mean()),
        "accuracy": float(correct[confident].mean()) if confident.any() else 1.0,
    }
    rows = [
        {"text": t, "gold": g, "predicted": p, "confidence": float(c), "top": preds[i][field].top}
        for i, (t, g, p, c) in enumerate(zip(texts, gold, pred, conf, strict=True))
    ]
    return metrics, rows


def run_triage_eval(
    train_spec: str,
    test_spec: str,
    text_columns: list[str] | None,
    label_columns: list[str] | None,
    embedder: str,
    oos_label: str | None = None,
    shots: int | None = None,
    seed: int = 0,
    params: TrainParams | None = None,
    progress: Any = None,
    save_model: Path | None = None,
) -> dict[str, Any]:
    train_set = read_labelled(train_spec, text_columns, label_columns)
    test_set = read_labelled(test_spec, text_columns, label_columns)
    field = next(iter(train_set.labels))
    if field not in test_set.labels:
        raise ValueError(f"{test_spec}: no label column {field!r}")
    if shots:
        train_set = few_shot(train_set, field, shots, seed)
    params = params or TrainParams()
    params.oos_label = oos_label
    params.seed = seed
    with tempfile.TemporaryDirectory(prefix="triage-eval-") as tmp:
        t0 = time.perf_counter()
        clf = train(train_set, embedder, save_model or Path(tmp) / "model", params, fields=[field], progress=progress)
        train_s = time.perf_counter() - t0
        if save_model:
            clf.save()
        if progress:
            progress(f"trained in {train_s:.1f} s; predicting {len(test_set)} test rows")
        metrics, rows = evaluate(clf, test_set, field, oos_label)
    fm = clf.fields[field]
    return {
        **{k: metrics[k] for k in ("accuracy", "macro_f1", "ece", "tickets_per_s") if k in metrics},
        **{k: metrics[k] for k in ("in_scope_accuracy", "oos_recall", "oos_precision") if k in metrics},
        "run": {
            "train": train_spec,
            "test": test_spec,
            "field": field,
            "shots": shots,
            "seed": seed,
            "oos_label": oos_label,
            "train_rows": len(train_set),
            "test_rows": len(rows),
            "labels": len(fm.labels),
            "train_seconds": round(train_s, 1),
            "model_version": clf.version,
            "embedder": embedder,
            "encoder": clf.manifest["encoder"],
            "params": clf.manifest["params"],
            "temperature": fm.temperature,
            "fallback_threshold": fm.threshold,
            "oos_threshold": fm.oos_threshold,
            "cv_metrics": fm.cv_metrics,
        },
        "metrics": metrics,
        "errors": [r for r in rows if r["gold"] != r["predicted"]][:200],
    }


def format_summary(result: dict[str, Any]) -> str:
    """The run in a few lines, for the terminal: sizes, the headline metrics, what the classifier decides."""
    run = result["run"]
    lines = [f"{run['field']}: train {run['train_rows']} rows, test {run['test_rows']} rows, {run['labels']} labels"]
    for key in ("accuracy", "macro_f1", "in_scope_accuracy", "oos_recall", "oos_precision"):
        if key in result:
            lines.append(f"  {key:18} {result[key]:.2%}")
    lines.append(f"  {'ece':18} {result['ece']:.4f}")
    lines.append(f"  {'tickets_per_s':18} {result['tickets_per_s']:.0f}")
    at = result["metrics"]["at_threshold"]
    lines.append(
        f"  classifier decides {at['coverage']:.1%} at {at['accuracy']:.2%} accuracy "
        f"(threshold {at['threshold']:.3f}); the rest go to the LLM"
    )
    return "\n".join(lines)
