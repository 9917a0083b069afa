"""In-app notifications, their e-mail outbox, and each person's choice of what reaches them how.

The table is still `sla_notification`: the model moved here from the SLA app in state only
(migration notifications 0001), since SLA warnings are now one kind among handoffs, assignments,
review follow-ups and disabled webhooks.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class NotificationKind(models.TextChoices):
    HANDOFF_RECEIVED = "handoff_received", "Handoff received"
    HANDOFF_ACCEPTED = "handoff_accepted", "Handoff accepted"
    HANDOFF_REJECTED = "handoff_rejected", "Handoff rejected"
    ASSIGNED = "assigned", "Lead assigned"
    SLA_WARNING = "sla_warning", "SLA warning"
    SLA_BREACH = "sla_breach", "SLA breach"
    SLA_ESCALATION = "sla_escalation", "SLA escalation"
    REVIEW_FOLLOW_UP = "review_follow_up", "Review follow-up"
    IMPORT_FINISHED = "import_finished", "CSV import finished"
    WEBHOOK_DISABLED = "webhook_disabled", "Webhook endpoint disabled"


# The kinds that come as one digest when a change concerns many of a person's leads at once.
DIGEST_KINDS = frozenset({NotificationKind.ASSIGNED, NotificationKind.SLA_WARNING, NotificationKind.SLA_BREACH,
                          NotificationKind.SLA_ESCALATION})

# What a person gets before they choose: everything in the app, e-mail for all but warnings
# (a warning is a nudge; an e-mail for each would train people to ignore the rest).
EMAIL_BY_DEFAULT = frozenset(NotificationKind) - {NotificationKind.SLA_WARNING}


class EmailState(models.TextChoices):
    NONE = "none", "No email"
    PENDING = "pending", "Waiting to be sent"
    SENT = "sent", "Sent"


class Notification(models.Model):
    """A message to one user: in the app (`in_app`) and/or by e-mail (outbox: `email_state`)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications",
                             db_index=False)  # served by notification_user_recent
    kind = models.CharField(max_length=16, choices=NotificationKind.choices)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True, default="")
    url = models.CharField(max_length=300, blank=True, default="")
    # No constraint and no cascade: a notification about a lead deleted later keeps its text and
    # loses the name in front of it.
    lead = models.ForeignKey("leads.Lead", null=True, blank=True, on_delete=models.DO_NOTHING, related_name="+",
                             db_index=False, db_constraint=False)
    # The SLA clock a warning or breach came from (a plain id: this app sits below sla).
    clock_id = models.BigIntegerField(null=True, blank=True)
    # The event it announces ("handoff:12:rejected", "sla:clock:step"): one notification per user
    # and event, however often a listener or a retried task runs (notification_once).
    key = models.CharField(max_length=100, blank=True, default="")
    # False: the person wants this kind by e-mail only; the row is the outbox entry and is hidden.
    in_app = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    email_state = models.CharField(max_length=8, choices=EmailState.choices, default=EmailState.NONE)

    class Meta:
        db_table = "sla_notification"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], condition=~Q(key=""), name="notification_once"),
        ]
        indexes = [
            # Notifications page and API: a user's notifications, newest first (keyset on id).
            models.Index(fields=["user", "-id"], name="notification_user_recent"),
            # The navigation badge: COUNT(*) WHERE user_id=? AND read_at IS NULL.
            models.Index(fields=["user"], name="notification_unread", condition=Q(read_at__isnull=True)),
            # The email outbox: WHERE email_state='pending' ORDER BY id.
            models.Index(fields=["id"], name="notification_email_outbox", condition=Q(email_state="pending")),
        ]

    def __str__(self) -> str:
        return self.headline

    @property
    def headline(self) -> str:
        """The title with the lead's name in front. SLA titles leave the name out so the sweep
        never reads the lead table; load `lead` with select_related when listing these."""
        if not self.lead_id or self.kind not in (NotificationKind.SLA_WARNING, NotificationKind.SLA_BREACH,
                                                 NotificationKind.SLA_ESCALATION):
            return self.title
        try:
            lead = self.lead
        except models.ObjectDoesNotExist:  # the lead was deleted since
            lead = None
        return f"{lead.full_name} — {self.title}" if lead is not None else self.title

    @property
    def is_digest(self) -> bool:
        """One notice for many leads at once (delivery.DIGEST_OVER): its body says which."""
        return self.lead_id is None and self.kind in DIGEST_KINDS

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class Preference(models.Model):
    """One person's choice for one kind; no row means the default (in the app, and e-mail for
    every kind in EMAIL_BY_DEFAULT)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences")
    kind = models.CharField(max_length=16, choices=NotificationKind.choices)
    in_app = models.BooleanField(default=True)
    email = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="notification_preference_once")]

    def __str__(self) -> str:
        return f"{self.user}: {self.get_kind_display()} (app {self.in_app}, e-mail {self.email})"
