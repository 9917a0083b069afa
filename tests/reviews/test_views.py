import datetime

import pytest
from django.utils import timezone

from qualify.reviews.models import FollowUpTask, TaskStatus, Verdict
from qualify.reviews.verdicts import record_verdict
from tests.conftest import login

HTMX = {"HTTP_HX_REQUEST": "true"}


def item_of(queue, n=1):
    return queue.items.select_related("lead").get(position=n)


def test_reviews_list_shows_progress_to_the_reviewer(client, queue, maria):
    record_verdict(item_of(queue), by=maria, verdict=Verdict.CONFIRMED)
    html = login(client, maria).get("/reviews/").content.decode()
    assert "Weekly SQL review" in html
    assert "1 of 3 reviewed" in html


def test_the_other_queues_say_there_are_none_other_not_that_there_are_none_yet(client, queue, maria, mark):
    """Maria's one queue sits under "Waiting for you"; the empty "Other queues" below it says so,
    not "No review queues yet"."""
    html = login(client, maria).get("/reviews/").content.decode()
    assert "Waiting for you" in html and "No other queues." in html and "No review queues yet" not in html
    # Someone with nothing waiting sees the queue in the one list.
    html = login(client, mark).get("/reviews/").content.decode()
    assert "Waiting for you" not in html and "Weekly SQL review" in html and "No other queues." not in html


@pytest.mark.parametrize("who", ["alice", "erin"])
def test_sdrs_and_aes_may_not_open_reviews(client, queue, who, request):
    assert login(client, request.getfixturevalue(who)).get("/reviews/").status_code == 403


def test_another_teams_manager_gets_404_for_queue_and_item(client, queue, south):
    from accounts.models import Role
    from tests.factories import UserFactory

    login(client, UserFactory.with_role(Role.MANAGER, south, username="sven"))
    assert client.get(f"/reviews/{queue.pk}/").status_code == 404
    assert client.get(f"/reviews/items/{item_of(queue).pk}/").status_code == 404
    assert client.post(f"/reviews/items/{item_of(queue).pk}/verdict/", {"verdict": "confirmed"}).status_code == 404


def test_reps_get_403_for_any_queue_and_item(client, queue, alice, erin, charlie):
    """Reviews are not for SDRs and AEs who review nothing (README, Security): 403 as /reviews/
    answers them, for their own team's queue, another team's and a missing one alike."""
    item = item_of(queue)
    for user in (alice, erin, charlie):
        login(client, user)
        for queue_id, item_id in ((queue.pk, item.pk), (99_999_999, 99_999_999)):
            assert client.get(f"/reviews/{queue_id}/").status_code == 403
            assert client.get(f"/reviews/items/{item_id}/").status_code == 403
            assert client.post(f"/reviews/items/{item_id}/verdict/", {"verdict": "confirmed"}).status_code == 403
            assert client.get(f"/api/review-queues/{queue_id}/").status_code == 403
            assert client.get(f"/api/review-items/{item_id}/").status_code == 403
    item.refresh_from_db()
    assert item.verdict == ""


def test_an_ae_who_reviews_a_queue_opens_it(client, queue, erin):
    """The plan's reviewer may be of any role: the 403 is for those who review nothing."""
    queue.reviewer = erin
    queue.save(update_fields=["reviewer"])
    login(client, erin)
    assert client.get(f"/reviews/{queue.pk}/").status_code == 200
    assert client.get(f"/reviews/items/{item_of(queue).pk}/").status_code == 200


def test_a_reviewer_who_left_the_team_no_longer_opens_or_works_its_queue(client, queue, erin, south):
    """Before: an AE reviewer moved to another team still read the queue's leads (answers, packets,
    notes) and gave verdicts. Now a 403, as for anyone who reviews nothing; the managers carry on."""
    from accounts.models import Membership, Role

    queue.reviewer = erin
    queue.save(update_fields=["reviewer"])
    Membership.objects.filter(user=erin, team=queue.team).delete()
    Membership.objects.create(user=erin, team=south, role=Role.AE)
    item = item_of(queue)
    login(client, erin)
    assert client.get(f"/reviews/{queue.pk}/").status_code == 403
    assert client.get(f"/reviews/items/{item.pk}/").status_code == 403
    assert client.get(f"/api/review-items/{item.pk}/").status_code == 403
    item.refresh_from_db()
    assert item.verdict == ""


def test_marketing_reads_the_queue_but_gets_403_on_verdicts(client, queue, mark):
    login(client, mark)
    assert client.get(f"/reviews/{queue.pk}/").status_code == 200
    page = client.get(f"/reviews/items/{item_of(queue).pk}/").content.decode()
    assert "You can read this review but not give verdicts" in page
    assert client.post(f"/reviews/items/{item_of(queue).pk}/verdict/", {"verdict": "confirmed"}).status_code == 403
    assert item_of(queue).verdict == ""


def test_queue_page_lists_items_and_the_sampling_record(client, queue, maria):
    html = login(client, maria).get(f"/reviews/{queue.pk}/?explain=1").content.decode()
    for item in queue.items.select_related("lead"):
        assert item.lead.full_name in html
    assert str(queue.seed) in html
    assert "the same 3 leads, in the same order" in html


def test_queue_page_query_count_does_not_grow_with_items(client, plan, north, alice, erin, maria, django_assert_max_num_queries):
    from qualify.reviews.sampling import build_queue

    from .conftest import accepted_lead

    for i in range(12):
        accepted_lead(north, sdr=alice, ae=erin, first_name=f"Q{i}")
    plan.sample_size = 12
    plan.save()
    queue, _ = build_queue(plan, seed=9)
    login(client, maria)
    with django_assert_max_num_queries(10):
        assert client.get(f"/reviews/{queue.pk}/").status_code == 200


def test_item_page_shows_answers_packet_and_timeline(client, queue, maria):
    item = item_of(queue)
    html = login(client, maria).get(f"/reviews/items/{item.pk}/").content.decode()
    assert item.lead.full_name in html
    assert "Qualification answers" in html
    assert "Handoff packet" in html
    assert "Handed off" in html  # the stage history on the timeline
    assert "Item 1 of 3" in html


def test_htmx_verdict_rerenders_the_panel_with_progress(client, queue, maria):
    item = item_of(queue)
    login(client, maria)
    r = client.post(f"/reviews/items/{item.pk}/verdict/", {"verdict": "confirmed", "note": ""}, **HTMX)
    html = r.content.decode()
    assert r.status_code == 200
    assert 'id="verdict-panel"' in html and "<html" not in html
    assert "1 of 3 reviewed" in html
    assert "Next unreviewed item" in html
    assert item_of(queue).verdict == Verdict.CONFIRMED


def test_bad_verdict_shows_the_error_and_changes_nothing(client, queue, maria):
    item = item_of(queue)
    login(client, maria)
    r = client.post(f"/reviews/items/{item.pk}/verdict/", {"verdict": "false_sql", "note": "no"}, **HTMX)
    assert r.status_code == 200
    assert "at least 10 characters" in r.content.decode()
    assert item_of(queue).verdict == ""


def test_bad_due_date_is_refused(client, queue, maria):
    item = item_of(queue)
    login(client, maria)
    r = client.post(f"/reviews/items/{item.pk}/verdict/", {"verdict": "needs_follow_up", "note": "No sponsor at all",
                    "follow_up": "Find the sponsor please", "due_on": "soon"}, **HTMX)
    assert "not a date" in r.content.decode()
    assert not FollowUpTask.objects.exists()


def test_plain_post_redirects_to_the_next_unreviewed_item(client, queue, maria):
    login(client, maria)
    r = client.post(f"/reviews/items/{item_of(queue, 1).pk}/verdict/", {"verdict": "confirmed"})
    assert r.status_code == 302 and r["Location"] == f"/reviews/items/{item_of(queue, 2).pk}/"


def test_follow_up_task_shows_on_the_owners_tasks_page_and_nav(client, queue, maria, erin):
    item = item_of(queue)
    record_verdict(item, by=maria, verdict=Verdict.NEEDS_FOLLOW_UP, note="No dated next step",
                   follow_up="Agree a dated next step with the buyer", due_on=timezone.localdate() + datetime.timedelta(days=2), about="deal")
    html = login(client, erin).get("/tasks/").content.decode()
    assert "Agree a dated next step with the buyer" in html
    assert "1 open" in html
    assert item.lead.full_name in html


def test_owner_marks_task_done_with_htmx(client, queue, maria, erin):
    record_verdict(item_of(queue), by=maria, verdict=Verdict.NEEDS_FOLLOW_UP, note="No dated next step",
                   follow_up="Agree a dated next step", due_on=timezone.localdate(), about="deal")
    task = FollowUpTask.objects.get()
    login(client, erin)
    r = client.post(f"/tasks/{task.pk}/done/", {"note": "Done on Tuesday's call"}, **HTMX)
    assert r.status_code == 200 and "Done" in r.content.decode()
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE


def test_others_cannot_see_or_close_someone_elses_task(client, queue, maria, alice, charlie):
    record_verdict(item_of(queue), by=maria, verdict=Verdict.NEEDS_FOLLOW_UP, note="No dated next step",
                   follow_up="Agree a dated next step", due_on=timezone.localdate(), about="deal")
    task = FollowUpTask.objects.get()
    for user in (alice, charlie):
        login(client, user)
        assert client.post(f"/tasks/{task.pk}/done/").status_code == 404
        assert "Agree a dated next step" not in client.get("/tasks/").content.decode()
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN


def test_manager_sees_team_tasks(client, queue, maria):
    record_verdict(item_of(queue), by=maria, verdict=Verdict.NEEDS_FOLLOW_UP, note="No dated next step",
                   follow_up="Agree a dated next step", due_on=timezone.localdate())
    html = login(client, maria).get("/tasks/?scope=team").content.decode()
    assert "Agree a dated next step" in html


def test_tasks_page_query_count_is_fixed(client, queue, maria, erin, django_assert_max_num_queries):
    for n in (1, 2, 3):
        record_verdict(item_of(queue, n), by=maria, verdict=Verdict.NEEDS_FOLLOW_UP, note="No dated next step",
                       follow_up="Agree a dated next step", due_on=timezone.localdate())
    login(client, erin)
    with django_assert_max_num_queries(7):
        assert client.get("/tasks/").status_code == 200


def test_a_review_queue_page_marks_reviews_not_the_lead_queue_as_current(client, queue, maria):
    """reviews:queue and leads:queue share the url name "queue": the navigation compares the view name."""
    html = login(client, maria).get(f"/reviews/{queue.pk}/").content.decode()
    assert 'href="/queue/" aria-current="page"' not in html
    assert 'href="/reviews/" aria-current="page"' in html
    assert 'href="/queue/" aria-current="page"' in login(client, maria).get("/queue/").content.decode()
