"""Routing's listeners on the lead core (settings.QUALIFY_LISTENERS; qualify/leads/changes.py).

Owner changes are recorded in their transaction (history.owners_changed); leads that became MQLs
are routed after the move commits, all of a batch in one transaction (engine.route_new_mqls).
"""

from __future__ import annotations

from qualify.leads.changes import AFTER_COMMIT, IN_TRANSACTION, LeadsMerged, StageChanged, by_lead, listen
from qualify.leads.models import Stage
from qualify.lookups import reused_lookups

from . import history  # noqa: F401  (registers owners_changed)
from .engine import route_new_mqls
from .models import Assignment


@listen("stage_changed", when=AFTER_COMMIT)
def route_new_mqls_after_commit(batch: list[StageChanged]) -> None:
    """New MQLs (not imported history) go to a rep: unowned ones by the rules, owned ones only when
    a rule overrides owners. A lead that moved on since is skipped (route_new_mqls re-reads it)."""
    ids = [pk for pk, c in by_lead(batch).items() if c.to_stage == Stage.MQL and not c.imported]
    if ids:
        with reused_lookups():
            route_new_mqls(ids)


@listen("leads_merged", when=IN_TRANSACTION)
def move_merged_assignments(batch: list[LeadsMerged]) -> None:
    """The merged lead's record of owners joins the survivor's (one UPDATE per merge)."""
    for change in batch:
        Assignment.objects.filter(lead_id=change.merged_id).update(lead_id=change.survivor_id)
