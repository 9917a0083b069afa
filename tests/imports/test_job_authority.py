"""A job is run with its uploader's rights of now, not of the day they uploaded it.

A manager uploads an outcomes file and dry-runs it; later they leave the team, or stay on it as
marketing. The stored job must not carry their old rights: another team's job is a 404 like any
of its objects, and a kind their role no longer imports is a 403, through the page and the API.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Membership, Role
from qualify.imports.models import ImportJob, ImportStatus
from qualify.leads.models import Lead, Stage
from tests.conftest import login
from tests.factories import LeadFactory

OUTCOMES = b"External Id,Outcome,Close Date\nM1,won,2026-01-20\n"


@pytest.fixture
def dry_run_job(client, north, maria):
    LeadFactory(team=north, external_id="M1", stage=Stage.MQL)
    login(client, maria)
    r = client.post("/imports/", {"kind": "outcomes", "team": north.pk, "file": SimpleUploadedFile("o.csv", OUTCOMES)})
    job = ImportJob.objects.get()
    assert r.status_code == 302
    client.post(f"/imports/{job.pk}/run/", {"map-0": "external_id", "map-1": "stage", "map-2": "close_date",
                                            "action": "dry_run", "mode": "all_or_nothing"})
    job.refresh_from_db()
    assert (job.status, job.dry_run, job.good_rows) == (ImportStatus.DONE, True, 1), job.message
    return job


def _run_for_real(client, job, via):
    if via == "page":
        return client.post(f"/imports/{job.pk}/run/", {"map-0": "external_id", "map-1": "stage", "map-2": "close_date",
                                                       "action": "import", "mode": "all_or_nothing"})
    return client.post(f"/api/imports/{job.pk}/run/", {"dry_run": False, "mode": "all_or_nothing"},
                       content_type="application/json")


@pytest.mark.parametrize("via", ["page", "api"])
def test_a_manager_moved_to_another_team_cannot_run_their_old_teams_job(client, north, south, maria, dry_run_job, via):
    Membership.objects.filter(user=maria, team=north).delete()
    Membership.objects.create(user=maria, team=south, role=Role.MANAGER)
    maria.refresh_from_db()
    login(client, maria)
    r = _run_for_real(client, dry_run_job, via)
    assert Lead.objects.get().stage == Stage.MQL
    assert r.status_code == 404
    assert client.get(f"/imports/{dry_run_job.pk}/").status_code == 404
    assert client.get(f"/api/imports/{dry_run_job.pk}/").status_code == 404
    assert dry_run_job.pk not in [j["id"] for j in client.get("/api/imports/").json()["results"]]
    assert Lead.objects.get().stage == Stage.MQL
    dry_run_job.refresh_from_db()
    assert dry_run_job.imported_at is None


@pytest.mark.parametrize("via", ["page", "api"])
def test_a_manager_now_marketing_cannot_run_their_old_outcomes_job(client, north, maria, dry_run_job, via):
    """Marketing never moves existing leads to won or lost (README, Security)."""
    Membership.objects.filter(user=maria, team=north).update(role=Role.MARKETING)
    login(client, maria)
    r = _run_for_real(client, dry_run_job, via)
    assert Lead.objects.get().stage == Stage.MQL
    assert r.status_code == 403
    dry_run_job.refresh_from_db()
    assert dry_run_job.imported_at is None
    # They still read the job they uploaded.
    assert client.get(f"/imports/{dry_run_job.pk}/").status_code == 200


def test_the_uploader_still_runs_their_job_while_they_may(client, maria, dry_run_job):
    login(client, maria)
    assert _run_for_real(client, dry_run_job, "api").status_code == 202
    assert Lead.objects.get().stage == Stage.WON
