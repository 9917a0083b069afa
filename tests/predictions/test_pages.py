"""Who sees prediction quality, and what a manager's lists hold: only their teams' leads.
The lead's probability and factors in the API, the lead page, the packet and the queue."""

from __future__ import annotations

import re

import numpy as np
import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Role
from qualify.leads.models import Lead, Seniority
from qualify.predictions import versions
from qualify.predictions.evaluation import bin_of
from qualify.formatting import show_percent
from qualify.predictions.features import shown_value
from qualify.predictions.learners import LABELS as LEARNER_LABELS
from qualify.predictions.scoring import explain
from qualify.predictions.models import PredictionVersion, Status
from tests.factories import UserFactory

from .helpers import make_leads

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def trained(north, south):
    """Outcomes and open leads in both teams, a trained active version."""
    make_leads(north, 700, seed=21)
    make_leads(south, 700, seed=22)
    make_leads(north, 20, seed=23, closed=False)
    make_leads(south, 20, seed=24, closed=False)
    Lead.objects.filter(team=south).update(last_name="Southerner")
    version = versions.run_training(versions.request_training(run=False).pk)
    assert version.status == Status.ACTIVE, version.error
    return version


def test_sdrs_ae_and_marketing_may_not_read_prediction_quality(alice, erin, mark, trained):
    for user in (alice, erin, mark):
        response = _client(user).get(reverse("predictions:quality"))
        assert response.status_code == 403
        assert b"managers and RevOps" in response.content
        assert _client(user).get(reverse("prediction-version-list")).status_code == 403


def test_a_manager_reads_quality_and_lists_only_their_teams_leads(maria, trained):
    response = _client(maria).get(reverse("predictions:quality"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Reliability" in body and "Capture" in body and 'id="kpi-auc"' in body
    assert "Southerner" not in body  # the top open leads are North's
    # The learners by their names, not their keys ("Logisticregression", "gradient_boosting 0.935").
    assert f"<td>{LEARNER_LABELS[trained.report['global']['estimator']]} <span" in body
    assert "gradient_boosting" not in body
    # Shares in one form with the capture sentence above them ("hold 52.6% of conversions"), not rounded to "53%".
    top20 = next(c for c in trained.report["overall"]["capture"] if c["top_pct"] == 20)
    assert re.search(rf'<td>20%</td><td class="num">\d+</td><td class="num">{re.escape(show_percent(100 * top20["share"]))}</td>', body)
    # The reliability table writes its shares as percentages too, like its bins ("0.243" before).
    first = next(r for r in trained.report["overall"]["reliability"] if r["count"])
    assert f'<td class="num">{show_percent(100 * first["predicted"])}</td><td class="num">{show_percent(100 * first["observed"])}</td>' in body
    # Chosen over the other learner, not over itself too ("chosen over Gradient boosting 0.933, Logistic regression (L2) 0.935").
    chosen, (other,) = trained.report["global"]["estimator"], set(trained.report["global"]["candidates"]) - {trained.report["global"]["estimator"]}
    note = re.search(r"\(chosen with AUC 0\.\d{3} over ([^<]*)\)</span>", body)
    assert note, body
    assert note.group(1).startswith(LEARNER_LABELS[other] + " 0.") and LEARNER_LABELS[chosen] not in note.group(1)
    assert body.count('href="/leads/') >= 10
    for b in range(10):
        drill = _client(maria).get(reverse("predictions:version", args=[trained.pk]) + f"?bin={b}")
        assert drill.status_code == 200
        assert "Southerner" not in drill.content.decode()


def test_revops_sees_every_team_in_the_drill_down(rita, trained):
    report = trained.report
    bins = set(bin_of(np.array([p for _, p, _ in report["held_out"]])).tolist())
    seen = "".join(_client(rita).get(reverse("predictions:version", args=[trained.pk]) + f"?bin={b}").content.decode()
                   for b in bins)
    assert "Southerner" in seen


def test_a_bad_bin_is_a_404_and_training_is_revops_only(maria, rita, trained):
    assert _client(maria).get(reverse("predictions:version", args=[trained.pk]) + "?bin=12").status_code == 404
    assert _client(maria).get(reverse("predictions:version", args=[trained.pk]) + "?bin=x").status_code == 404
    assert _client(maria).post(reverse("predictions:train")).status_code == 403
    count = PredictionVersion.objects.count()
    response = _client(rita).post(reverse("predictions:train"), {"window_days": "zero"}, follow=True)
    assert "whole number of days" in response.content.decode()
    assert PredictionVersion.objects.count() == count  # nothing queued


def test_the_api_reports_the_evaluation_without_naming_leads(maria, trained):
    data = _client(maria).get(reverse("prediction-version-detail", args=[trained.pk])).json()
    overall = data["report"]["overall"]
    assert len(overall["reliability"]) == 10 and {"auc", "brier", "ece", "capture"} <= set(overall)
    assert "held_out" not in data["report"]


def test_leads_carry_their_probability_and_top_factors(alice, north, trained):
    lead = Lead.objects.filter(team=north, stage="new").first()
    Lead.objects.filter(pk=lead.pk).update(owner=alice)
    c = _client(alice)
    one = c.get(reverse("lead-detail", args=[lead.pk])).json()
    assert one["predicted"] == pytest.approx(Lead.objects.get(pk=lead.pk).predicted)
    assert one["predicted_version"] == trained.pk
    assert all({"feature", "label", "value", "effect"} <= set(f) for f in one["predicted_factors"])
    # Values read as the Lead card writes them: "C-level", not "c_level" (every factor of every open lead).
    factors = explain(list(Lead.objects.filter(team=north, stage="new")), k=30)
    seniority = {f["value"] for fs in factors.values() for f in fs if f["feature"] == "seniority"}
    assert seniority and seniority <= set(Seniority.labels)
    listed = c.get(reverse("lead-list")).json()["results"]
    assert listed and all("predicted_factors" in row for row in listed)
    page = c.get(reverse("leads:detail", args=[lead.pk])).content.decode()
    assert 'id="prediction-panel"' in page and "Predicted conversion" in page


def test_the_queue_sorts_by_predicted_conversion_page_after_page(alice, north, trained):
    Lead.objects.filter(team=north, stage="new").update(owner=alice)
    c = _client(alice)
    seen, query = [], "?sort=predicted&per=7"
    while True:
        response = c.get(reverse("leads:queue") + query)
        page = response.context["page"]
        seen += [(lead.predicted, lead.pk) for lead in page.leads]
        if not page.next_after:
            break
        query = "?" + page.next_query()
    assert len(seen) == 20
    assert seen == sorted(seen, reverse=True)
    assert '<th aria-sort="descending" class="num"><a id="sort-predicted"' in response.content.decode()


def test_the_lead_list_api_explains_a_page_in_a_fixed_number_of_queries(alice, north, trained, django_assert_max_num_queries):
    Lead.objects.filter(team=north, stage="new").update(owner=alice)
    c = _client(alice)
    with django_assert_max_num_queries(14):
        c.get(reverse("lead-list"))


@pytest.mark.parametrize(("feature", "value", "shown"), [
    ("revenue_band", "250m_1b", "$250M–1B"),
    ("persona", "economic_buyer", "Economic buyer"),
    ("seniority", "c_level", "C-level"),
    ("account_segment", "mid_market", "Mid-market"),
    ("email_domain_kind", "company", "Company domain"),
    ("persona", "", "unknown"),
    ("industry", "Retail", "Retail"),  # free text stays as written
    ("country", "BR", "Brazil"),  # "Country: Brazil", not "Country: BR"
    ("country", "GB", "United Kingdom"),
    ("country", "XX", "XX"),  # not a code we know: as stored
])
def test_factor_values_read_as_the_lead_and_account_cards_write_them(feature, value, shown):
    assert shown_value(feature, value) == shown
