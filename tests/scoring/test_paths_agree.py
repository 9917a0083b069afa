"""The incremental path, the bulk SQL path and the reference engine give the same scores."""

import datetime

import pytest

from qualify.leads.models import Lead, Seniority, Persona
from qualify.scoring import scores
from qualify.scoring.explain import explain
from qualify.scoring.ranking import value_now
from tests.factories import LeadFactory
from tests.scoring.conftest import NOW, event


def _state(lead_ids):
    return {
        l.pk: (l.score_version_id, round(l.score_fit, 6), l.fit_grade, l.score_watermark, round(value_now(l, NOW), 6), l.score)
        for l in Lead.objects.filter(pk__in=lead_ids)
    }


@pytest.mark.django_db
def test_incremental_equals_full_on_the_same_data(north, default_model):
    leads = [
        LeadFactory(team=north, seniority=Seniority.VP, persona=Persona.CHAMPION),
        LeadFactory(team=north, seniority=Seniority.STUDENT, email="kid@gmail.com"),
        LeadFactory(team=north, seniority=Seniority.C_LEVEL, persona=Persona.ECONOMIC_BUYER),
    ]
    ids = [l.pk for l in leads]
    # Early history, scored incrementally as it arrives.
    for i in range(6):
        event(leads[0], days_ago=20 - i, page_category="pricing")
    event(leads[1], days_ago=3, page_category="careers")
    event(leads[2], "webinar_attended", days_ago=40)
    scores.score_leads(ids, now=NOW - datetime.timedelta(days=2), promote=False)
    # More events, some late (in already-scored windows), then another incremental pass.
    for i in range(5):
        event(leads[0], days_ago=19.5 - i, page_category="pricing")
    event(leads[0], "email_click", days_ago=1, link="https://x/case-study")
    event(leads[1], days_ago=2.5, page_category="careers")
    event(leads[2], "intent_surge", days_ago=0.5)
    scores.score_leads(ids, now=NOW, promote=False)
    incremental = _state(ids)

    Lead.objects.filter(pk__in=ids).update(score_version=None, score_watermark=0, score_fit=0, score_engagement=0)
    scores.recompute_ids(ids, scores.live_specs(), now=NOW - datetime.timedelta(hours=5), promote=False)
    full = _state(ids)
    assert incremental == full
    # And both agree with the reference engine over the raw events.
    for lead in Lead.objects.filter(pk__in=ids).select_related("account"):
        assert explain(lead, now=NOW).total == lead_score_now(lead)


def lead_score_now(lead):
    from qualify.scoring.ranking import score_now

    return score_now(lead, NOW)
