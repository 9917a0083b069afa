"""Scoring's listeners on the lead core (settings.QUALIFY_LISTENERS; qualify/leads/changes.py).

A new lead, or an edit of a field a fit rule or segment condition can read (on the lead or its
account), is scored again after commit (triggers.py says which fields count). Events rescore their
leads through ingestion, and a published model rescores everyone; neither passes through here.
"""

from __future__ import annotations

from qualify.leads.changes import AFTER_COMMIT, AccountSaved, LeadSaved, listen

from . import triggers


@listen("lead_saved", when=AFTER_COMMIT)
def rescore_saved_leads(batch: list[LeadSaved]) -> None:
    triggers.send_rescore([c.lead_id for c in batch if c.created or triggers.lead_fit_changed(c.fields)])


@listen("account_saved", when=AFTER_COMMIT)
def rescore_saved_accounts(batch: list[AccountSaved]) -> None:
    """A new account has no leads yet; an edited one may change the fit of every lead it has."""
    triggers.send_account_rescore([c.account_id for c in batch if not c.created and triggers.account_fit_changed(c.fields)])
