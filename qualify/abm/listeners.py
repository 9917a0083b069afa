"""Account figures follow scoring in batches: after each scoring chunk commits (up to 250 leads),
its accounts are marked pending in one statement, and the beat drain refreshes them (refresh.py).
A merge of accounts refreshes the survivor at once (rare, and its page is opened next)."""

from __future__ import annotations

from qualify.leads.changes import AFTER_COMMIT, listen

from .refresh import mark_pending, refresh_accounts


@listen("scores_changed", when=AFTER_COMMIT)
def scores_changed(batch) -> None:
    mark_pending([change.lead_id for change in batch])


@listen("accounts_merged", when=AFTER_COMMIT)
def accounts_merged(batch) -> None:
    refresh_accounts([change.survivor_id for change in batch])
