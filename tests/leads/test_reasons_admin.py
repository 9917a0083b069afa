"""Disqualify reasons are retired, not deleted, once history points at them."""

from django.urls import reverse

from qualify.leads import lifecycle
from qualify.leads.models import DisqualifyReason, Stage
from qualify.leads.tasks import recycle_nurtured
from tests.factories import LeadFactory, UserFactory


def test_reason_in_use_cannot_be_deleted_but_can_be_retired(client, alice, north):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    used = DisqualifyReason.objects.get(name="No ICP fit")
    lifecycle.disqualify(LeadFactory(team=north, owner=alice), reason=used, note="Two-person agency, no fit", by=alice)
    unused = DisqualifyReason.objects.create(name="Spam", action="close", note_required=False)
    client.force_login(admin)
    page = client.get(reverse("admin:leads_disqualifyreason_delete", args=[used.pk]))
    assert page.status_code == 403
    assert client.post(reverse("admin:leads_disqualifyreason_delete", args=[used.pk]), {"post": "yes"}).status_code == 403
    assert DisqualifyReason.objects.filter(pk=used.pk).exists()
    client.post(reverse("admin:leads_disqualifyreason_delete", args=[unused.pk]), {"post": "yes"})
    assert not DisqualifyReason.objects.filter(pk=unused.pk).exists()
    used.active = False
    used.save()
    assert used not in DisqualifyReason.objects.filter(active=True)


def test_recycle_task_runs_the_sweep(alice, north):
    import datetime

    from django.utils import timezone

    lead = LeadFactory(team=north, owner=alice, stage=Stage.NURTURE, recycle_on=timezone.localdate() - datetime.timedelta(days=2))
    assert recycle_nurtured() == 1
    assert recycle_nurtured() == 0
    lead.refresh_from_db()
    assert lead.stage == Stage.WORKING
