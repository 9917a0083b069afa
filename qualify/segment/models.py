"""Sources (write keys), page category rules, and the anonymous ids waiting for their lead."""

from __future__ import annotations

import hashlib
import re
import secrets

from django.db import models
from django.db.models import Q
from django.utils import timezone

from qualify.scoring.ingest import SEGMENT_CLIENT_IDS


def hash_key(key: str) -> str:
    """Write keys are 192 random bits, so one SHA-256 is enough: no dictionary to slow down."""
    return hashlib.sha256(key.encode()).hexdigest()


class Source(models.Model):
    """A Segment or RudderStack source pointed at Qualify: its write key puts messages in one team."""

    name = models.CharField(max_length=100)
    team = models.ForeignKey("accounts.Team", on_delete=models.PROTECT, related_name="+")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    key_hint = models.CharField(max_length=12, editable=False, help_text="The key's first characters, to recognise it.")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    key_rotated_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["team", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.team})"

    def issue_key(self) -> str:
        """Set a new write key and return it: the only moment it exists in clear. Save afterwards."""
        key = "qk_" + secrets.token_urlsafe(24)
        self.key_hash, self.key_hint = hash_key(key), key[:8]
        if self.pk:
            self.key_rotated_at = timezone.now()
        return key

    def client_id(self, message_id: str) -> str:
        """The event's client id: messageId dedupes retries within this source (Event.client_id is
        unique per team, and the prefix keeps sources and POST /api/events/ ids apart: that door refuses it)."""
        prefix = f"{SEGMENT_CLIENT_IDS}{self.pk}:"
        cid = prefix + message_id
        return cid if len(cid) <= 100 else f"{prefix}sha256:{hashlib.sha256(message_id.encode()).hexdigest()}"


class PageRule(models.Model):
    """`page` (and `screen`) calls become page views with a category: the first matching rule, by
    position, names it (engagement rules match `page_category`)."""

    class Field(models.TextChoices):
        PATH = "path", "URL path"
        NAME = "name", "Page name"

    class Op(models.TextChoices):
        PREFIX = "prefix", "starts with"
        EQUALS = "equals", "equals"
        CONTAINS = "contains", "contains"
        REGEX = "regex", "matches (regular expression)"

    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                             help_text="Blank: every team.")
    position = models.PositiveIntegerField(default=100)
    field = models.CharField(max_length=8, choices=Field.choices, default=Field.PATH)
    op = models.CharField(max_length=8, choices=Op.choices, default=Op.PREFIX)
    value = models.CharField(max_length=300)
    category = models.CharField(max_length=64, help_text="Stored as properties.page_category, e.g. pricing.")

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.get_field_display()} {self.get_op_display()} {self.value!r} → {self.category}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.op == self.Op.REGEX:
            try:
                re.compile(self.value)
            except re.error as e:
                raise ValidationError({"value": f"Not a regular expression: {e}"}) from e

    def matches(self, name: str, path: str) -> bool:
        text = (path if self.field == self.Field.PATH else name).lower()
        value = self.value.lower() if self.op != self.Op.REGEX else self.value
        if self.op == self.Op.PREFIX:
            return text.startswith(value)
        if self.op == self.Op.EQUALS:
            return text == value
        if self.op == self.Op.CONTAINS:
            return value in text
        return re.search(value, path if self.field == self.Field.PATH else name) is not None


class AnonymousId(models.Model):
    """What identify and alias said: this anonymous id is that user (and, once known, that lead)."""

    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="+", db_index=False)
    anonymous_id = models.CharField(max_length=200)
    user_id = models.CharField(max_length=100, blank=True, default="")
    lead = models.ForeignKey("leads.Lead", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    linked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # Every track/page from an anonymous id looks its lead up by this key.
            models.UniqueConstraint(fields=["team", "anonymous_id"], name="segment_anonymous_id_unique"),
        ]


class PendingEvent(models.Model):
    """An event whose sender is not a lead yet (an anonymous id before identify/alias, a userId
    before identify). Stored with its final client id, moved into Event when the lead is known."""

    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="+", db_index=False)
    anonymous_id = models.CharField(max_length=200, blank=True, default="")
    user_id = models.CharField(max_length=100, blank=True, default="")
    client_id = models.CharField(max_length=100)
    type = models.CharField(max_length=32)
    properties = models.JSONField(default=dict)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # Retries of a pending message (ON CONFLICT DO NOTHING, like Event's).
            models.UniqueConstraint(fields=["team", "client_id"], name="segment_pending_client_id_unique"),
        ]
        indexes = [
            # Attaching on identify/alias: WHERE team = ? AND (anonymous_id IN ... OR user_id IN ...).
            models.Index(fields=["team", "anonymous_id"], name="segment_pending_anon", condition=~Q(anonymous_id="")),
            models.Index(fields=["team", "user_id"], name="segment_pending_user", condition=~Q(user_id="")),
            # The sweep (tracking.attach_linked): WHERE received_at BETWEEN now - SWEEP_WINDOW AND now - grace.
            models.Index(fields=["received_at"], name="segment_pending_received"),
        ]
