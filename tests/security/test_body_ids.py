"""Ids in request bodies: another team's person or team is refused exactly as an id that does not
exist (the same status and body, but for the id itself, which DRF repeats), and the answer names
nobody the asker cannot see. README, Security: "another team's objects are a 404, as if they did
not exist"."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from qualify.leads.models import Stage
from tests.conftest import login
from tests.factories import LeadFactory
from tests.handoff.conftest import qualify_fully

MISSING = 99_999_999

# door: (who asks, method, URL, body naming `pk`, whose id stands for "another team's").
# {lead} and {account} are North's, {north} its team; the outsiders are South's.
DOORS = {
    "hand off to": ("alice", "post", "/api/handoffs/",
                    {"lead": "{lead}", "to_user": "{pk}", "next_step": "Demo Tue 10am with CFO"}, "sam"),
    "change a lead's owner": ("maria", "patch", "/api/leads/{lead}/", {"owner": "{pk}"}, "charlie"),
    "create a lead with an owner": ("maria", "post", "/api/leads/",
                                    {"first_name": "Nina", "account": "{account}", "owner": "{pk}"}, "charlie"),
    "create a lead in a team": ("maria", "post", "/api/leads/",
                                {"first_name": "Nina", "account": "{account}", "team": "{pk}"}, "south"),
    "create an account with an owner": ("maria", "post", "/api/accounts/",
                                        {"name": "Nimbus", "team": "{north}", "owner": "{pk}"}, "charlie"),
    "create an account in a team": ("maria", "post", "/api/accounts/", {"name": "Nimbus", "team": "{pk}"}, "south"),
    "reassign to": ("maria", "post", "/api/assignments/", {"lead": "{lead}", "mode": "user", "to": "{pk}"}, "charlie"),
}
# What must never appear in an answer to North: South's people and team by name.
SOUTH_NAMES = ("Sam", "Scott", "Charlie", "Chen", "South")


@pytest.fixture
def scene(alice, erin, maria, charlie, sam, north, south):
    """A North lead ready to hand off (every required criterion answered), and who is who."""
    lead = LeadFactory(team=north, owner=alice, stage=Stage.WORKING, first_name="Wanda", last_name="Worked")
    qualify_fully(lead, alice)
    return {"alice": alice, "maria": maria, "charlie": charlie, "sam": sam, "south": south, "north": north, "lead": lead}


def _ask(scene, door: str, pk: int):
    who, method, url, body, _ = DOORS[door]
    ids = {"lead": scene["lead"].pk, "account": scene["lead"].account_id, "north": scene["north"].pk, "pk": pk}
    api = APIClient()
    api.force_authenticate(scene[who])
    data = {k: int(v.format(**ids)) if v.startswith("{") else v for k, v in body.items()}
    return getattr(api, method)(url.format(**ids), data, format="json")


@pytest.mark.parametrize("door", sorted(DOORS))
def test_another_teams_id_in_a_body_answers_as_a_missing_one(door, scene):
    outsider = scene[DOORS[door][4]].pk
    theirs, missing = _ask(scene, door, outsider), _ask(scene, door, MISSING)
    assert theirs.status_code == missing.status_code == 400, (theirs.content, missing.content)
    # DRF repeats the id it was sent ('Invalid pk "7"'): the rest must be the same to the letter.
    text = theirs.content.decode().replace(f'\\"{outsider}\\"', f'\\"{MISSING}\\"')
    assert text == missing.content.decode()
    assert not [name for name in SOUTH_NAMES if name in text]


def test_hand_off_page_names_nobody_of_another_team(client, scene):
    """The lead page's form calls the same hand_off: South's AE reads as no choice at all."""
    login(client, scene["alice"])
    url = reverse("handoff:hand_off", args=[scene["lead"].pk])
    answers = [client.post(url, {"to_user": pk, "next_step": "Demo Tue 10am with CFO"}, HTTP_HX_REQUEST="true")
               for pk in (scene["sam"].pk, MISSING)]
    assert [r.context["handoff_error"] for r in answers] == ["Choose the AE to hand this lead to."] * 2
    assert not [name for name in SOUTH_NAMES for r in answers if name in r.content.decode()]


def test_hand_off_to_a_teammate_who_is_no_ae_names_nobody(scene, maria):
    """A teammate the asker sees but who cannot take the lead: refused, still without a name."""
    response = _ask(scene, "hand off to", maria.pk)
    assert response.status_code == 400
    assert response.json() == {"to_user": ["That person is not an AE on North."]}


# The pages' forms, and the merge API's `other`: another team's id reads as a missing one there too.
PAGE_DOORS = {
    "new lead in an account": ("alice", "/leads/new/", {"account": "{pk}", "first_name": "Nina"}, "south_account"),
    "edit a lead's account": ("alice", "/leads/{lead}/edit/", {"account": "{pk}", "first_name": "Wanda"}, "south_account"),
    "new account in a team": ("maria", "/accounts/new/", {"name": "Nimbus", "team": "{pk}"}, "south"),
    "new account with an owner": ("maria", "/accounts/new/", {"name": "Nimbus", "team": "{north}", "owner": "{pk}"}, "charlie"),
    "bulk reassign to": ("maria", "/queue/bulk/", {"action": "reassign", "ids": "{lead}", "owner": "{pk}"}, "charlie"),
    "bulk on a lead": ("maria", "/queue/bulk/", {"action": "claim", "ids": "{pk}"}, "south_lead"),
    "share a view with a team": ("maria", "/queue/views/", {"name": "Hot", "query": "stage=mql", "share": "1", "team": "{pk}"},
                                 "south"),
}


def _page_answer(scene, door: str, pk: int) -> str:
    """What the page said: its status, where it went, its messages and a refused form's errors,
    with the id itself blanked (a fresh client each time: no messages left over)."""
    import re

    from django.contrib.messages import get_messages
    from django.test import Client

    who, url, body, _ = PAGE_DOORS[door]
    ids = {"lead": scene["lead"].pk, "north": scene["north"].pk, "pk": pk}
    client = login(Client(), scene[who])
    response = client.post(url.format(**ids), {k: v.format(**ids) for k, v in body.items()})
    said = [str(m) for m in get_messages(response.wsgi_request)]
    form = (response.context or {}).get("form")
    errors = sorted((k, str(e)) for k, v in form.errors.items() for e in v) if form is not None else []
    # The id masked in what was said, not in the status code: an outsider's id of 400 made a 400 "<id>".
    return f"{response.status_code} " + re.sub(rf"\b{pk}\b", "<id>", f"{response.get('Location', '')} {said} {errors}")


@pytest.mark.parametrize("door", sorted(PAGE_DOORS))
def test_another_teams_id_in_a_page_form_answers_as_a_missing_one(door, scene):
    south_lead = LeadFactory(team=scene["south"], owner=scene["charlie"], first_name="Sofia", last_name="Southern")
    scene = {**scene, "south_account": south_lead.account, "south_lead": south_lead}
    outsider = scene[PAGE_DOORS[door][3]].pk
    theirs, missing = _page_answer(scene, door, outsider), _page_answer(scene, door, MISSING)
    assert theirs == missing
    assert not [name for name in (*SOUTH_NAMES, "Sofia", "Southern", south_lead.account.name) if name in theirs]


def test_merging_another_teams_lead_answers_as_a_missing_one(scene):
    south_lead = LeadFactory(team=scene["south"], owner=scene["charlie"])
    api = APIClient()
    api.force_authenticate(scene["maria"])
    url = f"/api/leads/{scene['lead'].pk}/merge/"
    theirs, missing = (api.post(url, {"other": pk}, format="json") for pk in (south_lead.pk, MISSING))
    assert (theirs.status_code, theirs.content) == (missing.status_code, missing.content) == (404, missing.content)
