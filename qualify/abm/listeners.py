"""Account figures follow scoring in batches: after each scoring chunk commits (up to 250 leads),
their accounts are refreshed at once (refresh.py). Merges move leads between accounts: both
accounts' figures are refreshed too."""

from __future__ import annotations

from qualify.leads.changes import AFTER_COMMIT, listen

from .refresh import accounts_of, refresh_accounts


@listen("scores_changed", when=AFTER_COMMIT)
def scores_changed(batch) -> None:
    refresh_accounts(accounts_of([change.lead_id for change in batch]))


@listen("accounts_merged", when=AFTER_COMMIT)
def accounts_merged(batch) -> None:
    refresh_accounts([change.survivor_id for change in batch])
