"""Training a prediction version from closed outcomes, and judging it against the active one.

Outcomes are leads won (1) against lost or disqualified (0) that closed within the version's
window. Every lead falls in a fixed split by a hash of its id (60 % training, 20 % calibration,
20 % held out), so two trainings share their held-out leads and can be compared on them. Each
scoring segment with enough outcomes of both kinds gets its own model; the others are served by
the global model trained on every outcome. Costs: one feature query over the outcomes, two fits
per model, and one prediction pass of the active version over the held-out leads.
"""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass, field
from typing import Any, Callable

import joblib
import numpy as np
from django.conf import settings
from django.utils import timezone

from qualify.scoring.models import ScoringModel

from . import evaluation, features, learners
from .features import FeatureSet

GLOBAL = "global"
# The fewest outcomes (and of each kind) a segment needs for a model of its own.
MIN_OUTCOMES = getattr(settings, "PREDICTION_MIN_OUTCOMES", 300)
MIN_EACH = getattr(settings, "PREDICTION_MIN_EACH", 30)


class NotEnoughOutcomes(Exception):
    pass


@dataclass
class Bundle:
    """What a version stores: a fitted model per key (GLOBAL or a scoring model id) and which
    scoring model's leads each serves."""

    models: dict[Any, learners.Fitted]
    routes: dict[int, Any] = field(default_factory=dict)

    def fitted_for(self, segment: int) -> learners.Fitted:
        return self.models[self.routes.get(int(segment), GLOBAL)]

    def proba(self, X: np.ndarray, segments: np.ndarray) -> np.ndarray:
        p = np.empty(len(X), dtype=float)
        keys = np.array([self.routes.get(int(s), GLOBAL) for s in segments], dtype=object)
        for key in set(keys.tolist()):
            mask = keys == key
            p[mask] = self.models[key].proba(X[mask])
        return p

    def dumps(self) -> bytes:
        buf = io.BytesIO()
        joblib.dump(self, buf, compress=3)
        return buf.getvalue()

    @staticmethod
    def loads(blob: bytes) -> Bundle:
        return joblib.load(io.BytesIO(bytes(blob)))


def split_of(ids: np.ndarray) -> np.ndarray:
    """0-1 held out, 2-3 calibration, 4-9 training: a fixed hash of the lead id."""
    return (ids.astype(np.uint64) * np.uint64(2654435761) % np.uint64(4294967296)) % np.uint64(10)


def needs_more(n: int, won: int) -> int:
    """Outcomes still missing before a segment gets a model of its own (0: enough)."""
    lost = n - won
    return max(MIN_OUTCOMES - n, MIN_EACH - won, MIN_EACH - lost, 0)


def outcomes(window_days: int, now: datetime.datetime) -> tuple[FeatureSet, list[str], tuple]:
    fs, after_contact = features.feature_set()
    data = features.fetch(
        fs, "l.stage = ANY(%(closed)s) AND l.stage_changed_at >= %(since)s",
        {"closed": list(features.WON + features.LOST), "since": now - datetime.timedelta(days=window_days)},
        closed=True,
    )
    return fs, after_contact, data


def train(window_days: int, *, now: datetime.datetime | None = None,
          progress: Callable[[int, str], None] = lambda pct, note: None,
          baseline: Bundle | None = None) -> tuple[Bundle, dict[str, Any], dict[str, Any]]:
    """Train a bundle on the outcomes of the last `window_days`. Returns (bundle, report,
    the baseline bundle's metrics on the same held-out leads, {} without one)."""
    now = now or timezone.now()
    progress(5, "Reading outcomes")
    fs, after_contact, (ids, X, y, segs) = outcomes(window_days, now)
    n_total, won_total = len(y), int(y.sum())
    if needs_more(n_total, won_total):
        raise NotEnoughOutcomes(
            f"{n_total} outcomes ({won_total} won, {n_total - won_total} lost or disqualified) closed in the last "
            f"{window_days} days: {needs_more(n_total, won_total)} more are needed, with at least {MIN_EACH} of each."
        )
    split = split_of(ids)
    test, cal, tr = split < 2, (split >= 2) & (split < 4), split >= 4

    progress(15, "Checking features for leaks")
    constant = learners.constant_features(fs, X[tr])
    aucs = {n: a for n, a in learners.single_feature_aucs(fs, X[tr], y[tr], X[cal], y[cal]).items() if n not in constant}
    leaks = {name for name, auc in aucs.items() if auc >= learners.LEAK_AUC}
    used = fs.without(leaks | constant)
    keep = [fs.names.index(n) for n in used.names]
    X = X[:, keep]

    names = dict(ScoringModel.objects.values_list("pk", "name"))
    default_ids = set(ScoringModel.objects.filter(is_default=True).values_list("pk", flat=True))
    segment_rows = []
    bundle = Bundle({})
    plan: list[tuple[Any, np.ndarray]] = [(GLOBAL, np.ones(len(y), dtype=bool))]
    for model_id in sorted(set(segs.tolist()) - {-1} - default_ids):
        mask = segs == model_id
        n, won = int(mask.sum()), int(y[mask].sum())
        more = needs_more(n, won)
        segment_rows.append({"key": model_id, "name": names.get(model_id, f"model {model_id}"), "outcomes": n,
                             "won": won, "own_model": not more, "needs": more})
        if not more:
            plan.append((model_id, mask))
    for i, (key, mask) in enumerate(plan):
        progress(25 + int(55 * i / len(plan)), f"Training {'the global model' if key == GLOBAL else names.get(key)}")
        fitted, candidates = learners.fit_best(used, X[mask & tr], y[mask & tr], X[mask & cal], y[mask & cal])
        bundle.models[key] = fitted
        if key != GLOBAL:
            bundle.routes[int(key)] = key
        row = next((r for r in segment_rows if r["key"] == key), None)
        info = {"estimator": fitted.kind, "candidates": candidates}
        if row is not None:
            row.update(info)
        else:
            global_info = info

    progress(85, "Evaluating on held-out leads")
    p_test = bundle.proba(X[test], segs[test])
    overall = evaluation.evaluate(y[test], p_test)
    for row in segment_rows:
        mask = segs[test] == row["key"]
        row["metrics"] = evaluation.evaluate(y[test][mask], p_test[mask]) if mask.any() else {}
        row["served_by"] = "own model" if row["own_model"] else "global model"
    report = {
        "window_days": window_days,
        "outcomes": n_total, "won": won_total,
        "split": {"train": int(tr.sum()), "calibration": int(cal.sum()), "held_out": int(test.sum())},
        "features": [fs.labels.get(n, n) for n in used.names],
        "feature_keys": used.names,
        "left_out_after_contact": after_contact,
        "left_out_constant": [fs.labels.get(n, n) for n in sorted(constant)],
        "leaks": [{"feature": n, "label": fs.labels.get(n, n), "auc": aucs[n]} for n in sorted(leaks)],
        "single_feature_auc": sorted(
            [{"feature": n, "label": fs.labels.get(n, n), "auc": a} for n, a in aucs.items()], key=lambda r: -r["auc"]
        ),
        "global": {**global_info, "outcomes": n_total, "won": won_total},
        "segments": segment_rows,
        "min_outcomes": MIN_OUTCOMES, "min_each": MIN_EACH,
        "overall": overall,
        # (lead id, probability, won) of every held-out lead: the drill-downs and the next
        # version's comparison on the same leads.
        "held_out": [[int(i), round(float(q), 4), int(t)] for i, q, t in zip(ids[test], p_test, y[test])],
    }
    base_metrics: dict[str, Any] = {}
    if baseline is not None:
        base_metrics = evaluate_bundle(baseline, ids[test])
    progress(95, "Saving")
    return bundle, report, base_metrics


def evaluate_bundle(bundle: Bundle, ids: np.ndarray | list[int]) -> dict[str, Any]:
    """A bundle's metrics on the given closed leads (the same held-out set another version used),
    its features read as that bundle knows them."""
    fs = bundle.models[GLOBAL].fs
    ids_list = [int(i) for i in ids]
    got_ids, X, y, segs = features.fetch(fs, "l.id = ANY(%(ids)s)", {"ids": ids_list}, closed=True)
    if not len(got_ids):
        return {}
    return evaluation.evaluate(y, bundle.proba(X, segs))
