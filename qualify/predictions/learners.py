"""The two candidate learners, fitted and calibrated with scikit-learn, and the leak guard.

Gradient boosting with native categorical support (HistGradientBoostingClassifier) and an L2-
regularised logistic regression on one-hot categories; whichever has the higher AUC on the
calibration split is kept and calibrated there (isotonic with 1,000 rows or more, else sigmoid).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

from .features import FeatureSet, shown_value

# A single feature whose held-out AUC reaches this predicts the outcome almost alone: a leak.
LEAK_AUC = 0.98
ISOTONIC_FROM = 1000


def _hgb(fs: FeatureSet) -> Pipeline:
    nc = len(fs.categorical)
    encode = ColumnTransformer(
        [
            ("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan,
                                   encoded_missing_value=np.nan, max_categories=200), list(range(nc))),
            ("num", "passthrough", list(range(nc, len(fs.names)))),
        ],
        sparse_threshold=0,
    )
    model = HistGradientBoostingClassifier(
        categorical_features=[True] * nc + [False] * len(fs.numeric), max_iter=300, learning_rate=0.06,
        max_leaf_nodes=31, min_samples_leaf=40, l2_regularization=1.0, early_stopping=True,
        validation_fraction=0.15, n_iter_no_change=20, random_state=0,
    )
    return Pipeline([("encode", encode), ("model", model)])


def _logreg(fs: FeatureSet) -> Pipeline:
    nc = len(fs.categorical)
    encode = ColumnTransformer(
        [
            ("cat", OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=10), list(range(nc))),
            ("num", Pipeline([("impute", SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)),
                              ("scale", StandardScaler())]), list(range(nc, len(fs.names)))),
        ]
    )
    return Pipeline([("encode", encode), ("model", LogisticRegression(C=0.5, max_iter=2000))])


CANDIDATES = {"gradient_boosting": _hgb, "logistic_regression": _logreg}
LABELS = {"gradient_boosting": "Gradient boosting", "logistic_regression": "Logistic regression (L2)"}


@dataclass
class Fitted:
    """One segment's calibrated model and what was known about it when it was kept."""

    kind: str
    model: Any  # CalibratedClassifierCV over the frozen pipeline
    fs: FeatureSet
    baseline: np.ndarray  # a typical row (modes, medians): the reference for top factors

    def proba(self, X: np.ndarray) -> np.ndarray:
        return self.model.predict_proba(X)[:, 1]


def _auc(y: np.ndarray, p: np.ndarray) -> float | None:
    return float(roc_auc_score(y, p)) if len(set(y.tolist())) == 2 else None


def fit_best(fs: FeatureSet, X_train, y_train, X_cal, y_cal) -> tuple[Fitted, dict[str, float | None]]:
    """Fit both candidates on the training split, keep the one with the higher calibration-split
    AUC, calibrate it on that split. Returns it and the candidates' AUCs."""
    scores: dict[str, float | None] = {}
    fitted = {}
    for kind, make in CANDIDATES.items():
        pipe = make(fs).fit(X_train, y_train)
        fitted[kind] = pipe
        scores[kind] = _auc(y_cal, pipe.predict_proba(X_cal)[:, 1])
    best = max(scores, key=lambda k: scores[k] if scores[k] is not None else -1)
    method = "isotonic" if len(y_cal) >= ISOTONIC_FROM else "sigmoid"
    calibrated = CalibratedClassifierCV(FrozenEstimator(fitted[best]), method=method).fit(X_cal, y_cal)
    return Fitted(best, calibrated, fs, baseline_row(fs, X_train)), scores


def baseline_row(fs: FeatureSet, X: np.ndarray) -> np.ndarray:
    row = np.empty(len(fs.names), dtype=object)
    nc = len(fs.categorical)
    for j in range(len(fs.names)):
        col = X[:, j]
        if j < nc:
            values, counts = np.unique(col.astype(str), return_counts=True)
            row[j] = values[counts.argmax()] if len(values) else ""
        else:
            num = col.astype(float)
            row[j] = float(np.nanmedian(num)) if np.isfinite(num).any() else np.nan
    return row


def constant_features(fs: FeatureSet, X: np.ndarray) -> set[str]:
    """Features with one value (or none) in these rows: nothing to learn, and a column with no
    value at all breaks gradient boosting's binning."""
    nc = len(fs.categorical)
    out = set()
    for j, name in enumerate(fs.names):
        if j < nc:
            distinct = len(set(X[:, j].tolist()))
        else:
            col = X[:, j].astype(float)
            distinct = len(np.unique(col[np.isfinite(col)]))
        if distinct < 2:
            out.add(name)
    return out


def single_feature_aucs(fs: FeatureSet, X_train, y_train, X_cal, y_cal) -> dict[str, float]:
    """Each feature alone, judged on the calibration split: a numeric feature by its own ranking
    (either direction), a categorical one by its categories' training conversion rates. The
    leak guard leaves out any feature at or above LEAK_AUC."""
    out = {}
    nc = len(fs.categorical)
    prior = float(y_train.mean()) if len(y_train) else 0.0
    for j, name in enumerate(fs.names):
        if j < nc:
            train_col, cal_col = X_train[:, j].astype(str), X_cal[:, j].astype(str)
            rates: dict[str, list[float]] = {}
            for v, t in zip(train_col, y_train):
                rates.setdefault(v, [0.0, 0.0])
                rates[v][0] += t
                rates[v][1] += 1
            score = np.array([rates[v][0] / rates[v][1] if v in rates else prior for v in cal_col])
        else:
            score = X_cal[:, j].astype(float)
            score = np.where(np.isnan(score), np.nanmedian(score) if np.isfinite(score).any() else 0.0, score)
        auc = _auc(y_cal, score)
        if auc is not None:
            out[name] = max(auc, 1 - auc)
    return out


def top_factors(fitted: Fitted, X: np.ndarray, *, k: int = 3) -> list[list[dict[str, Any]]]:
    """Per row, the k features that move its probability most from the typical lead's value:
    the probability with the row's own value minus with the baseline value (occlusion, so it
    works the same for either learner). Costs one prediction per feature and row."""
    n, m = X.shape
    if not n:
        return []
    p = fitted.proba(X)
    swapped = np.repeat(X, m, axis=0)
    for j in range(m):
        swapped[j::m, j] = fitted.baseline[j]
    q = fitted.proba(swapped).reshape(n, m)
    effect = p[:, None] - q
    out = []
    for i in range(n):
        order = np.argsort(-np.abs(effect[i]))[:k]
        out.append([
            {"feature": fitted.fs.names[j], "label": fitted.fs.labels.get(fitted.fs.names[j], fitted.fs.names[j]),
             "value": _show(X[i, j], fitted.fs.names[j]), "effect": float(effect[i, j])}
            for j in order if abs(effect[i, j]) >= 0.005
        ])
    return out


def _show(v, feature: str) -> str:
    if isinstance(v, float):
        return "unknown" if np.isnan(v) else f"{v:g}"
    return shown_value(feature, str(v))
