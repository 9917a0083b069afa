"""Scores that rank: the shipped default model's caps add up to its total cap (migration 0009),
and admin warns when a model's caps make its total cap unreachable."""

import importlib

import pytest
from django.apps import apps as live_apps

from qualify.scoring.models import ModelVersion, ScoringModel, unreachable_total_cap
from tests.conftest import login

caps_migration = importlib.import_module("qualify.scoring.migrations.0011_default_model_caps_add_up")


@pytest.mark.django_db
def test_default_model_caps_add_up_to_its_total_cap():
    model = ScoringModel.objects.get(is_default=True)
    version = model.current_version

    assert (model.fit_cap, model.engagement_cap, model.total_cap) == (50, 50, 100)
    assert version.number == 2 and version.spec["engagement_cap"] == 50
    assert version.spec == model.to_spec_json(version.number)  # the draft is what is published
    assert version.spec["engagement_cap"] < version.spec["mql_threshold"]  # behaviour alone still makes no MQL
    assert unreachable_total_cap(version.spec["fit_cap"], version.spec["engagement_cap"], version.spec["total_cap"]) == ""
    # Version 1 stays as it was: scores it produced still say which arithmetic made them.
    assert ModelVersion.objects.get(model=model, number=1).spec["engagement_cap"] == 40


@pytest.mark.django_db
def test_the_caps_migration_runs_once_and_leaves_an_admins_caps_alone():
    model = ScoringModel.objects.get(is_default=True)
    caps_migration.caps_add_up(live_apps, None)
    assert ModelVersion.objects.filter(model=model).count() == 2

    ScoringModel.objects.filter(pk=model.pk).update(engagement_cap=40, fit_cap=60)  # an admin's own caps
    caps_migration.caps_add_up(live_apps, None)
    assert ModelVersion.objects.filter(model=model).count() == 2


@pytest.mark.parametrize(("fit", "engagement", "total", "warned"), [
    (50, 40, 100, True), (50, 50, 100, False), (60, 50, 100, False),
    (None, 40, 100, False), (50, None, 100, False), (50, 40, None, False),
])
def test_unreachable_total_cap(fit, engagement, total, warned):
    warning = unreachable_total_cap(fit, engagement, total)
    assert bool(warning) is warned
    if warned:
        assert warning.startswith("No lead can score above 90: the fit cap (50) plus the engagement cap (40)")


@pytest.mark.django_db
def test_admin_warns_on_the_model_and_version_pages_when_the_total_cap_is_unreachable(client, rita):
    rita.is_superuser = rita.is_staff = True
    rita.save()
    login(client, rita)
    model = ScoringModel.objects.get(is_default=True)
    v1 = ModelVersion.objects.get(model=model, number=1)

    assert "No lead can score above" not in client.get(f"/admin/scoring/scoringmodel/{model.pk}/change/").content.decode()
    assert "No lead can score above" not in client.get(f"/admin/scoring/modelversion/{model.current_version_id}/change/").content.decode()
    assert "No lead can score above 90" in client.get(f"/admin/scoring/modelversion/{v1.pk}/change/").content.decode()

    ScoringModel.objects.filter(pk=model.pk).update(engagement_cap=30)
    html = client.get(f"/admin/scoring/scoringmodel/{model.pk}/change/").content.decode()
    assert "No lead can score above 80" in html and "lower the total cap to 80" in html
