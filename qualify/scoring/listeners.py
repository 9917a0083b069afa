"""Scoring's listeners on the lead core (settings.QUALIFY_LISTENERS; qualify/leads/changes.py).

A new lead, or an edit of a field a fit rule or segment condition can read (on the lead or its
account), is scored again after commit (triggers.py says which fields count). Events rescore their
leads through ingestion, and a published model rescores everyone; neither passes through here.
"""

from __future__ import annotations

from django.db import transaction

from qualify.leads.changes import AFTER_COMMIT, IN_TRANSACTION, AccountSaved, LeadSaved, LeadsMerged, listen

from . import triggers
from .models import ScoreSnapshot, SnapshotKind
from .scores import live_specs, recompute_ids


@listen("lead_saved", when=AFTER_COMMIT)
def rescore_saved_leads(batch: list[LeadSaved]) -> None:
    triggers.send_rescore([c.lead_id for c in batch if c.created or triggers.lead_fit_changed(c.fields)])


@listen("account_saved", when=AFTER_COMMIT)
def rescore_saved_accounts(batch: list[AccountSaved]) -> None:
    """A new account has no leads yet; an edited one may change the fit of every lead it has."""
    triggers.send_account_rescore([c.account_id for c in batch if not c.created and triggers.account_fit_changed(c.fields)])


@listen("leads_merged", when=IN_TRANSACTION)
def move_merged_snapshots(batch: list[LeadsMerged]) -> None:
    """Score history of the merged lead joins the survivor's; a daily snapshot of a day the
    survivor already has is the merged lead's score that day, dropped (one per lead and day)."""
    for c in batch:
        taken = ScoreSnapshot.objects.filter(lead_id=c.survivor_id, kind=SnapshotKind.DAILY).values("on")
        ScoreSnapshot.objects.filter(lead_id=c.merged_id, kind=SnapshotKind.DAILY, on__in=taken).delete()
        ScoreSnapshot.objects.filter(lead_id=c.merged_id).update(lead_id=c.survivor_id)


@listen("leads_merged", when=AFTER_COMMIT)
def rescore_survivors(batch: list[LeadsMerged]) -> None:
    """A survivor is scored again from all its events, now including the merged lead's: their ids
    are below its watermark, so the incremental path would never count them. One lead per merge,
    synchronous (a full statement over one lead's events), so the page shows the new score."""
    specs = live_specs()
    with transaction.atomic():
        recompute_ids(sorted({c.survivor_id for c in batch}), specs)
