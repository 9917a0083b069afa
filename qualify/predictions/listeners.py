"""Predictions follow the rule score (settings.QUALIFY_LISTENERS; qualify/leads/changes.py).

Scoring publishes `scored` once per batch it writes (new events, edits, a full recompute), and
new or edited leads publish `lead_saved`; both are predicted again after commit, as one batch, in
the same process (one feature query and one UPDATE per 5,000 leads; nothing when no version is
active). Nothing is added to the event insert itself.
"""

from __future__ import annotations

from qualify.leads.changes import AFTER_COMMIT, LeadSaved, ScoreChanged, listen

from .scoring import predict_ids


@listen("scores_changed", when=AFTER_COMMIT)
def predict_scored(batch: list[ScoreChanged]) -> None:
    predict_ids(c.lead_id for c in batch)


@listen("lead_saved", when=AFTER_COMMIT)
def predict_saved(batch: list[LeadSaved]) -> None:
    predict_ids(c.lead_id for c in batch)
