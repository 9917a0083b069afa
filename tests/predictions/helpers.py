"""Synthetic closed and open leads whose outcome follows known signals (seniority, industry,
demo requests before the close), written in bulk: what a training needs, in a second."""

from __future__ import annotations

import datetime

import numpy as np
from django.utils import timezone

from qualify.leads.models import Account, Event, Lead, Stage

INDUSTRIES = ["Software", "Retail", "Finance", "Health"]
SENIORITY = ["c_level", "vp", "director", "manager", "individual"]


def make_leads(team, n: int, *, seed: int = 0, closed: bool = True, leak_field: str = "") -> list[Lead]:
    """`n` leads of `team`. Closed: won or lost, with a close 10 days ago and events before it
    (and a demo request *after* the close on won leads, which the features must not count).
    `leak_field`: a campaign equal to the outcome (a perfect leak)."""
    rng = np.random.default_rng(seed)
    now = timezone.now()
    accounts = Account.objects.bulk_create([
        Account(name=f"Acme {seed}-{i}", domain=f"acme{seed}-{i}.example", industry=INDUSTRIES[i % 4], team=team,
                employee_count=int(rng.integers(10, 5000)))
        for i in range(max(n // 5, 1))
    ])
    leads, wins = [], []
    for i in range(n):
        account = accounts[i % len(accounts)]
        sen = SENIORITY[int(rng.integers(0, 5))]
        demos = int(rng.poisson(0.6))
        logit = -1.2 + {"c_level": 1.2, "vp": 0.8, "director": 0.3}.get(sen, -0.6) \
            + (0.9 if account.industry == "Software" else 0) + 0.9 * demos
        won = rng.random() < 1 / (1 + np.exp(-logit))
        wins.append(won)
        stage = (Stage.WON if won else (Stage.LOST if i % 3 else Stage.DISQUALIFIED)) if closed else Stage.NEW
        leads.append(Lead(first_name=f"L{i}", email=f"l{seed}-{i}@{account.domain}", seniority=sen, account=account,
                          team=team, stage=stage, stage_changed_at=now - datetime.timedelta(days=10),
                          campaign=("yes" if won else "no") if leak_field else "spring"))
        leads[-1]._demos = demos
    Lead.objects.bulk_create(leads)
    events = []
    for lead, won in zip(leads, wins):
        for k in range(lead._demos):
            events.append(Event(lead=lead, type="demo_request", occurred_at=now - datetime.timedelta(days=20 + k)))
        if closed and won:
            events.append(Event(lead=lead, type="form_fill", occurred_at=now - datetime.timedelta(days=5)))
    Event.objects.bulk_create(events)
    return leads
