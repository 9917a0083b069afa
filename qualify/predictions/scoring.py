"""Writing predictions onto leads, in batches, and explaining one.

`predict_ids` reads a batch's features in one statement, predicts with the active version's
bundle (cached per process: versions are immutable) and writes every probability in one UPDATE
from arrays. `predict_all` walks every lead by id range with a given version, which is how a new
version scores everything before it becomes active: until then leads keep the old version's
probability, so a retrain never leaves a lead without one.
"""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np
from django.db import connection, transaction

from qualify.leads.models import Lead

from . import features
from .models import PredictionVersion, Status
from .training import Bundle

BATCH = 5000
_bundles: dict[int, Bundle] = {}


def bundle_of(version_id: int) -> Bundle:
    if version_id not in _bundles:
        blob = PredictionVersion.objects.values_list("artifact", flat=True).get(pk=version_id)
        _bundles[version_id] = Bundle.loads(blob)
    return _bundles[version_id]


def active_version_id() -> int | None:
    return PredictionVersion.objects.filter(status=Status.ACTIVE).values_list("pk", flat=True).first()


def _write(ids: np.ndarray, p: np.ndarray, version_id: int) -> int:
    with connection.cursor() as cur:
        cur.execute(
            """UPDATE leads_lead AS l SET predicted = v.p, predicted_version = %(version)s
               FROM unnest(%(ids)s::bigint[], %(p)s::float8[]) AS v(id, p)
               WHERE l.id = v.id AND (l.predicted IS DISTINCT FROM v.p OR l.predicted_version IS DISTINCT FROM %(version)s)""",
            {"ids": ids.tolist(), "p": [round(float(x), 6) for x in p], "version": version_id},
        )
        return cur.rowcount


def predict_where(version_id: int, where: str, params: dict) -> int:
    """Predict and write the leads `where` selects with `version_id`. Returns rows changed."""
    bundle = bundle_of(version_id)
    fs = bundle.models["global"].fs
    ids, X, _, segs = features.fetch(fs, where, params, closed=False)
    if not len(ids):
        return 0
    return _write(ids, bundle.proba(X, segs), version_id)


def predict_ids(lead_ids: Iterable[int]) -> int:
    """The listeners' entry: these leads, with the active version (nothing when none is)."""
    ids = sorted({int(i) for i in lead_ids})
    version_id = active_version_id() if ids else None
    if not version_id:
        return 0
    done = 0
    for start in range(0, len(ids), BATCH):
        with transaction.atomic():
            done += predict_where(version_id, "l.id = ANY(%(ids)s)", {"ids": ids[start : start + BATCH]})
    return done


def predict_all(version_id: int, *, progress=lambda done, total: None, batch: int = BATCH,
                where: str = "TRUE") -> int:
    """Every lead (or those `where` selects) by id ranges of `batch`, each range its own
    transaction; calls progress(done, total) after each."""
    with connection.cursor() as cur:
        cur.execute(f"SELECT min(id), max(id), count(*) FROM leads_lead l WHERE {where}")
        low, high, total = cur.fetchone()
    if not total:
        return 0
    done = written = 0
    lo = low
    while lo <= high:
        with transaction.atomic():
            written += predict_where(version_id, f"l.id >= %(lo)s AND l.id < %(hi)s AND {where}", {"lo": lo, "hi": lo + batch})
        lo += batch
        done = min(total, done + batch)
        progress(done, total)
    return written


def explain(leads: list[Lead], *, k: int = 3) -> dict[int, list[dict[str, Any]]]:
    """Top factors per lead, from the version that wrote its probability. One feature query per
    version among them, and one prediction per feature and lead."""
    out: dict[int, list[dict[str, Any]]] = {}
    by_version: dict[int, list[int]] = {}
    for lead in leads:
        if lead.predicted_version:
            by_version.setdefault(lead.predicted_version, []).append(lead.pk)
    for version_id, ids in by_version.items():
        try:
            bundle = bundle_of(version_id)
        except PredictionVersion.DoesNotExist:
            continue
        fs = bundle.models["global"].fs
        got, X, _, segs = features.fetch(fs, "l.id = ANY(%(ids)s)", {"ids": ids}, closed=False)
        for seg in set(segs.tolist()):
            mask = segs == seg
            fitted = bundle.fitted_for(seg)
            for lead_id, factors in zip(got[mask].tolist(), _factors(fitted, X[mask], k)):
                out[lead_id] = factors
    return out


def _factors(fitted, X, k):
    from .learners import top_factors

    return top_factors(fitted, X, k=k)
