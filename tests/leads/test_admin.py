"""The lead admin is a door like the others: what the verbs keep (a lead's team) is read-only there."""

from __future__ import annotations

from django.urls import reverse

from qualify.leads.models import Lead
from tests.factories import AccountFactory, LeadFactory, UserFactory
from tests.scoring.test_triggers import as_submitted


def test_the_admin_change_form_keeps_a_lead_in_its_team(client, alice, north, south):
    """The team was editable: moving a lead to South kept its North account (an account of
    another team, which the API refuses) and its North owner (whom assign would refuse)."""
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    lead = LeadFactory(team=north, owner=alice, account=AccountFactory(team=north))
    client.force_login(root)
    url = reverse("admin:leads_lead_change", args=[lead.pk])
    data = as_submitted(client.get(url))
    response = client.post(url, {**data, "team": south.pk, "phone": "+1 555 0100"})
    assert response.status_code == 302
    lead = Lead.objects.get(pk=lead.pk)
    assert (lead.team_id, lead.phone) == (north.pk, "+1 555 0100")
