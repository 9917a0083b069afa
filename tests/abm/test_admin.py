"""RevOps defines committees and account rules in admin; a role nobody could match, or an unknown
persona, is refused with a clear message and nothing is saved."""

from __future__ import annotations

import pytest

from qualify.abm.models import AccountScoring, CommitteeRole
from tests.scoring.conftest import ensure_default_model

pytestmark = pytest.mark.django_db
URL = "/admin/abm/accountscoring/add/"


def _form(model_id: int, role: dict) -> dict:
    data = {"model": model_id, "engaged_points": "5", "mqa_threshold": "50",
            "roles-TOTAL_FORMS": "1", "roles-INITIAL_FORMS": "0", "roles-MIN_NUM_FORMS": "0", "roles-MAX_NUM_FORMS": "1000",
            "rules-TOTAL_FORMS": "1", "rules-INITIAL_FORMS": "0", "rules-MIN_NUM_FORMS": "0", "rules-MAX_NUM_FORMS": "1000",
            "rules-0-measure": "engaged_people", "rules-0-at_least": "2", "rules-0-points": "30"}
    data.update({f"roles-0-{k}": v for k, v in {"position": "1", "name": "Economic buyer", **role}.items()})
    return data


def test_revops_defines_a_committee_in_admin(admin_client):
    client = admin_client
    model = ensure_default_model()
    assert client.get(URL).status_code == 200
    r = client.post(URL, _form(model.pk, {"personas": "economic_buyer", "title_keywords": "CFO"}))
    assert r.status_code == 302
    scoring = AccountScoring.objects.get(model=model)
    assert list(scoring.roles.values_list("name", flat=True)) == ["Economic buyer"] and scoring.rules.count() == 1


@pytest.mark.parametrize(("role", "message"), [
    ({}, "Say how a person is matched"),
    ({"personas": "cfo"}, "Unknown persona: cfo"),
])
def test_a_bad_role_is_refused_and_nothing_is_saved(admin_client, role, message):
    client = admin_client
    model = ensure_default_model()
    r = client.post(URL, _form(model.pk, role))
    assert r.status_code == 200 and message in r.content.decode()
    assert not AccountScoring.objects.exists() and not CommitteeRole.objects.exists()
