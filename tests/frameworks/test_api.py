import pytest
from rest_framework.test import APIClient

from qualify.frameworks.answers import record_answer
from qualify.frameworks.models import Answer
from tests.frameworks.factories import CriterionFactory, FrameworkFactory

EVIDENCE = "CFO confirmed the budget line on the 3 May call."


@pytest.fixture
def api():
    return APIClient()


def as_user(api, user):
    api.force_authenticate(user)
    return api


def test_frameworks_are_listed_with_nested_criteria(api, alice, bant):
    response = as_user(api, alice).get("/api/frameworks/")

    assert response.status_code == 200
    first = response.json()[0]
    assert first["slug"] == "bant"
    assert [c["dimension"] for c in first["criteria"]] == ["Need", "Budget", "Authority", "Timeline"]
    assert first["criteria"][0]["required_for_handoff"] is True


def test_frameworks_filter_by_active(api, alice, bant):
    response = as_user(api, alice).get("/api/frameworks/", {"active": "true"})

    assert [f["slug"] for f in response.json()] == ["bant"]


def test_framework_detail(api, mark, bant):
    response = as_user(api, mark).get(f"/api/frameworks/{bant.pk}/")

    assert response.status_code == 200
    assert response.json()["is_default"] is True


def test_another_teams_framework_is_hidden_as_if_it_did_not_exist(api, alice, rita, north, south, bant):
    """A framework naming no teams is for every team; one naming teams is theirs: another team's is
    a 404 with the very answer a missing id gets, and a shared one lists only the asker's teams."""
    theirs = FrameworkFactory(name="South secret playbook", slug="south-playbook")
    theirs.teams.set([south])
    shared = FrameworkFactory(name="Shared playbook", slug="shared-playbook")
    shared.teams.set([north, south])
    listed = {f["id"]: f for f in as_user(api, alice).get("/api/frameworks/").json()}
    assert {bant.pk, shared.pk} <= set(listed) and theirs.pk not in listed
    assert listed[shared.pk]["teams"] == [north.pk] and listed[bant.pk]["teams"] == []
    answers = [api.get(f"/api/frameworks/{pk}/") for pk in (theirs.pk, 99_999_999)]
    assert [r.status_code for r in answers] == [404, 404] and answers[0].content == answers[1].content
    everything = {f["id"]: f for f in as_user(api, rita).get("/api/frameworks/").json()}
    assert theirs.pk in everything and sorted(everything[shared.pk]["teams"]) == sorted([north.pk, south.pk])


def test_anonymous_cannot_read_frameworks(api, db):
    assert api.get("/api/frameworks/").status_code in (401, 403)


def test_owner_creates_an_answer(api, alice, alices_lead, bant_criteria):
    response = as_user(api, alice).post(
        "/api/answers/",
        {"lead": alices_lead.pk, "criterion": bant_criteria["budget"].pk, "status": "confirmed", "evidence": EVIDENCE},
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "confirmed"
    assert body["criterion_version"] == 1
    assert body["is_stale"] is False
    assert (body["author"], body["author_name"]) == (alice.pk, "Alice Adams")
    assert Answer.objects.get().author == alice


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"status": "confirmed", "evidence": ""}, "evidence"),
        ({"status": "sure"}, "status"),
        ({}, "status"),
        ({"status": "unknown", "criterion": 0}, "criterion"),
        ({"status": "unknown", "criterion": "x"}, "criterion"),
    ],
)
def test_bad_input_is_400_with_the_field_and_writes_nothing(api, alice, alices_lead, bant_criteria, payload, field):
    data = {"lead": alices_lead.pk, "criterion": bant_criteria["budget"].pk, **payload}

    response = as_user(api, alice).post("/api/answers/", data, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert isinstance(response.json()[field], list)
    assert not Answer.objects.exists()


def test_outsider_gets_404_on_create(api, charlie, alices_lead, bant_criteria):
    response = as_user(api, charlie).post(
        "/api/answers/",
        {"lead": alices_lead.pk, "criterion": bant_criteria["need"].pk, "status": "unknown"},
        format="json",
    )

    assert response.status_code == 404
    assert not Answer.objects.exists()


def test_outsider_gets_404_even_with_bad_input(api, charlie, alices_lead, bant_criteria):
    response = as_user(api, charlie).post(
        "/api/answers/", {"lead": alices_lead.pk, "criterion": bant_criteria["need"].pk}, format="json"
    )

    assert response.status_code == 404


def test_marketing_gets_403_on_create(api, mark, alices_lead, bant_criteria):
    response = as_user(api, mark).post(
        "/api/answers/",
        {"lead": alices_lead.pk, "criterion": bant_criteria["need"].pk, "status": "unknown"},
        format="json",
    )

    assert response.status_code == 403
    assert not Answer.objects.exists()


def test_list_is_filtered_by_lead_and_visibility(api, alice, charlie, alices_lead, south_lead, bant_criteria):
    mine = record_answer(alices_lead, criterion=bant_criteria["need"], by=alice, status="unknown")
    record_answer(south_lead, criterion=bant_criteria["need"], by=charlie, status="unknown")

    response = as_user(api, alice).get("/api/answers/", {"lead": alices_lead.pk})
    assert response.status_code == 200
    assert [a["id"] for a in response.json()["results"]] == [mine.pk]

    everything_alice_sees = as_user(api, alice).get("/api/answers/").json()["results"]
    assert [a["id"] for a in everything_alice_sees] == [mine.pk]

    assert as_user(api, charlie).get("/api/answers/", {"lead": alices_lead.pk}).json()["results"] == []
    assert as_user(api, charlie).get(f"/api/answers/{mine.pk}/").status_code == 404


def test_list_query_count_is_fixed(api, alice, alices_lead, bant_criteria, django_assert_num_queries):
    for criterion in bant_criteria.values():
        record_answer(alices_lead, criterion=criterion, by=alice, status="unknown")
    as_user(api, alice)

    # memberships (visibility), then one page of answers with criterion and author joined.
    with django_assert_num_queries(2):
        response = api.get("/api/answers/", {"lead": alices_lead.pk})
    assert len(response.json()["results"]) == 4


def test_completeness_endpoint(api, alice, mark, charlie, alices_lead, bant_criteria):
    record_answer(alices_lead, criterion=bant_criteria["budget"], by=alice, status="confirmed", evidence=EVIDENCE)

    response = as_user(api, mark).get("/api/answers/completeness/", {"lead": alices_lead.pk})

    assert response.status_code == 200
    body = response.json()
    assert body["percent"] == 25
    assert body["missing_required"] == ["Need: not answered yet", "Authority: not answered yet", "Timeline: not answered yet"]
    assert [i["dimension"] for i in body["items"]] == ["Need", "Budget", "Authority", "Timeline"]
    assert as_user(api, charlie).get("/api/answers/completeness/", {"lead": alices_lead.pk}).status_code == 404


def test_another_teams_criterion_answers_as_a_missing_one(api, alice, alices_lead, south, bant_criteria):
    """A criterion of a framework only South reads is, to North, an id that does not exist: the
    same 400 to the letter, so nobody can tell which of another team's criteria exist."""
    theirs = FrameworkFactory(name="South secret playbook", slug="south-playbook")
    theirs.teams.set([south])
    secret = CriterionFactory(framework=theirs, question="Is the South deal real?")
    answers = [
        as_user(api, alice).post("/api/answers/", {"lead": alices_lead.pk, "criterion": pk, "status": "unknown"}, format="json")
        for pk in (secret.pk, 99_999_999)
    ]

    assert [r.status_code for r in answers] == [400, 400]
    assert answers[0].json() == answers[1].json()



def test_ids_in_other_digits_are_missing_ones(api, alice, alices_lead, bant, bant_criteria):
    # int("١") is 1: DRF's lookup cast "١" to a pk, so /api/answers/١/ read answer 1 (qualify/ids.py).
    from qualify.pipeline.models import OpportunityStage

    answer = record_answer(alices_lead, criterion=bant_criteria["need"], by=alice, status="unknown")
    sub_stage = OpportunityStage.objects.order_by("id").first()

    def arabic(pk):
        return "".join(chr(0x0660 + int(d)) for d in str(pk))

    as_user(api, alice)
    for path in (f"/api/frameworks/{arabic(bant.pk)}/", f"/api/answers/{arabic(answer.pk)}/",
                 f"/api/opportunity-stages/{arabic(sub_stage.pk)}/"):
        assert api.get(path).status_code == 404, path
    assert api.get(f"/api/answers/{answer.pk}/").status_code == 200
