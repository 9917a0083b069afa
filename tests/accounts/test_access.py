"""The permission matrix: every role against every kind of lead, outsiders included."""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from accounts.models import Role
from qualify.leads.access import access_lead, can_change_lead
from qualify.leads.models import Lead, Stage
from tests.factories import LeadFactory, TeamFactory, UserFactory


@pytest.fixture
def world(db):
    north, south = TeamFactory(name="North"), TeamFactory(name="South")
    cast = {
        "sdr": UserFactory.with_role(Role.SDR, north, username="alice"),
        "teammate": UserFactory.with_role(Role.SDR, north, username="bob"),
        "ae": UserFactory.with_role(Role.AE, north, username="erin"),
        "manager": UserFactory.with_role(Role.MANAGER, north, username="maria"),
        "marketing": UserFactory.with_role(Role.MARKETING, north, username="mark"),
        "admin": UserFactory.with_role(Role.REVOPS, south, username="rita"),
        "outsider": UserFactory.with_role(Role.SDR, south, username="charlie"),
        "outside_manager": UserFactory.with_role(Role.MANAGER, south, username="magnus"),
        "nobody": UserFactory(username="nobody"),
    }
    leads = {
        "own": LeadFactory(team=north, owner=cast["sdr"]),
        "teammates": LeadFactory(team=north, owner=cast["teammate"]),
        "pool": LeadFactory(team=north, owner=None),
        "handed_to_ae": LeadFactory(team=north, owner=cast["sdr"], ae=cast["ae"], stage=Stage.HANDED_OFF),
        "other_team": LeadFactory(team=south, owner=cast["outsider"]),
    }
    return cast, leads


# (role, lead) -> "rw" (read and write), "r" (read-only), "-" (404)
MATRIX = {
    "sdr":             {"own": "rw", "teammates": "-",  "pool": "rw", "handed_to_ae": "rw", "other_team": "-"},
    "teammate":        {"own": "-",  "teammates": "rw", "pool": "rw", "handed_to_ae": "-",  "other_team": "-"},
    "ae":              {"own": "-",  "teammates": "-",  "pool": "-",  "handed_to_ae": "rw", "other_team": "-"},
    "manager":         {"own": "rw", "teammates": "rw", "pool": "rw", "handed_to_ae": "rw", "other_team": "-"},
    "marketing":       {"own": "r",  "teammates": "r",  "pool": "r",  "handed_to_ae": "r",  "other_team": "-"},
    "admin":           {"own": "rw", "teammates": "rw", "pool": "rw", "handed_to_ae": "rw", "other_team": "rw"},
    "outsider":        {"own": "-",  "teammates": "-",  "pool": "-",  "handed_to_ae": "-",  "other_team": "rw"},
    "outside_manager": {"own": "-",  "teammates": "-",  "pool": "-",  "handed_to_ae": "-",  "other_team": "rw"},
    "nobody":          {"own": "-",  "teammates": "-",  "pool": "-",  "handed_to_ae": "-",  "other_team": "-"},
}


@pytest.mark.parametrize("role", MATRIX)
@pytest.mark.parametrize("which", ["own", "teammates", "pool", "handed_to_ae", "other_team"])
def test_permission_matrix(world, role, which):
    cast, leads = world
    user, lead, expected = cast[role], leads[which], MATRIX[role][which]
    visible = Lead.objects.visible_to(user).filter(pk=lead.pk).exists()
    assert visible == (expected != "-")
    if expected == "-":
        with pytest.raises(Http404):
            access_lead(user, lead.pk)
        return
    assert access_lead(user, lead.pk) == lead
    assert can_change_lead(user, lead) == (expected == "rw")
    if expected == "r":
        with pytest.raises(PermissionDenied):
            access_lead(user, lead.pk, for_write=True)
    else:
        assert access_lead(user, lead.pk, for_write=True) == lead


def test_inactive_user_sees_nothing(world):
    cast, leads = world
    cast["sdr"].is_active = False
    cast["sdr"].save()
    assert not Lead.objects.visible_to(cast["sdr"]).exists()


def test_garbage_ids_are_404(world):
    cast, _ = world
    for bad in ("abc", None, "1; drop table"):
        with pytest.raises(Http404):
            access_lead(cast["admin"], bad)
