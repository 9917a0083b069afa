"""The queue sorts by the score now (decay included), explanations on the lead page, queue row,
handoff packet and API, with access checks."""

import datetime

import pytest

from qualify.scoring.ranking import score_now
import time_machine
from django.test.utils import CaptureQueriesContext
from django.db import connection

from qualify.handoff.packet import score_reasons
from qualify.leads.models import Lead, Persona, Seniority
from qualify.scoring import scores
from tests.conftest import login
from tests.factories import LeadFactory
from tests.scoring.conftest import NOW, event

QUEUE = "/queue/"


def _names(response):
    return [lead.first_name for lead in response.context["page"].leads]


@pytest.mark.django_db
def test_the_queue_order_follows_decay_without_any_rewrite(client, alice, north):
    """Fit-heavy 'Steady' (C-level, no events) vs engagement-heavy 'Buzz' (lots of recent activity,
    no fit): Buzz ranks first today; weeks later its engagement has decayed and Steady leads, with
    no score written in between."""
    with time_machine.travel(NOW, tick=False):
        steady = LeadFactory(team=north, owner=alice, first_name="Steady", seniority=Seniority.C_LEVEL,
                             persona=Persona.ECONOMIC_BUYER, stage="working")
        buzz = LeadFactory(team=north, owner=alice, first_name="Buzz", stage="working")
        buzz.account.segment = ""
        buzz.account.employee_count = 10
        buzz.account.industry = "Retail"
        buzz.account.save()
        steady.account.segment, steady.account.employee_count, steady.account.industry = "", 10, "Retail"
        steady.account.save()
        for i in range(4):
            event(buzz, "webinar_attended", days_ago=0.5 + i)
            event(buzz, "form_fill", days_ago=0.5 + i)
            event(buzz, "intent_surge", days_ago=0.2 + i)
            event(buzz, page_category="pricing", days_ago=0.3 + i)
        scores.score_leads([steady.pk, buzz.pk])
        computed = {l.pk: l.score_computed_at for l in Lead.objects.all()}
        assert _names(login(client, alice).get(QUEUE)) == ["Buzz", "Steady"]
        assert score_now(steady.__class__.objects.get(pk=steady.pk)) == 35
    with time_machine.travel(NOW + datetime.timedelta(days=40), tick=False):
        response = login(client, alice).get(QUEUE)  # the old session has expired
        assert _names(response) == ["Steady", "Buzz"]
        assert {l.pk: l.score_computed_at for l in Lead.objects.all()} == computed
        body = response.content.decode()
        assert f'<strong class="score-now">{score_now(Lead.objects.get(pk=buzz.pk))}</strong>' in body


@pytest.mark.django_db
def test_keyset_pages_walk_every_row_once_at_a_pinned_moment_with_constant_queries(client, alice, north):
    with time_machine.travel(NOW, tick=False):
        leads = [LeadFactory(team=north, owner=alice, first_name=f"L{i:02d}") for i in range(23)]
        for i, lead in enumerate(leads):
            for _ in range(i % 5):
                event(lead, page_category="pricing", days_ago=1 + i / 7)
        scores.score_leads([l.pk for l in leads], promote=False)
    login(client, alice)
    seen, after, counts = [], "", []
    with time_machine.travel(NOW + datetime.timedelta(hours=3), tick=True):
        while True:
            with CaptureQueriesContext(connection) as q:
                response = client.get(QUEUE, {"per": 5, "after": after})
            counts.append(len(q.captured_queries))
            page = response.context["page"]
            seen += [lead.pk for lead in page.leads]
            if not page.next_after:
                break
            after = page.next_after
    assert sorted(seen) == sorted(l.pk for l in leads) and len(seen) == len(set(seen))
    values = [score_now(l) for l in Lead.objects.filter(pk__in=seen)]
    assert len(set(counts)) == 1  # the same number of queries on every page


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_the_lead_page_shows_fit_and_engagement_apart_and_what_decayed(client, alice, alices_lead):
    Lead.objects.filter(pk=alices_lead.pk).update(seniority=Seniority.VP)
    event(alices_lead, page_category="pricing", days_ago=10)
    event(alices_lead, "demo_request", days_ago=0.1)
    scores.score_leads([alices_lead.pk])
    body = login(client, alice).get(f"/leads/{alices_lead.pk}/").content.decode()
    assert 'id="score-panel"' in body
    assert "VP" in body and "Pricing page view" in body and "Demo request" in body
    assert "decayed" in body and "Default v2" in body  # v2: scoring.0009 made the caps add up
    assert "At MQL" in body  # score history: the MQL snapshot
    assert "(mql)" not in body


@pytest.mark.django_db
def test_score_history_names_the_stage_by_its_label_when_the_kind_does_not(client, alice, alices_lead):
    from qualify.scoring.models import ScoreSnapshot, SnapshotKind

    ScoreSnapshot.objects.create(lead=alices_lead, kind=SnapshotKind.OUTCOME, stage="won", on=datetime.date(2026, 12, 1), score=88)
    ScoreSnapshot.objects.create(lead=alices_lead, kind=SnapshotKind.HANDOFF, stage="handed_off", on=datetime.date(2026, 11, 20), score=70)
    body = login(client, alice).get(f"/leads/{alices_lead.pk}/").content.decode()
    assert "At outcome (Won): <strong>88</strong>" in body
    assert "At handoff: <strong>70</strong>" in body


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_the_queue_row_expands_to_the_breakdown_and_outsiders_get_404(client, alice, charlie, mark, alices_lead):
    event(alices_lead, page_category="pricing", days_ago=1)
    scores.score_leads([alices_lead.pk], promote=False)
    url = f"/leads/{alices_lead.pk}/score/"
    partial = login(client, alice).get(url, HTTP_HX_REQUEST="true")
    assert partial.status_code == 200 and b"Pricing page view" in partial.content and b"<html" not in partial.content
    assert client.get(url).status_code == 200  # the same as a page without JavaScript
    assert login(client, mark).get(url).status_code == 200  # marketing reads
    assert login(client, charlie).get(url).status_code == 404


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_the_api_explains_a_score_and_hides_other_teams_leads(client, alice, charlie, alices_lead):
    event(alices_lead, "email_click", days_ago=3, link="https://x/case-study")
    scores.score_leads([alices_lead.pk], promote=False)
    body = login(client, alice).get(f"/api/scores/{alices_lead.pk}/").json()
    assert body["version"] == "Default v2" and body["score"] == score_now(Lead.objects.get(pk=alices_lead.pk))
    labels = {line["label"]: line for line in body["lines"]}
    assert labels["Email click"]["kind"] == "engagement" and labels["Email click"]["decayed"] > 0
    assert login(client, charlie).get(f"/api/scores/{alices_lead.pk}/").status_code == 404


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_the_handoff_packet_lists_the_rules_behind_the_score(alices_lead):
    Lead.objects.filter(pk=alices_lead.pk).update(persona=Persona.CHAMPION)
    event(alices_lead, "webinar_attended", days_ago=2)
    scores.score_leads([alices_lead.pk], promote=False)
    reasons = score_reasons(Lead.objects.select_related("account").get(pk=alices_lead.pk))
    assert {"Champion", "Webinar attended"} <= {r["label"] for r in reasons}
    assert all(isinstance(r["points"], float) for r in reasons)


@pytest.mark.django_db
def test_admin_pages_render_for_revops(client, rita):
    from django.db.models import F

    from qualify.scoring.models import ScoringModel
    from qualify.scoring import runs

    model = ScoringModel.objects.get(is_default=True)
    run = runs.start_recompute(model.current_version)
    login(client, rita)
    rita.is_superuser = True
    rita.save()
    for url in ["/admin/scoring/scoringmodel/", f"/admin/scoring/scoringmodel/{model.pk}/change/",
                "/admin/scoring/scorerun/", f"/admin/scoring/scorerun/{run.pk}/change/",
                "/admin/scoring/modelversion/", "/admin/scoring/scoresnapshot/",
                "/admin/scoring/scoringmodel/?q=pricing"]:
        response = client.get(url)
        assert response.status_code == 200, url
    body = client.get(f"/admin/scoring/scorerun/{run.pk}/change/").content.decode()
    assert "<progress" in body and 'http-equiv="refresh"' in body
    model.rules.filter(pk=model.rules.first().pk).update(points=F("points") + 1)  # a draft that differs
    response = client.post(f"/admin/scoring/scoringmodel/{model.pk}/publish/")
    assert response.status_code == 302
    assert model.versions.count() == 3  # v1 shipped, v2 by scoring.0009, v3 published here


@pytest.mark.django_db
def test_the_stored_score_changes_exactly_when_the_displayed_value_does(north, alice):
    from qualify.scoring.decay import refresh_due

    with time_machine.travel(NOW, tick=False):
        lead = LeadFactory(team=north, owner=alice)
        for i in range(3):
            event(lead, "webinar_attended", days_ago=0.1 + i / 10)
        scores.score_leads([lead.pk], promote=False)
    from qualify.scoring.ranking import score_now

    lead.refresh_from_db()
    shown, due = lead.score, lead.score_changes_at
    assert shown == score_now(lead, NOW) and due is not None and due > NOW
    before, after = due - datetime.timedelta(seconds=2), due + datetime.timedelta(seconds=2)
    assert score_now(lead, before) == shown and score_now(lead, after) == shown - 1
    assert refresh_due(now=before) == 0  # nothing due yet: no write
    assert refresh_due(now=after) == 1
    lead.refresh_from_db()
    assert lead.score == shown - 1 and lead.score_changes_at > after


@pytest.mark.django_db
def test_the_queue_applies_changes_due_since_the_last_sweep_before_reading(client, alice, north):
    with time_machine.travel(NOW, tick=False):
        a = LeadFactory(team=north, owner=alice, first_name="Fading", stage="working")
        b = LeadFactory(team=north, owner=alice, first_name="Level", stage="working")
        for i in range(2):
            event(a, "webinar_attended", days_ago=0.1 + i / 10)
        event(b, "webinar_attended", days_ago=0.1)
        scores.score_leads([a.pk, b.pk], promote=False)
    with time_machine.travel(NOW + datetime.timedelta(days=60), tick=False):
        response = login(client, alice).get(QUEUE)
        shown = {lead.first_name: lead.score for lead in response.context["page"].leads}
        assert shown == {l.first_name: score_now(l) for l in Lead.objects.filter(pk__in=[a.pk, b.pk])}


@pytest.mark.django_db
def test_an_event_that_leaves_the_shown_score_alone_keeps_the_earlier_due_time(north, alice):
    """Keeping score_changes_at keeps the rewrite HOT (no index of leads_lead written); the early due
    time costs one refresh that finds the same score and stores the exact time."""
    from qualify.scoring.decay import ARGS, refresh_due

    def exact_due(at):
        with connection.cursor() as c:
            c.execute(f"SELECT score, scoring_next_change({ARGS}, %s) FROM leads_lead WHERE id = %s", [at, lead.pk])
            return c.fetchone()

    with time_machine.travel(NOW, tick=False):
        lead = LeadFactory(team=north, owner=alice)
        # Engagement far above the model's engagement cap: the shown score stays at the cap for weeks.
        for i in range(4):
            event(lead, "demo_request", days_ago=1 + i / 10)
        scores.score_leads([lead.pk], promote=False)
        lead.refresh_from_db()
        shown, due = lead.score, lead.score_changes_at
        # One more: more engagement, the same shown score, a later exact change.
        event(lead, "demo_request", days_ago=0.5)
        scores.score_leads([lead.pk], promote=False)
    lead.refresh_from_db()
    score, exact = exact_due(NOW)
    assert score == shown and lead.score_engagement_at == NOW
    assert lead.score_changes_at == due and due < exact  # kept: earlier than the exact time
    assert refresh_due(now=due + datetime.timedelta(milliseconds=1)) == 1
    lead.refresh_from_db()
    assert lead.score == shown and lead.score_changes_at == exact
