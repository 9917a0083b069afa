"""Webhook endpoints RevOps defines, and the outbox of deliveries to them (one row per event and
endpoint, written in the change's transaction; see outbox.py and delivery.py)."""

from __future__ import annotations

import secrets
from base64 import b64encode

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone


class EventType(models.TextChoices):
    LEAD_CREATED = "lead.created", "Lead created"
    LEAD_MQL = "lead.mql", "Lead became an MQL"
    LEAD_ASSIGNED = "lead.assigned", "Lead owner changed"
    HANDOFF_CREATED = "handoff.created", "Handoff created"
    HANDOFF_ACCEPTED = "handoff.accepted", "Handoff accepted"
    HANDOFF_REJECTED = "handoff.rejected", "Handoff rejected"
    HANDOFF_REASSIGNED = "handoff.reassigned", "Handoff given to another AE"
    LEAD_NURTURED = "lead.nurtured", "Lead nurtured"
    LEAD_DISQUALIFIED = "lead.disqualified", "Lead disqualified"
    LEAD_RECYCLED = "lead.recycled", "Lead recycled"
    LEAD_WON = "lead.won", "Lead won"
    LEAD_LOST = "lead.lost", "Lead lost"
    SLA_WARNING = "sla.warning", "SLA warning"
    SLA_BREACHED = "sla.breached", "SLA breached"
    REVIEW_VERDICT = "review.verdict", "Review verdict"


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 24 random bytes in base64."""
    return "whsec_" + b64encode(secrets.token_bytes(24)).decode()


def validate_events(value: list[str]) -> None:
    if not value:
        raise ValidationError("Subscribe to at least one event.")
    if unknown := [v for v in value if v not in EventType.values]:
        raise ValidationError(f"Unknown events: {', '.join(unknown)}. Known: {', '.join(EventType.values)}.")


class Endpoint(models.Model):
    """A URL that receives the events it subscribes to, for the leads of one team."""

    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=500, help_text="http(s) URL; private and loopback addresses are refused.")
    events = ArrayField(models.CharField(max_length=32), validators=[validate_events],
                        help_text="Comma-separated, e.g. lead.mql,lead.won. " + ", ".join(EventType.values))
    secret = models.CharField(max_length=100, default=new_secret, help_text="whsec_… (Standard Webhooks); receivers verify with it.")
    active = models.BooleanField(default=True)
    description = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    failing_since = models.DateTimeField(null=True, blank=True, help_text="First failure since the last success.")
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["team", "url"]
        indexes = [
            # outbox.write: active endpoints subscribed to a batch's events (one query per batch).
            models.Index(fields=["team"], condition=Q(active=True), name="webhook_endpoint_active"),
        ]

    def __str__(self) -> str:
        return self.shown_url

    @property
    def shown_url(self) -> str:
        """The URL with any password masked: what every list, the API and notifications show."""
        from .addresses import masked

        return masked(self.url)

    def clean(self) -> None:
        from .addresses import UnsafeURL, check_url

        if self.url:
            try:
                check_url(self.url)
            except UnsafeURL as e:
                raise ValidationError({"url": str(e)})


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


class Delivery(models.Model):
    """One event for one endpoint: the outbox row and its delivery log.

    `msg_id` is the `webhook-id` header, the same on every attempt and replay, so receivers
    deduplicate by it. `body` holds the exact bytes that are signed and sent. While a worker holds
    a claimed row, `next_attempt_at` is its lease: a worker that dies leaves the row due again then.
    """

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=32, choices=EventType.choices)
    msg_id = models.CharField(max_length=64)
    body = models.TextField()
    lead_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, help_text="When the change committed its outbox row.")
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True, default="")
    delivered_at = models.DateTimeField(null=True, blank=True)
    replayed_at = models.DateTimeField(null=True, blank=True, help_text="Retries run for three days from here when set.")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "msg_id"], name="webhook_delivery_msg_unique"),
        ]
        indexes = [
            # delivery.claim: `status = 'pending' AND next_attempt_at <= now ORDER BY next_attempt_at`.
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="webhook_delivery_due"),
            # The delivery log per endpoint and replay of a time range.
            models.Index(fields=["endpoint", "created_at"], name="webhook_delivery_log"),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint_id} ({self.status})"
