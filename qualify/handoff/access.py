"""Which handoffs a user may see: those of leads they may see, plus the ones they sent."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404

from qualify.ids import given_id
from qualify.leads.access import visible_leads_filter
from qualify.leads.models import Lead

from .models import Handoff

if TYPE_CHECKING:
    from accounts.models import User


def visible_handoffs(user: User):
    """Handoffs of leads the user sees, and those they sent or received while they are still on
    the handoff's team (as handed_off_by: someone who left reads neither the lead nor its packet,
    and an AE who left no longer decides; the team's managers do)."""
    if user.is_admin:
        return Handoff.objects.all()
    leads = Lead.objects.filter(visible_leads_filter(user)).values("pk")
    teams = user.team_ids()
    return Handoff.objects.filter(Q(lead__in=leads) | Q(from_user=user, team_id__in=teams) | Q(to_user=user, team_id__in=teams))


def sent_by(user: User):
    """The handoffs `user` sent, on the teams they are still on (the Sent list)."""
    return Handoff.objects.filter(from_user=user, team_id__in=user.team_ids())


def can_decide(user: User, handoff: Handoff) -> bool:
    """The receiving AE decides while on the handoff's team; the team's managers and admins may
    decide for them (and do once the AE has left). Reads the cached memberships, no query."""
    return (user.pk == handoff.to_user_id and handoff.team_id in user.team_ids()) or user.manages(handoff.team_id)


def can_reassign(user: User, handoff: Handoff) -> bool:
    """Giving a pending handoff to another AE is the team's managers' (and admins') call, not the
    AE's: an AE who cannot take it rejects it. No query."""
    return user.manages(handoff.team_id)


def access_handoff(user: User, handoff_id: int | str, *, for_write: bool = False) -> Handoff:
    """The handoff if `user` may see it (404 otherwise); PermissionDenied if they may see it but
    not accept or reject it (the sender, a teammate, marketing)."""
    pk = given_id(handoff_id)  # int() read "١٢" as handoff 12 (qualify/ids.py)
    try:
        if pk is None:
            raise Handoff.DoesNotExist
        handoff = visible_handoffs(user).select_related("lead__account", "from_user", "to_user", "reason").get(pk=pk)
    except Handoff.DoesNotExist:
        raise Http404("No such handoff.")
    if for_write and not can_decide(user, handoff):
        raise PermissionDenied("Only the receiving AE or the team's manager can decide this handoff.")
    return handoff


def handed_off_by(user: User, lead_id: int) -> bool:
    """Whether `user` handed this lead off (whatever the AE decided) while on its team, and is still
    a member of that team: read-only access to its page (qualify.leads.panels.EXTRA_READERS). One
    query on the handoff lead index."""
    teams = user.team_ids()
    return bool(teams) and Handoff.objects.filter(lead_id=lead_id, from_user=user, team_id__in=teams).exists()
