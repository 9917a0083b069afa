import pytest

from qualify.frameworks.answers import record_answer
from qualify.frameworks.models import Answer, Criterion
from tests.conftest import login
from tests.frameworks.factories import AnswerFactory, CriterionFactory, FrameworkFactory

EVIDENCE = "CFO confirmed the budget line on the 3 May call."
HTMX = {"HTTP_HX_REQUEST": "true"}


def url(lead) -> str:
    return f"/leads/{lead.pk}/answers/"


def test_owner_sees_the_panel_with_questions_and_missing_list(client, alice, alices_lead, bant_criteria):
    response = login(client, alice).get(url(alices_lead), **HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="answers-panel-{alices_lead.pk}"' in html
    assert "0% complete" in html
    assert "Missing before handoff" in html
    assert bant_criteria["budget"].question in html
    assert 'hx-post="/leads/%d/answers/"' % alices_lead.pk in html
    assert 'name="csrfmiddlewaretoken"' in html


def test_owner_posts_an_answer_via_htmx_and_gets_the_updated_panel(client, alice, alices_lead, bant_criteria):
    budget = bant_criteria["budget"]

    response = login(client, alice).post(
        url(alices_lead), {"criterion": budget.pk, "status": "confirmed", "evidence": EVIDENCE}, **HTMX
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "25% complete" in html  # Budget weighs 25 of BANT's 100
    assert EVIDENCE in html
    assert "Saved" in html
    answer = Answer.objects.get()
    assert (answer.lead, answer.criterion, answer.author, answer.status) == (alices_lead, budget, alice, "confirmed")


def test_refused_answer_rerenders_with_the_error_and_writes_nothing(client, alice, alices_lead, bant_criteria):
    budget = bant_criteria["budget"]

    response = login(client, alice).post(
        url(alices_lead), {"criterion": budget.pk, "status": "confirmed", "evidence": ""}, **HTMX
    )

    assert response.status_code == 200  # htmx swaps 200s only; the message is in the panel
    html = response.content.decode()
    assert 'role="alert"' in html
    assert "needs evidence" in html
    assert "0% complete" in html
    assert not Answer.objects.exists()


def test_unknown_criterion_is_refused(client, alice, alices_lead):
    response = login(client, alice).post(url(alices_lead), {"criterion": "nope", "status": "unknown"}, **HTMX)

    assert response.status_code == 200
    assert "Choose a criterion" in response.content.decode()
    assert not Answer.objects.exists()


def test_criterion_of_another_framework_is_refused_with_the_error_on_top(client, alice, alices_lead):
    champion = Criterion.objects.get(framework__slug="meddic", key="champion")

    response = login(client, alice).post(url(alices_lead), {"criterion": champion.pk, "status": "unknown"}, **HTMX)

    html = response.content.decode()
    assert '<div class="error" role="alert">This criterion is not part of the framework' in html
    assert not Answer.objects.exists()


def test_post_without_htmx_redirects_to_the_lead_page(client, alice, alices_lead, bant_criteria):
    response = login(client, alice).post(
        url(alices_lead), {"criterion": bant_criteria["need"].pk, "status": "unknown"}
    )

    assert response.status_code == 302
    assert response["Location"] == f"/leads/{alices_lead.pk}/"
    assert Answer.objects.count() == 1


def test_refused_post_without_htmx_redirects_with_a_message(client, alice, alices_lead, bant_criteria):
    response = login(client, alice).post(
        url(alices_lead), {"criterion": bant_criteria["need"].pk, "status": "partial"}, follow=False
    )

    assert response.status_code == 302
    assert not Answer.objects.exists()


def test_manager_can_answer_on_a_team_lead(client, maria, alices_lead, bant_criteria):
    response = login(client, maria).post(
        url(alices_lead), {"criterion": bant_criteria["need"].pk, "status": "unknown"}, **HTMX
    )

    assert response.status_code == 200
    assert Answer.objects.get().author == maria


def test_outsider_gets_404_on_get_and_post(client, charlie, alices_lead, bant_criteria):
    login(client, charlie)

    assert client.get(url(alices_lead), **HTMX).status_code == 404
    response = client.post(url(alices_lead), {"criterion": bant_criteria["need"].pk, "status": "unknown"}, **HTMX)
    assert response.status_code == 404
    assert not Answer.objects.exists()


def test_marketing_reads_but_cannot_answer(client, mark, alices_lead, bant_criteria):
    login(client, mark)

    response = client.get(url(alices_lead), **HTMX)
    assert response.status_code == 200
    assert "hx-post" not in response.content.decode()
    assert "can read these answers but not change them" in response.content.decode()

    response = client.post(url(alices_lead), {"criterion": bant_criteria["need"].pk, "status": "unknown"}, **HTMX)
    assert response.status_code == 403
    assert not Answer.objects.exists()


def test_anonymous_is_sent_to_login(client, alices_lead):
    response = client.get(url(alices_lead))

    assert response.status_code == 302
    assert "login" in response["Location"]


def test_stale_answer_shows_the_badge_and_the_old_wording(client, alice, alices_lead, bant_criteria):
    budget = bant_criteria["budget"]
    old_question = budget.question
    record_answer(alices_lead, criterion=budget, by=alice, status="confirmed", evidence=EVIDENCE)
    budget.question = "Has a budget owner confirmed funds for this project?"
    budget.save()

    html = login(client, alice).get(url(alices_lead), **HTMX).content.decode()

    assert "stale: answered an earlier wording" in html
    assert old_question in html
    assert budget.question in html


def test_earlier_answers_are_listed(client, alice, alices_lead, bant_criteria):
    record_answer(alices_lead, criterion=bant_criteria["need"], by=alice, status="unknown")
    record_answer(alices_lead, criterion=bant_criteria["need"], by=alice, status="confirmed", evidence=EVIDENCE)

    html = login(client, alice).get(url(alices_lead), **HTMX).content.decode()

    assert "Earlier answers (1)" in html


@pytest.mark.parametrize("answers_per_criterion", [1, 6])
def test_panel_query_count_does_not_grow_with_answers(
    client, alice, alices_lead, bant_criteria, answers_per_criterion, django_assert_num_queries
):
    for criterion in bant_criteria.values():
        AnswerFactory.create_batch(answers_per_criterion, lead=alices_lead, criterion=criterion)
    login(client, alice)

    # session, user, lead (access_lead), memberships, then completeness: framework, criteria, answers.
    with django_assert_num_queries(7):
        response = client.get(url(alices_lead), **HTMX)
    assert response.status_code == 200


def test_lead_page_includes_the_panel(client, alice, alices_lead):
    response = login(client, alice).get(f"/leads/{alices_lead.pk}/")

    assert response.status_code == 200
    assert f'id="answers-panel-{alices_lead.pk}"' in response.content.decode()


@pytest.mark.parametrize("raw", ["teams", "missing", "arabic"])
def test_another_teams_criterion_answers_as_a_missing_one(client, alice, alices_lead, south, raw):
    # A framework for South only: its criterion is none of North's business, so posting its id
    # must say what a missing id says, not "not part of the framework" (which tells it exists).
    south_only = FrameworkFactory(name="South way", slug="south-way", position=5)
    south_only.teams.set([south])
    secret = CriterionFactory(framework=south_only, key="secret", dimension="Secret")
    posted = {"teams": str(secret.pk), "missing": str(secret.pk + 1000), "arabic": "".join(
        chr(0x0660 + int(d)) for d in str(secret.pk))}[raw]

    response = login(client, alice).post(url(alices_lead), {"criterion": posted, "status": "unknown"}, **HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Choose a criterion" in html and "not part of the framework" not in html
    assert not Answer.objects.exists()
