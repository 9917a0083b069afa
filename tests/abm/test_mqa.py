"""Account scores are stored in batches after scoring, and an account becomes an MQA once, with when."""

from __future__ import annotations

import datetime

import pytest
import time_machine

from qualify.abm.models import AccountScore
from qualify.abm.refresh import refresh_accounts, refresh_engaged
from qualify.leads.models import Persona
from qualify.scoring.scores import score_leads
from tests.factories import AccountFactory

from .conftest import NOW, engage, person, score

pytestmark = pytest.mark.django_db


def test_an_account_crosses_its_mqa_threshold_once_and_keeps_when(acme, scoring):
    cfo = person(acme, department="Finance", persona=Persona.ECONOMIC_BUYER)
    champ = person(acme, department="Operations", persona=Persona.CHAMPION)
    engage(cfo)
    score(cfo, champ)
    assert refresh_accounts([acme.pk], now=NOW) == []
    stored = AccountScore.objects.get(account=acme)
    assert stored.mqa_at is None and stored.engaged_people == 1 and stored.score == 0

    later = NOW + datetime.timedelta(hours=3)
    engage(champ, now=later, days_ago=0.01)
    score(champ, now=later)
    assert refresh_accounts([acme.pk], now=later) == [acme.pk]
    stored.refresh_from_db()
    assert stored.mqa_at == later and stored.score == 60 and (stored.roles_covered, stored.roles_total) == (2, 4)

    # Again later, and after decay took the score below the threshold: still the first crossing's time.
    much_later = later + datetime.timedelta(days=400)
    assert refresh_accounts([acme.pk], now=later + datetime.timedelta(hours=1)) == []
    refresh_accounts([acme.pk], now=much_later)
    stored.refresh_from_db()
    assert stored.score == 0 and stored.mqa_at == later


def test_scoring_marks_its_accounts_pending_after_commit_and_the_drain_refreshes_them(acme, scoring, north,
                                                                                      django_capture_on_commit_callbacks):
    from qualify.abm.models import PendingAccount
    from qualify.abm.refresh import refresh_pending
    from tests.factories import AccountFactory

    quiet = AccountFactory(team=north, name="Quiet Co")
    people = [person(acme, department=d, persona=p) for d, p in
              (("Finance", Persona.ECONOMIC_BUYER), ("IT", Persona.TECHNICAL_EVALUATOR))]
    bystander = person(quiet)
    for p in people:
        engage(p)
    with time_machine.travel(NOW, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            score_leads([p.pk for p in people], now=NOW, promote=False)
        assert list(PendingAccount.objects.values_list("account_id", flat=True)) == [acme.pk]
        assert not AccountScore.objects.exists()  # scoring itself computed no account figures
        assert refresh_pending(limit=1) == 1
    assert not PendingAccount.objects.exists() and bystander.account_id not in AccountScore.objects.values_list("account_id", flat=True)
    stored = AccountScore.objects.get(account=acme)
    assert stored.engaged_people == 2 and stored.mqa_at == NOW


def test_an_account_without_account_scoring_is_stored_but_never_an_mqa(acme):
    lead = person(acme)
    engage(lead)
    score(lead)
    refresh_accounts([acme.pk], now=NOW)
    stored = AccountScore.objects.get(account=acme)
    assert stored.scoring is None and stored.mqa_at is None and stored.engagement > 0


def test_an_account_nobody_works_at_yet_is_refreshed_in_one_batch_with_engaged_ones(acme, scoring, north):
    """A new account has no people: its engagement is 0.0 like any other's, not an int the batch's
    one upsert could not mix with the others' floats (it failed the whole batch)."""
    lead = person(acme)
    engage(lead)
    score(lead)
    empty = AccountFactory(team=north, name="Nobody Yet", domain="nobody-yet.example")
    refresh_accounts([acme.pk, empty.pk], now=NOW)
    assert AccountScore.objects.get(account=empty).engagement == 0
    assert AccountScore.objects.get(account=acme).engagement > 0


def test_the_sweep_follows_decay_for_accounts_with_engagement(acme, scoring):
    lead = person(acme, persona=Persona.CHAMPION)
    engage(lead)
    score(lead)
    refresh_accounts([acme.pk], now=NOW)
    before = AccountScore.objects.get(account=acme).engagement
    assert refresh_engaged(now=NOW + datetime.timedelta(days=30)) == 1
    assert AccountScore.objects.get(account=acme).engagement < before
