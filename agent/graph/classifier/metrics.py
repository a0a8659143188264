"""Classification metrics shared by training (stored in the artefact) and the eval harness."""

from __future__ import annotations

import itertools
from collections import Counter
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize_scalar  # pyright: ignore[reportUnknownVariableType]
from scipy.special import log_softmax, softmax
from sklearn.metrics import f1_score, precision_recall_fscore_support  # pyright: ignore[reportUnknownVariableType]

Floats = NDArray[np.float64]


def fit_temperature(logits: Floats, y: NDArray[np.int64]) -> float:
    """One temperature T minimising the negative log-likelihood of softmax(logits / T).

    Temperature scaling (Guo et al., 2017) keeps the ranking, so accuracy does not move; it only
    makes the probabilities honest. Fitted on out-of-fold logits, never on the training fit.

    A weak prior keeps T near 1 when the data cannot tell: on a small set that cross-validation
    gets all right, the likelihood alone would sharpen without limit (T -> 0) and make every
    guess look certain. The prior's weight shrinks as 1/n, so it does not matter on real history.
    """

    n = max(len(y), 1)

    def nll(log_t: float) -> float:
        lp = log_softmax(logits / np.exp(log_t), axis=1)
        return float(-lp[np.arange(len(y)), y].mean()) + 2.0 * log_t**2 / n

    res: Any = minimize_scalar(nll, bounds=(-4.0, 4.0), method="bounded")
    return float(np.exp(res.x))


def calibrated(logits: Floats, temperature: float) -> Floats:
    return np.asarray(softmax(logits / temperature, axis=1), dtype=np.float64)


def expected_calibration_error(conf: Floats, correct: NDArray[np.bool_], bins: int = 15) -> float:
    """Top-label ECE with equal-width bins: sum over bins of |accuracy - confidence| x share."""
    if len(conf) == 0:
        return 0.0
    return sum(abs(b["accuracy"] - b["confidence"]) * b["n"] for b in reliability(conf, correct, bins)) / len(conf)


def reliability(conf: Floats, correct: NDArray[np.bool_], bins: int = 10) -> list[dict[str, float]]:
    edges = np.linspace(0.0, 1.0, bins + 1)
    out: list[dict[str, float]] = []
    for lo, hi in itertools.pairwise(edges):
        mask = (conf > lo) & (conf <= hi) if lo > 0 else (conf >= lo) & (conf <= hi)
        n = int(mask.sum())
        out.append(
            {
                "lo": float(lo),
                "hi": float(hi),
                "n": n,
                "confidence": float(conf[mask].mean()) if n else 0.0,
                "accuracy": float(correct[mask].mean()) if n else 0.0,
            }
        )
    return out


def coverage_curve(conf: Floats, correct: NDArray[np.bool_], steps: int = 20) -> list[dict[str, float]]:
    """For thresholds 0, 0.05, ... 0.95: the share of tickets at or above it and their accuracy."""
    out: list[dict[str, float]] = []
    for t in np.linspace(0.0, 1.0, steps + 1)[:-1]:
        mask = conf >= t
        out.append(
            {
                "threshold": round(float(t), 3),
                "coverage": float(mask.mean()) if len(conf) else 0.0,
                "accuracy": float(correct[mask].mean()) if mask.any() else 1.0,
            }
        )
    return out


def threshold_for_precision(conf: Floats, correct: NDArray[np.bool_], target: float) -> float:
    """Lowest confidence threshold whose kept predictions are at least ``target`` accurate.

    Scans the sorted confidences from the top, so the returned threshold keeps the largest share
    of tickets that still meets the target. Returns 1.0 when even the most confident miss it.
    """
    order = np.argsort(-conf)
    hits = np.cumsum(correct[order]) / np.arange(1, len(order) + 1)
    ok = np.nonzero(hits >= target)[0]
    if len(ok) == 0:
        return 1.0
    return float(conf[order][ok.max()])


def oos_threshold(
    conf: Floats,
    pred: list[str],
    gold: list[str],
    oos_label: str,
    min_recall: float | None = None,
    max_in_scope_loss: float = 0.005,
) -> tuple[float, dict[str, float]]:
    """Pick the confidence threshold below which a ticket is called out-of-scope.

    Data must be out-of-fold (or held out) predictions on the training data, never the test set.
    Default rule: catch as many out-of-scope tickets as possible while giving up at most
    ``max_in_scope_loss`` of in-scope accuracy (absolute, against the best threshold for in-scope
    accuracy). An operations lead reads it as "we accept losing half a point of correct answers to hand
    off out-of-scope tickets". With ``min_recall`` the threshold is instead the lowest one that
    reaches that out-of-scope recall.
    """
    gold_arr = np.array(gold)
    pred_arr = np.array(pred)
    is_oos = gold_arr == oos_label
    # candidate thresholds: midway between neighbouring confidences, so the cut never sits on a
    # training example and a near-tie on the test data is not decided by rounding
    u = np.unique(conf)
    cands = np.concatenate([[0.0], (u[:-1] + u[1:]) / 2, [1.0 + 1e-9]])
    ins_list: list[float] = []
    rec_list: list[float] = []
    for t in cands:
        final = np.where(conf < t, oos_label, pred_arr)
        ins_list.append(float((final[~is_oos] == gold_arr[~is_oos]).mean()) if (~is_oos).any() else 0.0)
        rec_list.append(float((final[is_oos] == oos_label).mean()) if is_oos.any() else 0.0)
    ins = np.array(ins_list)
    rec = np.array(rec_list)
    if min_recall is not None:
        ok = np.nonzero(rec >= min_recall)[0]
        i = int(ok[0]) if len(ok) else len(cands) - 1
    else:
        allowed = np.nonzero(ins >= ins.max() - max_in_scope_loss - 1e-12)[0]
        # most recall among allowed thresholds; on a tie the lowest threshold (keeps most tickets)
        i = int(allowed[np.argmax(rec[allowed])])
    return float(cands[i]), {"in_scope_accuracy": float(ins[i]), "oos_recall": float(rec[i])}


def classification_metrics(
    gold: list[str],
    pred: list[str],
    conf: Floats,
    oos_label: str | None = None,
) -> dict[str, Any]:
    """Accuracy, macro-F1, per-class precision/recall/support, ECE, reliability and coverage curves."""
    g = np.array(gold)
    p = np.array(pred)
    correct = g == p
    labels = sorted(set(gold) | set(pred))
    prf: Any = precision_recall_fscore_support
    prec, rec, f1, sup = prf(g, p, labels=labels, zero_division=0)
    per_class = {
        lab: {"precision": float(prec[i]), "recall": float(rec[i]), "f1": float(f1[i]), "support": int(sup[i])}  # pyright: ignore[reportUnknownArgumentType]
        for i, lab in enumerate(labels)
    }
    f1_any: Any = f1_score
    confusions = Counter((a, b) for a, b in zip(gold, pred, strict=True) if a != b)
    out: dict[str, Any] = {
        "n": len(gold),
        "accuracy": float(correct.mean()) if len(g) else 0.0,
        "macro_f1": float(f1_any(g, p, labels=labels, average="macro", zero_division=0)),
        "ece": expected_calibration_error(conf, correct),
        "mean_confidence": float(conf.mean()) if len(conf) else 0.0,
        "per_class": per_class,
        "top_confusions": [{"gold": a, "predicted": b, "count": n} for (a, b), n in confusions.most_common(20)],
        "reliability": reliability(conf, correct),
        "coverage_accuracy": coverage_curve(conf, correct),
    }
    if oos_label is not None:
        is_oos = g == oos_label
        out["in_scope_accuracy"] = float(correct[~is_oos].mean()) if (~is_oos).any() else 0.0
        out["oos_recall"] = float((p[is_oos] == oos_label).mean()) if is_oos.any() else 0.0
        out["oos_precision"] = float((g[p == oos_label] == oos_label).mean()) if (p == oos_label).any() else 0.0
    return out
