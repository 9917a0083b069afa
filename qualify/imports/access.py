"""Who may import, and which jobs they see: the pages and the API both go through here."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404

from accounts.models import Role, Team

from .models import ImportJob, ImportKind


def import_teams(user) -> list[Team]:
    """Teams the user may import into: managers and marketing their teams, admins all."""
    if user.is_admin:
        return list(Team.objects.order_by("name"))
    ids = user.team_ids(Role.MANAGER, Role.MARKETING)
    if not ids:
        raise PermissionDenied("CSV import is for managers, marketing and RevOps.")
    return list(Team.objects.filter(pk__in=ids).order_by("name"))


def can_import_kind(user, team_id: int, kind: str) -> bool:
    """Marketing brings in new leads only: an accounts file rewrites existing accounts and an
    outcomes file moves existing leads to won or lost, which marketing never does by hand either."""
    if user.manages(team_id):
        return True
    return kind == ImportKind.LEADS and team_id in user.team_ids(Role.MARKETING)


def importable_kinds(user, teams: list[Team]) -> list[tuple[str, str]]:
    """The kinds `user` may import into at least one of `teams`, for the upload form."""
    return [(k, label) for k, label in ImportKind.choices if any(can_import_kind(user, t.pk, k) for t in teams)]


def visible_jobs(user):
    if user.is_admin:
        return ImportJob.objects.all()
    return ImportJob.objects.filter(Q(created_by=user) | Q(team_id__in=user.team_ids(Role.MANAGER)))


def access_job(user, job_id) -> ImportJob:
    import_teams(user)
    try:
        # The file itself (up to 50 MB) is not needed to show or poll a job.
        return visible_jobs(user).select_related("team", "created_by").defer("content").get(pk=int(job_id))
    except (ImportJob.DoesNotExist, ValueError, TypeError):
        raise Http404("No such import.")
