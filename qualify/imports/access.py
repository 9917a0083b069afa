"""Who may import, and which jobs they see: the pages and the API both go through here."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404

from accounts.models import Role, Team

from .models import ImportJob


def import_teams(user) -> list[Team]:
    """Teams the user may import into: managers and marketing their teams, admins all."""
    if user.is_admin:
        return list(Team.objects.order_by("name"))
    ids = user.team_ids(Role.MANAGER, Role.MARKETING)
    if not ids:
        raise PermissionDenied("CSV import is for managers, marketing and RevOps.")
    return list(Team.objects.filter(pk__in=ids).order_by("name"))


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
