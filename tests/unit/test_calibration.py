"""Calibration and threshold choice on synthetic data whose right answers are known."""

from __future__ import annotations

import numpy as np

from agent.graph.classifier.metrics import (
    calibrated,
    classification_metrics,
    coverage_curve,
    expected_calibration_error,
    fit_temperature,
    oos_threshold,
    threshold_for_precision,
)


def _sample(n: int, k: int, true_t: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Logits whose labels are drawn from softmax(logits / true_t): true_t is the right temperature."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 3, size=(n, k))
    probs = calibrated(logits, true_t)
    y = np.array([rng.choice(k, p=p) for p in probs])
    return logits, y


def test_temperature_is_recovered() -> None:
    logits, y = _sample(4000, 5, true_t=2.5)
    t = fit_temperature(logits, y)
    assert 2.2 < t < 2.8


def test_temperature_scaling_fixes_overconfidence_without_changing_accuracy() -> None:
    logits, y = _sample(4000, 5, true_t=3.0, seed=1)
    raw = calibrated(logits, 1.0)
    fixed = calibrated(logits, fit_temperature(logits, y))
    correct = raw.argmax(1) == y
    assert (fixed.argmax(1) == raw.argmax(1)).all()
    before = expected_calibration_error(raw.max(1), correct)
    after = expected_calibration_error(fixed.max(1), correct)
    assert before > 0.15 and after < 0.04


def test_ece_is_zero_when_confidence_equals_accuracy() -> None:
    conf = np.full(100, 0.8)
    correct = np.array([True] * 80 + [False] * 20)
    assert expected_calibration_error(conf, correct) < 1e-9
    assert abs(expected_calibration_error(np.full(100, 0.99), correct) - 0.19) < 1e-9


def test_threshold_for_precision_keeps_the_most_tickets_meeting_the_target() -> None:
    conf = np.array([0.99, 0.95, 0.9, 0.8, 0.7, 0.6, 0.5])
    correct = np.array([True, True, True, True, False, True, False])
    # top 4 are all right (100%), top 6 are 5/6 = 83%, top 5 = 80%
    assert threshold_for_precision(conf, correct, 1.0) == 0.8
    assert threshold_for_precision(conf, correct, 0.83) == 0.6
    assert threshold_for_precision(np.array([0.9]), np.array([False]), 0.5) == 1.0


def test_oos_threshold_separates_the_two_populations() -> None:
    rng = np.random.default_rng(0)
    ins = rng.uniform(0.6, 1.0, 300)
    oos = rng.uniform(0.1, 0.5, 100)
    conf = np.concatenate([ins, oos])
    gold = ["a"] * 300 + ["oos"] * 100
    pred = ["a"] * 300 + ["b"] * 100
    t, m = oos_threshold(conf, pred, gold, "oos", max_in_scope_loss=0.0)
    assert 0.5 <= t <= 0.6
    assert m == {"in_scope_accuracy": 1.0, "oos_recall": 1.0}
    # asking for a recall floor returns the lowest threshold reaching it
    t80, m80 = oos_threshold(conf, pred, gold, "oos", min_recall=0.8)
    assert t80 < t and m80["oos_recall"] >= 0.8


def test_oos_threshold_trades_at_most_the_allowed_in_scope_accuracy() -> None:
    # overlapping populations: every bit of out-of-scope recall costs in-scope answers
    rng = np.random.default_rng(1)
    conf = np.concatenate([rng.uniform(0.3, 1.0, 1000), rng.uniform(0.0, 0.7, 200)])
    gold = ["a"] * 1000 + ["oos"] * 200
    pred = ["a"] * 1200
    for loss in (0.0, 0.01, 0.05):
        t, m = oos_threshold(conf, pred, gold, "oos", max_in_scope_loss=loss)
        assert m["in_scope_accuracy"] >= 1.0 - loss - 1e-9
        kept = conf[:1000] >= t
        assert abs(kept.mean() - m["in_scope_accuracy"]) < 1e-9
    # a larger allowance buys more recall
    r = [oos_threshold(conf, pred, gold, "oos", max_in_scope_loss=x)[1]["oos_recall"] for x in (0.0, 0.01, 0.05)]
    assert r[0] < r[1] < r[2]


def test_coverage_curve_and_metrics() -> None:
    conf = np.array([0.9, 0.8, 0.3, 0.2])
    correct = np.array([True, True, False, True])
    curve = coverage_curve(conf, correct, steps=10)
    assert curve[0] == {"threshold": 0.0, "coverage": 1.0, "accuracy": 0.75}
    at_half = next(c for c in curve if c["threshold"] == 0.5)
    assert at_half["coverage"] == 0.5 and at_half["accuracy"] == 1.0
    m = classification_metrics(["a", "a", "b", "oos"], ["a", "b", "b", "oos"], conf, oos_label="oos")
    assert m["accuracy"] == 0.75
    assert m["per_class"]["a"] == {"precision": 1.0, "recall": 0.5, "f1": 2 / 3, "support": 2}
    assert m["top_confusions"] == [{"gold": "a", "predicted": "b", "count": 1}]
    assert m["oos_recall"] == 1.0 and abs(m["in_scope_accuracy"] - 2 / 3) < 1e-9


def test_separable_small_data_does_not_sharpen_without_limit() -> None:
    # 30 examples, all classified right with margin: the likelihood alone would push T to 0
    logits = np.tile(np.array([[4.0, 0.0, 0.0]]), (30, 1))
    y = np.zeros(30, dtype=np.int64)
    t = fit_temperature(logits, y)
    assert t > 0.25
    assert calibrated(logits, t).max() < 0.99999
