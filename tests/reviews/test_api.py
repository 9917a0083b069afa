import datetime

from django.utils import timezone

from qualify.reviews.models import FollowUpTask, TaskStatus
from tests.conftest import login

JSON = "application/json"


def test_reviewer_lists_queues_with_progress_and_reads_the_sample(client, queue, maria):
    login(client, maria)
    listing = client.get("/api/review-queues/").json()["results"]
    assert [(q["id"], q["total"], q["reviewed"]) for q in listing] == [(queue.pk, 3, 0)]
    detail = client.get(f"/api/review-queues/{queue.pk}/").json()
    assert detail["seed"] == 1234 and detail["population"] == queue.population and len(detail["items"]) == 3


def test_verdict_through_the_api_opens_the_task(client, queue, maria, erin):
    item = queue.items.get(position=1)
    login(client, maria)
    due = (timezone.localdate() + datetime.timedelta(days=3)).isoformat()
    r = client.post(f"/api/review-items/{item.pk}/verdict/", {"verdict": "needs_follow_up", "note": "No sponsor named at all",
                    "follow_up": "Name the sponsor and book a call", "due_on": due, "about": "deal"}, content_type=JSON)
    assert r.status_code == 200 and r.json()["verdict"] == "needs_follow_up"
    task = FollowUpTask.objects.get()
    login(client, erin)
    assert [t["id"] for t in client.get("/api/follow-up-tasks/").json()["results"]] == [task.pk]
    done = client.post(f"/api/follow-up-tasks/{task.pk}/done/", {"note": "Called"}, content_type=JSON)
    assert done.status_code == 200 and done.json()["status"] == TaskStatus.DONE


def test_bad_verdict_is_a_400_and_changes_nothing(client, queue, maria):
    item = queue.items.get(position=1)
    login(client, maria)
    r = client.post(f"/api/review-items/{item.pk}/verdict/", {"verdict": "false_sql", "note": ""}, content_type=JSON)
    assert r.status_code == 400 and "note" in r.json()
    item.refresh_from_db()
    assert item.verdict == ""


def test_api_access_rules(client, queue, alice, charlie, mark):
    item = queue.items.get(position=1)
    login(client, alice)
    assert client.get("/api/review-queues/").status_code == 403
    login(client, charlie)  # an SDR: reviews are not for his role, whichever team's item it is
    assert client.get(f"/api/review-items/{item.pk}/").status_code == 403
    login(client, mark)
    assert client.get(f"/api/review-queues/{queue.pk}/").status_code == 200
    assert client.post(f"/api/review-items/{item.pk}/verdict/", {"verdict": "confirmed"}, content_type=JSON).status_code == 403


def test_plans_and_sub_stages_are_listed(client, queue, maria):
    login(client, maria)
    plans = client.get("/api/review-plans/").json()
    assert plans[0]["name"] == "Weekly SQL review" and len(plans[0]["red_flags"]) == 6
    assert [s["name"] for s in client.get("/api/opportunity-stages/").json()][:2] == ["Discovery", "Demo done"]


def test_queue_list_query_count_is_fixed(client, queue, maria, django_assert_max_num_queries):
    login(client, maria)
    with django_assert_max_num_queries(6):
        assert client.get("/api/review-queues/").status_code == 200


def _arabic(pk: int) -> str:
    return "".join(chr(0x0660 + int(d)) for d in str(pk))


def test_ids_in_other_digits_are_missing_ones(client, queue, maria, erin):
    # int("١٢") is 12: /api/review-items/١٢/ answered item 12, where /api/leads/١٢/ is a 404 (qualify/ids.py).
    item = queue.items.get(position=1)
    login(client, maria)
    due = (timezone.localdate() + datetime.timedelta(days=3)).isoformat()
    client.post(f"/api/review-items/{item.pk}/verdict/", {"verdict": "needs_follow_up", "note": "No sponsor named at all",
                "follow_up": "Name the sponsor and book a call", "due_on": due, "about": "deal"}, content_type=JSON)
    task = FollowUpTask.objects.get()
    assert client.get(f"/api/review-queues/{_arabic(queue.pk)}/").status_code == 404
    assert client.get(f"/api/review-items/{_arabic(item.pk)}/").status_code == 404
    r = client.post(f"/api/review-items/{_arabic(item.pk)}/verdict/", {"verdict": "confirmed"}, content_type=JSON)
    assert r.status_code == 404
    assert client.get(f"/api/follow-up-tasks/{_arabic(task.pk)}/").status_code == 404
    assert client.post(f"/api/follow-up-tasks/{_arabic(task.pk)}/done/", {}, content_type=JSON).status_code == 404
    assert client.get(f"/api/review-plans/{_arabic(queue.plan_id)}/").status_code == 404
    assert client.get(f"/api/review-plans/{queue.plan_id}/").status_code == 200
    item.refresh_from_db()
    task.refresh_from_db()
    assert item.verdict == "needs_follow_up" and task.status == TaskStatus.OPEN
