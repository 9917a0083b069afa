"""Custom properties through every door: API, queue and API filters, lead page, admin, history."""

import pghistory.models
import pytest
from rest_framework.test import APIClient

from qualify.leads.models import Lead, Property
from tests.conftest import login
from tests.factories import AccountFactory, LeadFactory, UserFactory


@pytest.fixture
def props(db):
    return {
        "visits": Property.objects.create(key="visits", label="Total visits", kind="number"),
        "occupation": Property.objects.create(key="occupation", label="Occupation", kind="choice",
                                              choices=["Student", "Working Professional"]),
        "newsletter": Property.objects.create(key="newsletter", label="Newsletter", kind="yesno"),
        "tier": Property.objects.create(key="tier", label="Tier", entity="account", kind="text"),
    }


@pytest.fixture
def api(alice):
    client = APIClient()
    client.force_authenticate(alice)
    return client


def test_api_writes_and_serialises_properties(api, alices_lead, props):
    r = api.patch(f"/api/leads/{alices_lead.pk}/", {"properties": {"visits": "7", "newsletter": "yes"}}, format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["properties"] == {"visits": 7, "newsletter": True}
    # A partial change: other keys stay; null removes one.
    r = api.patch(f"/api/leads/{alices_lead.pk}/", {"properties": {"occupation": "student", "visits": None}}, format="json")
    assert r.json()["properties"] == {"newsletter": True, "occupation": "Student"}
    assert api.get(f"/api/leads/{alices_lead.pk}/").json()["properties"] == {"newsletter": True, "occupation": "Student"}


@pytest.mark.parametrize(
    ("properties", "message"),
    [
        ({"visits": "many"}, "Total visits must be a number"),
        ({"occupation": "Astronaut"}, "is not a choice of Occupation"),
        ({"nope": 1}, "Unknown lead property: nope"),
        ({"tier": "Gold"}, "Unknown lead property: tier"),  # an account property is not a lead's
        ({"visits": 10**30}, "too large"),
        ({"occupation": "x" * 100_000}, "is not a choice"),
        ({"newsletter": {"deep": [1, 2]}}, "must be yes or no"),
        (["visits", 1], "an object of key: value"),
    ],
)
def test_a_bad_property_value_is_a_400_and_changes_nothing(api, alices_lead, props, properties, message):
    Lead.objects.filter(pk=alices_lead.pk).update(properties={"visits": 3})
    r = api.patch(f"/api/leads/{alices_lead.pk}/", {"properties": properties, "title": "Changed"}, format="json")
    assert r.status_code == 400 and message in str(r.json())
    lead = Lead.objects.get(pk=alices_lead.pk)
    assert lead.properties == {"visits": 3} and lead.title != "Changed"


def test_api_list_filters_by_property_and_refuses_unknown_ones(api, alice, north, props):
    a = LeadFactory(team=north, owner=alice, properties={"occupation": "Student", "visits": 12, "newsletter": True})
    b = LeadFactory(team=north, owner=alice, properties={"occupation": "Working Professional", "visits": 3})
    c = LeadFactory(team=north, owner=alice, account=AccountFactory(team=north, properties={"tier": "Gold"}))

    def ids(**params):
        r = api.get("/api/leads/", params)
        assert r.status_code == 200, r.json()
        return {row["id"] for row in r.json()["results"]}

    assert ids(**{"prop.occupation": "student"}) == {a.pk}
    assert ids(**{"prop.visits.min": "5"}) == {a.pk}
    assert ids(**{"prop.visits.max": "5"}) == {b.pk}
    assert ids(**{"prop.newsletter": "yes"}) == {a.pk}
    assert ids(**{"prop.tier": "Gold"}) == {c.pk}
    r = api.get("/api/leads/", {"prop.nope": "x"})
    assert r.status_code == 400 and "Unknown property" in str(r.json())
    r = api.get("/api/leads/", {"prop.visits": "lots"})
    assert r.status_code == 400 and "must be a number" in str(r.json())
    r = api.get("/api/leads/", {"prop.occupation.min": "1"})
    assert r.status_code == 400


def test_queue_filters_by_property_and_says_why_it_refuses(client, alice, north, props):
    a = LeadFactory(team=north, owner=alice, first_name="Zzstu", properties={"occupation": "Student"})
    LeadFactory(team=north, owner=alice, first_name="Qqpro", properties={"occupation": "Working Professional"})
    html = login(client, alice).get("/queue/", {"prop.occupation": "Student"}).content.decode()
    assert f'id="lead-{a.pk}"' in html and "Qqpro" not in html
    assert 'name="prop.occupation"' in html and 'name="prop.visits.min"' in html  # inline when filtering
    lazy = client.get("/queue/properties/").content.decode()
    assert 'name="prop.newsletter"' in lazy and 'name="prop.tier"' in lazy
    html = client.get("/queue/", {"prop.nope": "1"}).content.decode()
    assert "Unknown property" in html and "Zzstu" not in html


def test_lead_page_shows_lead_and_account_properties(client, alice, north, props):
    lead = LeadFactory(team=north, owner=alice, properties={"visits": 4, "newsletter": False},
                       account=AccountFactory(team=north, properties={"tier": "Gold"}))
    html = login(client, alice).get(lead.get_absolute_url()).content.decode()
    assert '<dt>Total visits</dt><dd data-property="visits">4</dd>' in html
    assert '<dd data-property="newsletter">No</dd>' in html and '<dd data-property="tier">Gold</dd>' in html


def test_a_property_change_is_recorded_in_history(api, alices_lead, props):
    api.patch(f"/api/leads/{alices_lead.pk}/", {"properties": {"visits": 9}}, format="json")
    events = pghistory.models.Events.objects.tracks(alices_lead).filter(pgh_label="update")
    assert any(e.pgh_diff and "properties" in e.pgh_diff for e in events)


def superuser():
    return UserFactory(username="root", is_staff=True, is_superuser=True)


def test_admin_refuses_a_bad_property_without_saving(client, alices_lead, props):
    login(client, superuser())
    url = f"/admin/leads/lead/{alices_lead.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and not isinstance(v, (list, dict))}
    data.update({"account": alices_lead.account_id, "team": alices_lead.team_id, "properties": '{"visits": "many"}',
                 "_save": "Save"})
    for prefix in ("stage_changes", "touches"):
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0})
    r = client.post(url, data)
    assert r.status_code == 200 and "Total visits must be a number" in r.content.decode()
    assert Lead.objects.get(pk=alices_lead.pk).properties == {}


def test_properties_are_defined_in_the_admin_and_bad_definitions_refused(client, db):
    login(client, superuser())
    r = client.post("/admin/leads/property/add/", {"key": "Bad Key", "label": "X", "entity": "lead", "kind": "text",
                                                   "choices": "[]", "position": 0, "active": "on"})
    assert r.status_code == 200 and not Property.objects.exists()
    r = client.post("/admin/leads/property/add/", {"key": "seats", "label": "Seats", "entity": "lead", "kind": "choice",
                                                   "choices": "[]", "position": 0, "active": "on"})
    assert r.status_code == 200 and "needs a list of non-empty choices" in r.content.decode()
    r = client.post("/admin/leads/property/add/", {"key": "seats", "label": "Seats", "entity": "lead", "kind": "number",
                                                   "choices": "[]", "position": 0, "active": "on"})
    assert r.status_code == 302 and Property.objects.get().kind == "number"


def test_the_queue_export_has_a_column_per_property_and_only_the_users_leads(client, alice, north, south, props):
    import csv
    import io

    mine = LeadFactory(team=north, owner=alice, first_name="=cmd", properties={"visits": 4, "newsletter": True},
                       account=AccountFactory(team=north, properties={"tier": "Gold"}), predicted=0.4237)
    LeadFactory(team=north, owner=alice, properties={"visits": 1})
    LeadFactory(team=south, properties={"visits": 4})
    r = login(client, alice).get("/queue/export/", {"prop.visits.min": "2"})
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.content.decode())))
    assert [row["id"] for row in rows] == [str(mine.pk)]
    assert (rows[0]["visits"], rows[0]["newsletter"], rows[0]["occupation"], rows[0]["account.tier"]) == ("4", "Yes", "", "Gold")
    assert rows[0]["first_name"] == "'=cmd"  # formulas neutralised like every export
    assert rows[0]["predicted"] == "0.424"  # the predicted chance of winning, beside the rule score
    r = client.get("/queue/export/", {"prop.nope": "1"})
    assert r.status_code == 400 and "Unknown property" in r.content.decode()


def test_a_merge_keeps_the_survivors_properties_and_gains_the_others(alice, maria, north, props):
    from qualify.leads.merge import merge_leads

    keep = LeadFactory(team=north, owner=alice, properties={"visits": 4})
    gone = LeadFactory(team=north, owner=alice, properties={"visits": 9, "newsletter": True})
    assert merge_leads(keep, gone, by=maria).properties == {"visits": 4, "newsletter": True}
