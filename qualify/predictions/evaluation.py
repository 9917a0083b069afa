"""Held-out evaluation of predicted probabilities: plain functions of arrays.

AUC and Brier come from scikit-learn; the reliability table, expected calibration error (ECE)
and capture curve are written out here because the page shows their parts (bin counts, the
observed rate per bin), and tests hold them equal to scikit-learn's calibration_curve.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import brier_score_loss, roc_auc_score

from qualify.formatting import show_share

BINS = 10
CAPTURE_AT = (5, 10, 20, 30, 50)


def reliability(y: np.ndarray, p: np.ndarray, bins: int = BINS) -> list[dict[str, Any]]:
    """Equal-width bins over [0, 1], each (low, high] and the first [0, 0.1] (scikit-learn's
    calibration_curve binning): per bin the leads, the mean predicted probability and the
    observed conversion rate. Empty bins are kept, with count 0."""
    y, p = np.asarray(y, float), np.asarray(p, float)
    idx = bin_of(p, bins)
    rows = []
    for b in range(bins):
        mask = idx == b
        n = int(mask.sum())
        rows.append({
            "bin": b, "low": b / bins, "high": (b + 1) / bins, "count": n,
            "predicted": float(p[mask].mean()) if n else None,
            "observed": float(y[mask].mean()) if n else None,
            "won": int(y[mask].sum()),
        })
    return rows


def bin_of(p: np.ndarray, bins: int = BINS) -> np.ndarray:
    return np.clip(np.searchsorted(np.linspace(0, 1, bins + 1)[1:-1], np.asarray(p, float)), 0, bins - 1)


def ece(table: list[dict[str, Any]]) -> float:
    """Expected calibration error: the count-weighted mean gap between predicted and observed."""
    total = sum(r["count"] for r in table)
    if not total:
        return 0.0
    return float(sum(r["count"] * abs(r["predicted"] - r["observed"]) for r in table if r["count"]) / total)


def capture(y: np.ndarray, p: np.ndarray, at: tuple[int, ...] = CAPTURE_AT) -> list[dict[str, Any]]:
    """Share of all conversions held by the top k % of leads by predicted probability (ties by
    order of appearance), for each k in `at` and every 10 % for the curve."""
    y, p = np.asarray(y, float), np.asarray(p, float)
    order = np.argsort(-p, kind="stable")
    cum = np.cumsum(y[order])
    total = cum[-1] if len(cum) else 0
    points = sorted(set(at) | set(range(10, 101, 10)))
    out = []
    for k in points:
        n = int(round(len(y) * k / 100))
        share = float(cum[n - 1] / total) if n and total else 0.0
        out.append({"top_pct": k, "leads": n, "share": share})
    return out


def evaluate(y: np.ndarray, p: np.ndarray) -> dict[str, Any]:
    """Everything the quality page shows about one set of held-out predictions."""
    y, p = np.asarray(y, int), np.asarray(p, float)
    both = len(set(y.tolist())) == 2
    table = reliability(y, p)
    return {
        "n": int(len(y)),
        "won": int(y.sum()),
        "base_rate": float(y.mean()) if len(y) else 0.0,
        "auc": float(roc_auc_score(y, p)) if both else None,
        "brier": float(brier_score_loss(y, p)) if len(y) else None,
        "ece": ece(table),
        "reliability": table,
        "capture": capture(y, p),
    }


def capture_sentence(metrics: dict[str, Any], k: int = 20) -> str:
    point = next((c for c in metrics.get("capture", []) if c["top_pct"] == k), None)
    if not point or not metrics.get("won"):
        return ""
    return f"The top {k}% of leads by predicted probability hold {show_share(point['share'])} of conversions."


# Below this held-out AUC the page says plainly that the features rank leads little better than chance.
WEAK_AUC = 0.7


def feature_words(auc: float) -> str:
    """What one feature's AUC alone says, in the words of the quality page's feature table."""
    if auc >= 0.98:
        return "a likely leak"
    if auc >= 0.7:
        return "strong on its own"
    if auc >= 0.6:
        return "some signal"
    if auc >= 0.55:
        return "weak"
    return "next to nothing (0.5 is a coin toss)"


def described_features(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The report's features alone, each with what its AUC says (page, API and import_olist)."""
    return [{**f, "says": feature_words(f["auc"])} for f in report.get("single_feature_auc", [])]


def verdict(metrics: dict[str, Any]) -> str:
    """The headline of a weak model (held-out AUC under WEAK_AUC), else "": a reader should not
    have to know what an AUC of 0.6 means to learn that the ranking is barely better than chance."""
    auc = metrics.get("auc")
    if auc is None or auc >= WEAK_AUC:
        return ""
    how = "barely" if auc < 0.6 else "only a little"
    return (f"These features rank leads {how} better than chance (AUC {auc:.2f}; 0.5 is a coin toss, 1 is perfect): "
            "use the predicted probability as a rough hint, not to decide which leads to work.")
