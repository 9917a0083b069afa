"""Who may see and change which leads and accounts. Views, API and admin all ask here.

- RevOps admins (and superusers) see and change everything.
- Managers see and change their team's leads.
- SDRs see their own leads and their team's unassigned pool.
- AEs see the leads handed to them and the leads they own.
- Marketing sees their team's leads, read-only.
- Other concepts may grant read-only access to a single lead (panels.EXTRA_READERS): the SDR
  who handed a lead off keeps reading its page after the AE takes it, and may change nothing.
Anything else is a 404, so another team's lead does not even appear to exist.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404

from accounts.models import Membership, Role, Team, User
from qualify.ids import given_id

from .models import Account, Lead, MergedAccount, MergedLead
from .panels import extra_reader

NOTHING = Q(pk__in=[])


def visible_leads_filter(user: User) -> Q:
    if not user.is_authenticated or not user.is_active:
        return NOTHING
    if user.is_admin:
        return Q()
    q = NOTHING
    if teams := user.team_ids(Role.MANAGER, Role.MARKETING):
        q |= Q(team_id__in=teams)
    if teams := user.team_ids(Role.SDR):
        q |= Q(owner=user) | Q(owner__isnull=True, team_id__in=teams)
    if teams := user.team_ids(Role.AE):
        # The AE a lead was handed to reads it while an AE of its team: one who moved to another
        # team no longer reads (or decides) that team's handoffs; its managers do.
        q |= Q(owner=user) | Q(ae=user, team_id__in=teams)
    return q


def can_change_lead(user: User, lead: Lead) -> bool:
    """Write access: admins, the team's managers, the owner, the AE it was handed to, and SDRs
    of the team on pool leads (so they can claim them). Marketing is read-only."""
    if user.manages(lead.team_id):
        return True
    if lead.owner_id == user.pk or (lead.ae_id == user.pk and lead.team_id in user.team_ids(Role.AE)):
        return True
    return lead.owner_id is None and lead.team_id in user.team_ids(Role.SDR)


MERGE_REFUSED = "Merging is for the team's managers and RevOps."


def can_merge(user: User, team_id: int) -> bool:
    """A merge deletes one of two records, so it is for the team's managers and RevOps only, even
    where the user may change both (an SDR could otherwise make any pool lead vanish into one of
    theirs). merge.merge_leads / merge_accounts ask here, so every door is held to it."""
    return user.is_active and user.manages(team_id)


def require_merge(user: User, team_id: int) -> None:
    """can_merge, or PermissionDenied (a 403) saying who may."""
    if not can_merge(user, team_id):
        raise PermissionDenied(MERGE_REFUSED)


def survivor_of(model, pk: int):
    """The id a merged-away lead or account now resolves to (leads/merge.py), or None."""
    redirects = MergedLead if model is Lead else MergedAccount
    return redirects.objects.filter(merged_id=pk).values_list("survivor_id", flat=True).first()


def access_lead(user: User, lead_id: int | str, *, for_write: bool = False, queryset=None) -> Lead:
    """The lead if `user` may see it (404 otherwise); PermissionDenied if they may only read it.
    The id of a lead merged into another resolves to the survivor (callers that show a URL compare
    `lead.pk` with the id they were given and redirect); the extra query runs only on a miss."""
    qs = queryset if queryset is not None else Lead.objects.select_related("account", "owner", "ae", "team")
    try:
        pk = given_id(lead_id)
        if pk is None:  # "١٢" is not lead 12 (qualify/ids.py)
            raise Lead.DoesNotExist
        try:
            lead = qs.visible_to(user).get(pk=pk)
        except Lead.DoesNotExist:
            survivor = survivor_of(Lead, pk)
            if survivor is not None:
                lead = qs.visible_to(user).get(pk=survivor)
            elif user.is_authenticated and extra_reader(user, pk):
                lead = qs.get(pk=pk)
                if for_write:  # read-only by construction, whatever can_change_lead would say
                    raise PermissionDenied("You handed this lead off: you can read it but not change it.")
            else:
                raise
    except (Lead.DoesNotExist, ValueError, TypeError):
        raise Http404("No such lead.")
    if for_write and not can_change_lead(user, lead):
        raise PermissionDenied("You can read this lead but not change it.")
    return lead


def visible_accounts(user: User):
    """Accounts of the user's teams; admins see all."""
    qs = Account.objects.all()
    if user.is_admin:
        return qs
    return qs.filter(team_id__in=user.team_ids())


# Said when someone who may create a team's accounts but not change them (marketing) names an owner.
NO_ACCOUNT_OWNER = "You cannot choose an account's owner in this team: leave it empty."


def can_change_accounts_of(user: User, team_id: int) -> bool:
    """Who changes a team's accounts (their owner included): its SDRs, AEs and managers, and admins."""
    return user.is_admin or team_id in user.team_ids(Role.MANAGER, Role.SDR, Role.AE)


def can_change_account(user: User, account: Account) -> bool:
    return account.owner_id == user.pk or can_change_accounts_of(user, account.team_id)


def access_account(user: User, account_id: int | str, *, for_write: bool = False) -> Account:
    try:
        pk = given_id(account_id)
        if pk is None:
            raise Account.DoesNotExist
        try:
            account = visible_accounts(user).get(pk=pk)
        except Account.DoesNotExist:
            survivor = survivor_of(Account, pk)
            if survivor is None:
                raise
            account = visible_accounts(user).get(pk=survivor)
    except (Account.DoesNotExist, ValueError, TypeError):
        raise Http404("No such account.")
    if for_write and not can_change_account(user, account):
        raise PermissionDenied("You can read this account but not change it.")
    return account


def can_create_in_team(user: User, team_id: int) -> bool:
    return user.is_admin or team_id in user.team_ids(Role.MANAGER, Role.SDR, Role.AE, Role.MARKETING)


# --- whom and which team a request may name ----------------------------------------------------
# A body that names a person or a team (an owner, the AE to hand to, a lead's team) may name only
# these; any other id is refused exactly like one that does not exist, so the answer neither names
# nor reveals another team's people or teams.


def visible_people(user: User):
    """Members of the user's teams, active or not (admins: everyone)."""
    if user.is_admin:
        return User.objects.all()
    return User.objects.filter(pk__in=Membership.objects.filter(team_id__in=user.team_ids()).values("user_id"))


def active_people(user: User):
    return visible_people(user).filter(is_active=True)


def visible_teams(user: User):
    """The user's teams (admins: all)."""
    return Team.objects.all() if user.is_admin else Team.objects.filter(pk__in=user.team_ids())
