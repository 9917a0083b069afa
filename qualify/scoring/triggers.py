"""Rescoring after a lead or an account is created or edited: the one rule every door calls.

Events rescore their leads (ingest.py) and a published model rescores everyone (runs.py). The
third cause is the data itself: fit, grade and the choice of segment model read only the fields
named in sql.FIELD_SQL, so a new lead, or an edit of one of those fields, is scored again at once
instead of showing 0 (or a stale grade) until its next event. An edit of any other field (phone,
owner, notes) sends nothing.

`scores.score_leads` does the work: it recomputes fit from the current fields, re-picks the model
(rescanning the lead's events only when the model changes) and otherwise keeps the engagement, so
rescoring after an edit costs what rescoring after an event does.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from qualify.leads.models import Lead

from .sql import FIELD_SQL
from .tasks import score_leads

# Lead ids per task message: one score_leads call locks and reads its whole batch at once.
CHUNK = 1000

# The model fields fit rules and segment conditions read. email_domain is read from email; a lead's
# account decides every account.* fact, so moving a lead to another account counts as a change.
# Any custom property counts: rules may read `lead.properties.<key>` / `account.properties.<key>`.
ACCOUNT_FIELDS = frozenset(key.removeprefix("account.") for key in FIELD_SQL if key.startswith("account.")) | {"properties"}
LEAD_FIELDS = frozenset(key for key in FIELD_SQL if "." not in key and key != "email_domain") | {"account", "properties"}


def lead_fit_changed(changed: Iterable[str]) -> bool:
    """Whether an edit of these Lead fields can change the lead's fit, grade or model."""
    return not LEAD_FIELDS.isdisjoint(changed)


def account_fit_changed(changed: Iterable[str]) -> bool:
    """Whether an edit of these Account fields can change its leads' fit, grade or model."""
    return not ACCOUNT_FIELDS.isdisjoint(changed)


def rescore_on_commit(lead_ids: Iterable[int]) -> None:
    """Rescore `lead_ids` once the current transaction commits (at once outside one), at most CHUNK
    ids per message. After commit, so the worker reads the edit and a rolled-back edit sends nothing."""
    ids = sorted({int(pk) for pk in lead_ids})
    if ids:
        transaction.on_commit(lambda: send_rescore(ids))


def send_rescore(lead_ids: Iterable[int]) -> None:
    """Queue the leads for scoring now (the caller is after commit), CHUNK ids per message."""
    ids = sorted({int(pk) for pk in lead_ids})
    for start in range(0, len(ids), CHUNK):
        score_leads.delay(ids[start : start + CHUNK])


def send_account_rescore(account_ids: Iterable[int]) -> None:
    """Queue every lead of `account_ids` for scoring (after commit: the leads are listed now, 1
    query, so a lead moved onto one of these accounts meanwhile is included)."""
    ids = sorted({int(pk) for pk in account_ids})
    if ids:
        send_rescore(Lead.objects.filter(account_id__in=ids).order_by("pk").values_list("pk", flat=True))


def rescore_account_leads_on_commit(account_ids: Iterable[int]) -> None:
    """Rescore every lead of `account_ids` once the current transaction commits."""
    ids = sorted({int(pk) for pk in account_ids})
    if ids:
        transaction.on_commit(lambda: send_account_rescore(ids))
