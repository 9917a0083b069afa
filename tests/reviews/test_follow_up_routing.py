"""A "needs follow-up" task goes to whoever can act on it, and they are told."""

import datetime

import pytest
from django.utils import timezone

from qualify.errors import DomainError
from qualify.notifications.models import Notification, NotificationKind
from qualify.reviews.models import FollowUpTask, Verdict
from qualify.reviews.verdicts import record_verdict


def _follow_up(item, maria, **kw):
    return record_verdict(item, by=maria, verdict=Verdict.NEEDS_FOLLOW_UP, note="Authority is not evidenced",
                          follow_up="Find who signs and add the evidence", due_on=timezone.localdate() + datetime.timedelta(days=3),
                          **kw)


def test_about_the_qualification_it_goes_to_the_sdr_who_qualified_it(queue, maria, erin):
    item = queue.items.order_by("position").first()
    assert item.rep is not None and item.rep != item.lead.owner  # an SDR qualified it, the AE owns it
    _follow_up(item, maria)
    task = FollowUpTask.objects.get()
    assert task.assignee == item.rep
    note = Notification.objects.get(kind=NotificationKind.REVIEW_FOLLOW_UP)
    assert note.user == item.rep and note.url == "/tasks/" and "Find who signs" in note.body
    assert not Notification.objects.filter(user=erin, kind=NotificationKind.REVIEW_FOLLOW_UP).exists()


def test_about_the_deal_it_goes_to_the_owner(queue, maria, erin):
    item = queue.items.order_by("position").first()
    _follow_up(item, maria, about="deal")
    assert FollowUpTask.objects.get().assignee == erin
    assert Notification.objects.get(kind=NotificationKind.REVIEW_FOLLOW_UP).user == erin


def test_an_sdr_who_left_the_team_leaves_it_to_the_owner(queue, maria, erin):
    item = queue.items.order_by("position").first()
    item.rep.memberships.all().delete()
    _follow_up(item, maria)
    assert FollowUpTask.objects.get().assignee == erin


def test_revising_the_target_moves_the_open_task(queue, maria, erin):
    item = queue.items.order_by("position").first()
    _follow_up(item, maria)
    _follow_up(item, maria, about="deal")
    assert FollowUpTask.objects.get().assignee == erin
    assert Notification.objects.filter(kind=NotificationKind.REVIEW_FOLLOW_UP).count() == 2


def test_unknown_target_changes_nothing(queue, maria):
    item = queue.items.order_by("position").first()
    with pytest.raises(DomainError, match="qualification or the deal"):
        _follow_up(item, maria, about="whoever")
    item.refresh_from_db()
    assert item.verdict == "" and not FollowUpTask.objects.exists() and not Notification.objects.exists()


def test_the_verdict_form_posts_the_target(client, queue, maria):
    from tests.conftest import login

    item = queue.items.order_by("position").first()
    login(client, maria)
    html = client.get(f"/reviews/items/{item.pk}/").content.decode()
    assert 'name="about" value="qualification"' in html and 'name="about" value="deal"' in html
    client.post(f"/reviews/items/{item.pk}/verdict/", {
        "verdict": "needs_follow_up", "note": "Authority is not evidenced", "follow_up": "Find who signs please",
        "due_on": (timezone.localdate() + datetime.timedelta(days=2)).isoformat(), "about": "deal"})
    assert FollowUpTask.objects.get().assignee == item.lead.owner


def test_an_sdr_who_left_the_team_gets_no_task_for_a_lead_in_the_pool(queue, maria):
    """The lead went back to the pool and its SDR left the team: nobody on the team can act on the
    follow-up, so the verdict says so rather than putting it on the /tasks/ of someone gone."""
    item = queue.items.order_by("position").first()
    item.lead.owner = None
    item.lead.save(update_fields=["owner"])
    item.rep.memberships.all().delete()
    with pytest.raises(DomainError, match="no owner to follow up"):
        _follow_up(item, maria)
    assert not FollowUpTask.objects.exists()


def test_about_the_deal_a_lead_in_the_pool_goes_to_its_sdr_only_while_on_the_team(queue, maria):
    item = queue.items.order_by("position").first()
    item.lead.owner = None
    item.lead.save(update_fields=["owner"])
    _follow_up(item, maria, about="deal")
    assert FollowUpTask.objects.get().assignee == item.rep
