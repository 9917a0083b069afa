"""Notifications and preferences are one's own: someone else's notification is a 404."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.http import Http404

from .delivery import shown
from .models import Notification

if TYPE_CHECKING:
    from accounts.models import User


def own_notifications(user: User) -> QuerySet[Notification]:
    return shown(user)


def access_notification(user: User, notification_id: int | str) -> Notification:
    """The user's own notification; anyone else's (or a bad id) is a 404."""
    try:
        return own_notifications(user).select_related("lead").get(pk=int(notification_id))
    except (Notification.DoesNotExist, ValueError, TypeError):
        raise Http404("No such notification.")
