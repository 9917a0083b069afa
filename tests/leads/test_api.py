import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts.tokens import issue_token
from qualify.leads.models import Account, Lead, Stage, Touch
from tests.factories import AccountFactory, LeadFactory


@pytest.fixture
def api():
    return APIClient()


def as_user(api, user):
    api.force_authenticate(user)
    return api


def test_api_requires_authentication(api, alices_lead):
    assert api.get("/api/leads/").status_code in (401, 403)


def test_token_authentication(api, alice, alices_lead):
    _, key = issue_token(user=alice, name="tests")
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = api.get("/api/leads/")
    assert response.status_code == 200
    assert [r["id"] for r in response.json()["results"]] == [alices_lead.pk]


def test_list_is_scoped_and_filterable(api, alice, north, south_lead, alices_lead, pool_lead):
    LeadFactory(team=north, owner=alice, stage=Stage.MQL, first_name="Mqlla")
    data = as_user(api, alice).get("/api/leads/", {"stage": "mql"}).json()
    assert [r["first_name"] for r in data["results"]] == ["Mqlla"]
    ids = {r["id"] for r in api.get("/api/leads/").json()["results"]}
    assert south_lead.pk not in ids and {alices_lead.pk, pool_lead.pk} <= ids


def test_outsider_gets_404(api, charlie, alices_lead):
    as_user(api, charlie)
    assert api.get(f"/api/leads/{alices_lead.pk}/").status_code == 404
    assert api.patch(f"/api/leads/{alices_lead.pk}/", {"title": "CEO"}).status_code == 404


def test_marketing_cannot_update(api, mark, alices_lead):
    response = as_user(api, mark).patch(f"/api/leads/{alices_lead.pk}/", {"title": "CEO"}, format="json")
    assert response.status_code == 403
    assert Lead.objects.get(pk=alices_lead.pk).title != "CEO"


def test_create_lead(api, alice, north):
    account = AccountFactory(team=north)
    response = as_user(api, alice).post(
        "/api/leads/",
        {"first_name": "Nina", "last_name": "New", "email": "nina@x.example", "account": account.pk, "owner": alice.pk},
        format="json",
    )
    assert response.status_code == 201, response.json()
    lead = Lead.objects.get(pk=response.json()["id"])
    assert (lead.team, lead.owner, lead.stage) == (north, alice, Stage.NEW)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"last_name": "NoFirst"}, "first_name"),
        ({"first_name": "X", "email": "not-an-email"}, "email"),
        ({"first_name": "X", "source": "carrier-pigeon"}, "source"),
        ({"first_name": "X", "stage": "won"}, None),  # read-only: ignored, lead starts New
    ],
)
def test_create_with_bad_input_is_400_and_writes_nothing(api, alice, north, payload, field):
    account = AccountFactory(team=north)
    before = Lead.objects.count()
    response = as_user(api, alice).post("/api/leads/", {"account": account.pk, **payload}, format="json")
    if field is None:
        assert response.status_code == 201 and response.json()["stage"] == "new"
        return
    assert response.status_code == 400
    assert field in response.json()
    assert Lead.objects.count() == before


def test_create_in_another_teams_account_is_refused(api, alice, south):
    foreign = AccountFactory(team=south)
    response = as_user(api, alice).post("/api/leads/", {"first_name": "X", "account": foreign.pk}, format="json")
    assert response.status_code == 400 and "account" in response.json()
    assert not Lead.objects.exists()


def test_owner_must_be_on_the_team(api, alice, charlie, north):
    account = AccountFactory(team=north)
    response = as_user(api, alice).post(
        "/api/leads/", {"first_name": "X", "account": account.pk, "owner": charlie.pk}, format="json"
    )
    assert response.status_code == 400 and "owner" in response.json()


def test_move_through_api_and_illegal_move_400(api, alice, alices_lead):
    as_user(api, alice)
    assert api.post(f"/api/leads/{alices_lead.pk}/move/", {"to": "mql"}, format="json").status_code == 200
    response = api.post(f"/api/leads/{alices_lead.pk}/move/", {"to": "won"}, format="json")
    assert response.status_code == 400
    assert "cannot move" in response.json()["stage"][0]
    assert Lead.objects.get(pk=alices_lead.pk).stage == Stage.MQL


def test_disqualify_through_api_requires_note(api, alice, alices_lead):
    from qualify.leads.models import DisqualifyReason

    reason = DisqualifyReason.objects.get(name="No ICP fit")
    as_user(api, alice)
    response = api.post(f"/api/leads/{alices_lead.pk}/disqualify/", {"reason": reason.pk}, format="json")
    assert response.status_code == 400 and "note" in response.json()
    response = api.post(
        f"/api/leads/{alices_lead.pk}/disqualify/", {"reason": reason.pk, "note": "Two-person agency, no fit"}, format="json"
    )
    assert response.status_code == 200 and response.json()["stage"] == "disqualified"


def test_nurture_through_api_with_a_reason_that_does_not_nurture_changes_nothing(api, alice, alices_lead):
    """The page offers only nurture reasons and the bulk bar refuses the others; the API nurtured a
    lead with "No ICP fit" (a close reason), which then counted in nurture reports as that."""
    from qualify.leads.models import DisqualifyReason

    close = DisqualifyReason.objects.get(name="No ICP fit")
    as_user(api, alice)
    response = api.post(f"/api/leads/{alices_lead.pk}/nurture/", {"reason": close.pk, "note": "Two-person agency, no fit"},
                        format="json")
    assert response.status_code == 400 and "does not nurture" in response.json()["reason"][0]
    assert Lead.objects.get(pk=alices_lead.pk).stage == Stage.NEW


def test_log_touch_through_api(api, alice, alices_lead):
    as_user(api, alice)
    response = api.post(f"/api/leads/{alices_lead.pk}/touches/", {"kind": "call", "outcome": "connected"}, format="json")
    assert response.status_code == 201
    assert api.post(f"/api/leads/{alices_lead.pk}/touches/", {"kind": "fax"}, format="json").status_code == 400
    assert Touch.objects.filter(lead=alices_lead).count() == 1
    assert len(api.get(f"/api/leads/{alices_lead.pk}/touches/").json()) == 1
    # The same touch again within seconds (a retry): the one already logged, as a 200.
    again = api.post(f"/api/leads/{alices_lead.pk}/touches/", {"kind": "call", "outcome": "connected"}, format="json")
    assert again.status_code == 200 and again.json()["id"] == response.json()["id"]
    assert Touch.objects.filter(lead=alices_lead).count() == 1


def test_accounts_scoped_and_domain_unique(api, alice, north, south):
    mine, theirs = AccountFactory(team=north, domain="acme.example"), AccountFactory(team=south)
    as_user(api, alice)
    ids = {a["id"] for a in api.get("/api/accounts/").json()["results"]}
    assert mine.pk in ids and theirs.pk not in ids
    assert api.get(f"/api/accounts/{theirs.pk}/").status_code == 404
    response = api.post("/api/accounts/", {"name": "Dup", "domain": "ACME.example", "team": north.pk}, format="json")
    assert response.status_code == 400 and "domain" in response.json()
    response = api.post("/api/accounts/", {"name": "Other", "team": south.pk}, format="json")
    assert response.status_code == 400 and "team" in response.json()
    assert Account.objects.count() == 2


@pytest.mark.parametrize("who", ["rita", "two_teams"])
def test_an_account_stays_in_its_team(api, request, who, alices_lead, north, south):
    """The account page's form has no team field (its leads would be stranded in the old one); a
    PATCH of `team` by an admin, or by an SDR of both teams, moved the account and left its leads
    in North with an account of South, gone from their own account page."""
    from accounts.models import Membership, Role

    if who == "two_teams":
        user = request.getfixturevalue("alice")
        Membership.objects.create(user=user, team=south, role=Role.SDR)
    else:
        user = request.getfixturevalue("rita")
    account, name = alices_lead.account, alices_lead.account.name
    as_user(api, user)
    response = api.patch(f"/api/accounts/{account.pk}/", {"team": south.pk, "name": "Renamed"}, format="json")
    assert response.status_code == 400 and "team" in response.json()
    account.refresh_from_db()
    assert (account.team_id, account.name) == (north.pk, name)
    assert api.patch(f"/api/accounts/{account.pk}/", {"team": north.pk, "name": "Renamed"}, format="json").status_code == 200


def test_openapi_schema_is_valid(api, alice, tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
    assert as_user(api, alice).get("/api/schema/").status_code == 200
    api.force_login(alice)  # the docs pages are Django views behind login_required
    assert api.get("/api/docs/").status_code == 200


def test_api_cannot_move_a_handed_off_lead_back_without_a_rejection(api, alice, north):
    lead = LeadFactory(team=north, owner=alice, stage=Stage.HANDED_OFF)
    response = as_user(api, alice).post(f"/api/leads/{lead.pk}/move/", {"to": "working"}, format="json")
    assert response.status_code == 400 and "dedicated endpoint" in response.json()["to"][0]
    assert Lead.objects.get(pk=lead.pk).stage == Stage.HANDED_OFF


# --- a new lead's or account's owner: the rule an update applies ---------------------------------
# A new lead's owner is a reassign, unless one takes the lead oneself (the page's "Make me the
# owner"); a new account's owner is a change of the team's accounts, which marketing never makes.
@pytest.mark.parametrize(("who", "owner", "allowed"), [
    ("maria", "alice", True),  # the team's manager gives it to anyone of the team
    ("rita", "erin", True),  # RevOps
    ("alice", "alice", True),  # an SDR takes it herself
    ("alice", "erin", False),  # ...but gives it to nobody else: routing decides
    ("erin", "alice", False),
    ("mark", "erin", False),  # marketing creates leads, owned by nobody
])
def test_a_new_leads_owner_follows_the_reassign_rule(api, request, north, who, owner, allowed):
    account = AccountFactory(team=north)
    asker, chosen = request.getfixturevalue(who), request.getfixturevalue(owner)
    response = as_user(api, asker).post("/api/leads/", {"first_name": "Nina", "account": account.pk, "owner": chosen.pk},
                                         format="json")
    assert response.status_code == (201 if allowed else 400), response.json()
    assert Lead.objects.filter(first_name="Nina", owner=chosen).exists() is allowed
    if not allowed:
        assert "owner" in response.json()


@pytest.mark.parametrize(("who", "allowed"), [("maria", True), ("alice", True), ("erin", True), ("mark", False)])
def test_a_new_accounts_owner_is_for_those_who_change_the_teams_accounts(api, request, north, alice, who, allowed):
    response = as_user(api, request.getfixturevalue(who)).post(
        "/api/accounts/", {"name": "Nimbus", "team": north.pk, "owner": alice.pk}, format="json")
    assert response.status_code == (201 if allowed else 400), response.json()
    assert Account.objects.filter(name="Nimbus").exists() is allowed


def test_marketing_still_creates_leads_and_accounts_without_an_owner(api, mark, north):
    as_user(api, mark)
    account = api.post("/api/accounts/", {"name": "Nimbus", "team": north.pk}, format="json")
    assert account.status_code == 201, account.json()
    lead = api.post("/api/leads/", {"first_name": "Nina", "account": account.json()["id"]}, format="json")
    assert lead.status_code == 201 and lead.json()["owner"] is None
