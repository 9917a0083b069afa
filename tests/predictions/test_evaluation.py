"""The calibration arithmetic against scikit-learn's own: reliability bins, ECE, capture."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss, roc_auc_score

from qualify.predictions import evaluation


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reliability_bins_match_sklearn_calibration_curve(seed):
    rng = np.random.default_rng(seed)
    p = rng.beta(0.8, 4, size=5000)
    p[:3] = [0.0, 1.0, 0.5]  # the edges: 0 in the first bin, 1.0 in the last, 0.5 in the fifth (bins are (low, high])
    y = (rng.random(5000) < p).astype(int)
    table = evaluation.reliability(y, p)
    observed, predicted = calibration_curve(y, p, n_bins=10, strategy="uniform")
    filled = [r for r in table if r["count"]]
    assert np.allclose([r["observed"] for r in filled], observed)
    assert np.allclose([r["predicted"] for r in filled], predicted)
    assert sum(r["count"] for r in table) == 5000


def test_ece_is_the_count_weighted_gap_of_the_sklearn_bins():
    rng = np.random.default_rng(3)
    p = rng.random(2000)
    y = (rng.random(2000) < p ** 2).astype(int)  # over-confident on purpose
    observed, predicted = calibration_curve(y, p, n_bins=10)
    idx = np.searchsorted(np.linspace(0, 1, 11)[1:-1], p)  # calibration_curve's own binning
    counts = np.bincount(idx, minlength=10)
    expected = float(np.sum(counts[counts > 0] * np.abs(observed - predicted)) / len(p))
    assert evaluation.ece(evaluation.reliability(y, p)) == pytest.approx(expected)
    assert expected > 0.1


def test_perfectly_calibrated_predictions_have_a_small_ece():
    rng = np.random.default_rng(4)
    p = rng.random(200_000)
    y = (rng.random(200_000) < p).astype(int)
    assert evaluation.ece(evaluation.reliability(y, p)) < 0.01


def test_auc_and_brier_are_sklearns():
    rng = np.random.default_rng(5)
    p = rng.random(1000)
    y = (rng.random(1000) < p).astype(int)
    m = evaluation.evaluate(y, p)
    assert m["auc"] == pytest.approx(roc_auc_score(y, p))
    assert m["brier"] == pytest.approx(brier_score_loss(y, p))


def test_capture_counts_conversions_in_the_top_leads():
    p = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05])
    y = np.array([1, 1, 0, 0, 1, 0, 0, 0, 0, 1])
    points = {c["top_pct"]: c["share"] for c in evaluation.capture(y, p)}
    assert points[20] == pytest.approx(0.5)  # the top 2 leads hold 2 of 4 conversions
    assert points[50] == pytest.approx(0.75)
    assert points[100] == pytest.approx(1.0)
    sentence = evaluation.capture_sentence(evaluation.evaluate(y, p))
    assert sentence == "The top 20% of leads by predicted probability hold 50% of conversions."


@pytest.mark.parametrize(("auc", "start"), [
    (0.55, "These features rank leads barely better than chance (AUC 0.55;"),
    (0.64, "These features rank leads only a little better than chance (AUC 0.64;"),
    (0.70, ""), (0.85, ""), (None, ""),
])
def test_a_weak_model_gets_a_plain_headline_and_a_good_one_none(auc, start):
    said = evaluation.verdict({"auc": auc})
    assert said.startswith(start) and bool(said) == bool(start)


@pytest.mark.parametrize(("auc", "words"), [
    (0.99, "a likely leak"), (0.75, "strong on its own"), (0.62, "some signal"), (0.56, "weak"),
    (0.51, "next to nothing (0.5 is a coin toss)"),
])
def test_each_features_auc_alone_in_words(auc, words):
    assert evaluation.feature_words(auc) == words
