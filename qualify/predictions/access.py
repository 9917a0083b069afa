"""Who reads prediction quality: managers (their teams' leads in every list) and RevOps (all).
SDRs, AEs and marketing get 403, with the reason; training, approval and declining are RevOps'.
A version is shared by every team (like a scoring model), so versions themselves are not
team-scoped; every list of leads on its pages goes through Lead.objects.visible_to."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied

from accounts.models import Role

if TYPE_CHECKING:
    from accounts.models import User


def can_read_quality(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active and (user.is_admin or user.team_ids(Role.MANAGER)))


def require_quality_reader(user: User) -> None:
    if not can_read_quality(user):
        raise PermissionDenied("Prediction quality is for managers and RevOps.")


def require_revops(user: User) -> None:
    if not (user.is_authenticated and user.is_active and user.is_admin):
        raise PermissionDenied("Training and approving prediction models is for RevOps.")
