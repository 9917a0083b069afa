"""Account engagement is the sum of what each person's lead page shows (one formula), split by
department and persona; committee coverage counts only known AND engaged people."""

from __future__ import annotations

import datetime

import pytest

from qualify.abm.measures import Person, fills, summary_for
from qualify.abm.models import CommitteeRole
from qualify.leads.models import Persona
from qualify.scoring.ranking import engagement_now

from .conftest import NOW, engage, person, score

pytestmark = pytest.mark.django_db


def test_account_engagement_is_the_sum_of_each_persons_engagement_now(acme, scoring):
    cfo = person(acme, department="Finance", persona=Persona.ECONOMIC_BUYER, title="CFO")
    dev = person(acme, department="IT", persona="", title="Solutions Architect")
    quiet = person(acme, department="Finance", persona=Persona.END_USER)
    engage(cfo, n=4, days_ago=2)
    engage(dev, n=2, days_ago=20)
    score(cfo, dev, quiet)
    for later in (NOW, NOW + datetime.timedelta(days=9), NOW + datetime.timedelta(days=90)):
        s = summary_for(acme.pk, now=later)
        each = {lead.pk: engagement_now(lead, later) for lead in (cfo, dev, quiet)}
        assert each[cfo.pk] > 0 and each[dev.pk] > 0 and each[quiet.pk] == 0
        assert s.engagement == pytest.approx(sum(each.values()), abs=1e-9)
        departments = {name: points for name, points, _ in s.by_department}
        assert departments["Finance"] == pytest.approx(each[cfo.pk] + each[quiet.pk], abs=1e-9)
        assert departments["IT"] == pytest.approx(each[dev.pk], abs=1e-9)
        personas = {name: (points, n) for name, points, n in s.by_persona}
        assert personas["Economic buyer"][0] == pytest.approx(each[cfo.pk], abs=1e-9)
        assert personas["Unknown"] == (pytest.approx(each[dev.pk], abs=1e-9), 1)
    # Decay: ninety days later the account has less engagement than today.
    assert summary_for(acme.pk, now=NOW + datetime.timedelta(days=90)).engagement < summary_for(acme.pk, now=NOW).engagement


def test_coverage_counts_roles_filled_by_engaged_people_and_names_the_known_ones(acme, scoring):
    cfo = person(acme, first_name="Carla", department="Finance", persona="", title="CFO")  # title keyword
    arch = person(acme, first_name="Ari", department="Engineering", persona="", title="Principal Architect")
    champ = person(acme, first_name="Chris", department="Operations", persona=Persona.CHAMPION)  # known, silent
    engage(cfo)
    engage(arch)
    score(cfo, arch, champ)
    s = summary_for(acme.pk, now=NOW)
    roles = {r.name: r for r in s.roles}
    assert [p.lead_id for p in roles["Economic buyer"].filled_by] == [cfo.pk]
    assert [p.lead_id for p in roles["Technical evaluator"].filled_by] == [arch.pk]
    assert not roles["Champion"].covered and [p.lead_id for p in roles["Champion"].known] == [champ.pk]
    assert not roles["User"].covered and roles["User"].known == []
    assert (s.roles_covered, len(s.roles), s.coverage_percent) == (2, 4, 50.0)
    assert s.engaged_people == 2 and s.departments_engaged == 2
    # Engaged people ≥ 2 (+30) and coverage ≥ 50 % (+30); three departments (+10) not reached.
    assert s.account_score == 60 and len(s.lines) == 2


def test_another_teams_person_at_an_account_is_not_counted(acme, scoring, south):
    mine = person(acme, persona=Persona.CHAMPION)
    stray = person(acme, persona=Persona.ECONOMIC_BUYER)
    type(stray).objects.filter(pk=stray.pk).update(team=south)  # inconsistent data must not leak across teams
    engage(mine)
    engage(stray)
    score(mine, stray)
    s = summary_for(acme.pk, now=NOW)
    assert [p.lead_id for p in s.people] == [mine.pk]


def _person(**kw) -> Person:
    base = dict(lead_id=1, account_id=1, name="X", title="", department="", persona="", stage="new", owner_id=None,
                engagement=0.0, fit=0.0, model_id=None, active_week=False)
    return Person(**{**base, **kw})


@pytest.mark.parametrize(("role", "who", "expected"), [
    ({"personas": "champion"}, {"persona": "champion"}, True),
    ({"personas": "champion"}, {"persona": "end_user"}, False),
    ({"departments": "IT, Engineering"}, {"department": "engineering"}, True),
    ({"departments": "IT"}, {"department": "Finance"}, False),
    ({"title_keywords": "CFO, chief financial"}, {"title": "Chief Financial Officer"}, True),
    # Department and keywords together must both hold.
    ({"departments": "IT", "title_keywords": "architect"}, {"department": "IT", "title": "Help desk"}, False),
    ({"departments": "IT", "title_keywords": "architect"}, {"department": "it", "title": "Cloud Architect"}, True),
    # The persona alone is enough, whatever the department.
    ({"personas": "economic_buyer", "departments": "Finance"}, {"persona": "economic_buyer", "department": "IT"}, True),
])
def test_how_a_person_fills_a_role(role, who, expected):
    assert fills(CommitteeRole(name="R", **role), _person(**who)) is expected


def test_a_role_with_no_way_to_match_is_refused(scoring):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="how a person is matched"):
        CommitteeRole(scoring=scoring, name="Nobody").full_clean()
    with pytest.raises(ValidationError, match="Unknown persona: cfo"):
        CommitteeRole(scoring=scoring, name="Bad", personas="cfo").full_clean()
