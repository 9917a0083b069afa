"""Who may import, and which jobs they see: the pages and the API both go through here."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404

from accounts.models import Role, Team

from .models import ImportJob, ImportKind

KIND_REFUSED = "Marketing imports new leads only; accounts and outcomes are for managers and RevOps."


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
    """Jobs of the user's teams: a manager sees the team's, marketing their own. Someone who has
    left the team no longer sees the jobs they uploaded there (another team's, so a 404)."""
    if user.is_admin:
        return ImportJob.objects.all()
    return ImportJob.objects.filter(Q(created_by=user, team_id__in=user.team_ids(Role.MANAGER, Role.MARKETING))
                                    | Q(team_id__in=user.team_ids(Role.MANAGER)))


def require_run(user, job: ImportJob) -> None:
    """Only the uploader (or an admin) runs a job, and only with the rights they hold now: a
    manager now marketing may no longer write the accounts or outcomes they uploaded as manager."""
    if job.created_by_id != user.pk and not user.is_admin:
        raise PermissionDenied("Only the person who uploaded the file can run it.")
    if not can_import_kind(user, job.team_id, job.kind):
        raise PermissionDenied(KIND_REFUSED)


def access_job(user, job_id) -> ImportJob:
    import_teams(user)
    try:
        # The file itself (up to 50 MB) is not needed to show or poll a job.
        return visible_jobs(user).select_related("team", "created_by").defer("content").get(pk=int(job_id))
    except (ImportJob.DoesNotExist, ValueError, TypeError):
        raise Http404("No such import.")
