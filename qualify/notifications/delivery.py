"""Writing notifications, per each person's preferences, and sending their e-mail.

Notifications are rows written in the same transaction as the thing they announce (a rolled-back
change leaves none), once per user and event (`key`, UNIQUE per user, inserted with ON CONFLICT
DO NOTHING). E-mail is an outbox on those rows (`email_state='pending'`): after the transaction
commits a Celery task sends the pending ones in batches (never in the request), and the
every-minute SLA sweep sends whatever a lost task left behind. Batches are claimed with SKIP
LOCKED, so two senders never send the same one; a sender that dies before marking its batch sent
leaves it pending for the next run (at-least-once).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable

from celery import current_app
from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Membership, Role, User

from .models import EMAIL_BY_DEFAULT, EmailState, Notification, Preference

log = logging.getLogger(__name__)


# One change giving a person more than this many notices of a kind at once (a bulk reassign, a
# routing batch, the SLA ladder; an SLA sweep's warnings or breaches) tells them once, in a digest.
DIGEST_OVER = 3


def managers_by_team(team_ids: Iterable[int]) -> dict[int, list[User]]:
    """Active managers of each team. One query."""
    found: dict[int, list[User]] = defaultdict(list)
    rows = Membership.objects.filter(team_id__in=set(team_ids), role=Role.MANAGER, user__is_active=True).select_related("user")
    for m in rows:
        found[m.team_id].append(m.user)
    return found


def choices(user_ids: Iterable[int]) -> dict[tuple[int, str], tuple[bool, bool]]:
    """(user, kind) → (in_app, email) for the choices these users made; one query. Kinds with
    no row fall back to `wanted`'s defaults."""
    return {(p.user_id, p.kind): (p.in_app, p.email) for p in Preference.objects.filter(user_id__in=set(user_ids))}


def wanted(prefs: dict[tuple[int, str], tuple[bool, bool]], user_id: int, kind: str) -> tuple[bool, bool]:
    """(in_app, email) for one user and kind."""
    return prefs.get((user_id, kind), (True, kind in EMAIL_BY_DEFAULT))


def make(user: User, *, kind: str, title: str, body: str = "", url: str = "", lead_id: int | None = None,
         clock_id: int | None = None, key: str = "", email: bool = True) -> Notification:
    """An unsaved notification; `save_all` applies the user's preferences. `email=False` keeps it
    in the app whatever the user chose."""
    return Notification(
        user=user, kind=kind, title=title[:200], body=body, url=url, lead_id=lead_id, clock_id=clock_id, key=key[:100],
        email_state=EmailState.PENDING if email and user.email else EmailState.NONE,
    )


def save_all(notifications: list[Notification]) -> list[Notification]:
    """Insert the lot in one statement, as each recipient chose (two queries in all).

    A kind the user switched off entirely is dropped; e-mail only is kept as a hidden row (the
    outbox entry); a second notification for the same user and key is ignored. Pending e-mail is
    handed to a worker once the transaction commits.
    """
    if not notifications:
        return []
    prefs = choices(n.user_id for n in notifications)
    now = timezone.now()
    rows = []
    for n in notifications:
        in_app, email = wanted(prefs, n.user_id, n.kind)
        if not email:
            n.email_state = EmailState.NONE
        if not in_app:
            if n.email_state != EmailState.PENDING:
                continue
            n.in_app, n.read_at = False, now  # read: the badge's partial index never sees it
        rows.append(n)
    saved = Notification.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
    if any(n.email_state == EmailState.PENDING for n in rows):
        transaction.on_commit(kick, robust=True)
    return saved


def kick() -> None:
    """Ask a worker to send pending e-mail now. Best effort: with the broker down, the SLA sweep
    sends the outbox within a minute anyway."""
    try:
        current_app.send_task("notifications.send_emails")
    except Exception:  # noqa: BLE001 - any broker error: the sweep is the safety net
        log.warning("Could not enqueue notification e-mail; the sweep will send it", exc_info=True)


def shown(user: User) -> QuerySet[Notification]:
    """What the person sees in the app (e-mail-only rows left out)."""
    return Notification.objects.filter(user=user, in_app=True)


def unread_count(user: User) -> int:
    """Served by the notification_unread partial index (e-mail-only rows are written read)."""
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
                EmailMessage(subject=f"[Qualify] {n.headline}", body=email_body(n), from_email=settings.DEFAULT_FROM_EMAIL,
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


def email_body(n: Notification) -> str:
    # SITE_URL (optional) turns the in-app path into a link the mail client can open.
    link = f"\n\nOpen: {getattr(settings, 'SITE_URL', '').rstrip('/')}{n.url}" if n.url else ""
    extra = n.body if n.body and n.body.rstrip(".") != n.title else ""
    prefs = f"{getattr(settings, 'SITE_URL', '').rstrip('/')}/notifications/preferences/"
    return (f"{n.headline}." + (f"\n\n{extra}" if extra else "") + f"{link}\n\n— Qualify"
            f"\n(Choose which notifications reach you by e-mail: {prefs})")
