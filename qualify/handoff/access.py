"""Which handoffs a user may see: those of leads they may see, plus the ones they sent."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q
from django.http import Http404

from qualify.leads.access import visible_leads_filter
from qualify.leads.models import Lead

from .models import Handoff

if TYPE_CHECKING:
    from accounts.models import User


def visible_handoffs(user: User):
    if user.is_admin:
        return Handoff.objects.all()
    leads = Lead.objects.filter(visible_leads_filter(user)).values("pk")
    return Handoff.objects.filter(Q(lead__in=leads) | Q(from_user=user) | Q(to_user=user))


def access_handoff(user: User, handoff_id: int | str) -> Handoff:
    try:
        return visible_handoffs(user).select_related("lead__account", "from_user", "to_user", "reason").get(pk=int(handoff_id))
    except (Handoff.DoesNotExist, ValueError, TypeError):
        raise Http404("No such handoff.")
