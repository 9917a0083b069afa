"""In-app notifications and their email outbox.

Notifications are rows written in the same transaction as the thing they announce, so they exist
exactly when it happened. Email is an outbox on those rows (`email_state='pending'`): the
every-minute sweep task sends them after its own work, claiming batches with SKIP LOCKED so two
senders never send the same one; a sender that dies before marking a batch sent leaves it
pending for the next run (at-least-once).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Membership, Role, User

from .models import EmailState, Notification

log = logging.getLogger(__name__)


def managers_by_team(team_ids: Iterable[int]) -> dict[int, list[User]]:
    """Active managers of each team. One query."""
    found: dict[int, list[User]] = defaultdict(list)
    rows = Membership.objects.filter(team_id__in=set(team_ids), role=Role.MANAGER, user__is_active=True).select_related("user")
    for m in rows:
        found[m.team_id].append(m.user)
    return found


def make(user: User, *, kind: str, title: str, body: str = "", url: str = "", lead_id: int | None = None,
         clock_id: int | None = None, email: bool = True) -> Notification:
    """An unsaved notification; email is queued only for users with an address."""
    return Notification(
        user=user, kind=kind, title=title[:200], body=body, url=url, lead_id=lead_id, clock_id=clock_id,
        email_state=EmailState.PENDING if email and user.email else EmailState.NONE,
    )


def save_all(notifications: list[Notification]) -> list[Notification]:
    """One INSERT for the lot. Pending emails go out with the next sweep (within a minute)."""
    if not notifications:
        return []
    return Notification.objects.bulk_create(notifications, batch_size=1000)


def unread_count(user: User) -> int:
    """Served by the notification_unread partial index."""
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def mark_read(qs: QuerySet[Notification]) -> int:
    """Mark the given notifications read; already-read ones keep their first read time."""
    return qs.filter(read_at__isnull=True).update(read_at=timezone.now())


def send_pending_emails(*, batch: int = 100, max_batches: int = 20) -> int:
    """Send queued notification emails over one connection per batch. Returns how many were sent.

    Each batch is claimed FOR UPDATE SKIP LOCKED and marked sent in the same transaction as the
    send, so a crash re-sends at most one batch (at-least-once) and overlapping senders split the
    work. A failing mail server leaves the batch pending for the next run.
    """
    sent = 0
    for _ in range(max_batches):
        with transaction.atomic():
            rows = list(
                Notification.objects.select_for_update(skip_locked=True, of=("self",)).select_related("user", "lead")
                .filter(email_state=EmailState.PENDING).order_by("id")[:batch]
            )
            if not rows:
                break
            messages = [
                EmailMessage(subject=f"[Qualify] {n.headline}", body=_email_body(n), from_email=settings.DEFAULT_FROM_EMAIL,
                             to=[n.user.email])
                for n in rows if n.user.email
            ]
            try:
                get_connection(fail_silently=False).send_messages(messages)
            except Exception:  # noqa: BLE001 - any transport error: keep them pending, retry later
                log.exception("Sending %d notification emails failed; they stay queued", len(messages))
                transaction.set_rollback(True)
                break
            Notification.objects.filter(pk__in=[n.pk for n in rows]).update(email_state=EmailState.SENT)
            sent += len(messages)
    return sent


def _email_body(n: Notification) -> str:
    # SITE_URL (optional) turns the in-app path into a link the mail client can open.
    link = f"\n\nOpen: {getattr(settings, 'SITE_URL', '').rstrip('/')}{n.url}" if n.url else ""
    extra = n.body if n.body and n.body.rstrip(".") != n.title else ""
    return f"{n.headline}." + (f"\n\n{extra}" if extra else "") + f"{link}\n\n— Qualify"
