import pytest

from qualify.frameworks.models import Framework
from tests.conftest import login

URL = "/definition/"


@pytest.mark.parametrize("who", ["alice", "bob", "erin", "maria", "mark", "charlie", "sam", "rita"])
def test_every_role_reads_the_definition_with_required_criteria(client, request, who, bant_criteria):
    user = request.getfixturevalue(who)

    response = login(client, user).get(URL)

    assert response.status_code == 200
    html = " ".join(response.content.decode().split())
    assert "What “qualified” means" in html
    assert "Required before handoff" in html
    assert (
        "<strong>Need</strong>, <strong>Budget</strong>, <strong>Authority</strong> and <strong>Timeline</strong> "
        "must each be confirmed or partially confirmed, with evidence." in html
    )
    assert f"Qualified means: {bant_criteria['budget'].question}" in html
    assert "good evidence:" in html
    assert "weight 25 of 100" in html
    assert "No budget" in html and "Nurture, recycle later" in html  # disqualify reasons and what they do


def test_definition_follows_live_criteria(client, alice, bant_criteria):
    budget = bant_criteria["budget"]
    budget.question = "Has a budget owner confirmed funds for this project?"
    budget.save()
    bant_criteria["timeline"].active = False
    bant_criteria["timeline"].save()

    html = login(client, alice).get(URL).content.decode()

    assert "Has a budget owner confirmed funds for this project?" in html
    assert "<strong>Timeline</strong>" not in html


def meddic_for(team) -> None:
    Framework.objects.filter(slug="meddic").update(active=True)
    Framework.objects.get(slug="meddic").teams.add(team)


def test_definition_shows_the_framework_of_the_users_team(client, alice, charlie, south):
    meddic_for(south)

    assert "Champion" in login(client, charlie).get(URL).content.decode()
    html = login(client, alice).get(URL).content.decode()
    assert "Champion" not in html
    assert "BANT" in html


def test_admin_switches_team(client, rita, north, south, charlie):
    meddic_for(south)
    login(client, rita)

    html = client.get(URL, {"team": south.pk}).content.decode()
    assert "for South" in html
    assert "MEDDIC" in html
    assert 'name="team"' in html

    assert "for North" in client.get(URL, {"team": north.pk}).content.decode()


def test_single_team_user_gets_no_switch_and_cannot_peek_at_other_teams(client, alice, south):
    meddic_for(south)
    login(client, alice)

    html = client.get(URL, {"team": south.pk}).content.decode()

    assert "for North" in html
    assert "MEDDIC" not in html
    assert 'name="team"' not in html


def test_anonymous_is_sent_to_login(client, db):
    response = client.get(URL)

    assert response.status_code == 302
    assert "login" in response["Location"]


def test_definition_is_printable(client, alice):
    html = login(client, alice).get(URL).content.decode()

    assert "css/frameworks.css" in html
    # The button prints through static/js/app.js: the Content-Security-Policy runs no inline handler.
    assert "data-print" in html and "js/app.js" in html
