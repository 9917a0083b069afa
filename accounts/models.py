"""Users, teams and the role each user plays in each team."""

from __future__ import annotations

import datetime

import pghistory
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone


class Role(models.TextChoices):
    SDR = "sdr", "SDR"
    AE = "ae", "AE"
    MANAGER = "manager", "Manager"
    REVOPS = "revops", "RevOps admin"
    MARKETING = "marketing", "Marketing"


class User(AbstractUser):
    """A person who signs in. Roles come from memberships, never from this row."""

    out_of_office_from = models.DateField(null=True, blank=True)
    out_of_office_until = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["first_name", "last_name", "username"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def short_name(self) -> str:
        return self.first_name or self.username

    def is_out_of_office(self, on: datetime.date | None = None) -> bool:
        on = on or timezone.localdate()
        start, end = self.out_of_office_from, self.out_of_office_until
        return bool(start and start <= on and (end is None or on <= end))

    # Role lookups are cached per instance: a request asks them many times.
    def memberships_cached(self) -> list[Membership]:
        if not hasattr(self, "_memberships"):
            self._memberships = list(self.memberships.select_related("team"))
        return self._memberships

    def team_ids(self, *roles: str) -> set[int]:
        """Ids of teams where this user holds any of `roles` (any role when none given)."""
        return {m.team_id for m in self.memberships_cached() if not roles or m.role in roles}

    def has_role(self, *roles: str) -> bool:
        return any(m.role in roles for m in self.memberships_cached())

    @property
    def is_admin(self) -> bool:
        """RevOps admins and superusers see and change everything."""
        return self.is_superuser or self.has_role(Role.REVOPS)

    def manages(self, team_id: int | None) -> bool:
        """RevOps (every team) or a manager of `team_id`: who may reassign, merge, share views and
        oversee that team's work. Reads the cached memberships, no query."""
        return self.is_admin or team_id in self.team_ids(Role.MANAGER)

    @property
    def primary_role(self) -> str | None:
        order = [Role.MANAGER, Role.AE, Role.SDR, Role.MARKETING, Role.REVOPS]
        held = {m.role for m in self.memberships_cached()}
        return next((r for r in order if r in held), None)

    @property
    def primary_role_label(self) -> str:
        """The primary role as people read it ("Manager", "RevOps admin"), "" without one."""
        role = self.primary_role
        return Role(role).label if role else ""


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    default_ae = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Suggested AE when an SDR of this team hands off a lead.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def members(self, *roles: str) -> models.QuerySet[User]:
        qs = User.objects.filter(memberships__team=self, is_active=True)
        if roles:
            qs = qs.filter(memberships__role__in=roles)
        return qs.distinct()


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class Membership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    capacity = models.PositiveIntegerField(
        null=True, blank=True,
        help_text="Most open leads (New, MQL, Working) routing gives this person. Blank: no personal cap.",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "team", "role"], name="membership_unique_role"),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} in {self.team}"


class ApiTokenQuerySet(models.QuerySet):
    def active(self) -> ApiTokenQuerySet:
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now))


class ApiToken(models.Model):
    """A key a person's scripts use for the API, one of several they may hold.

    Written here rather than taken from DRF's `authtoken`, because every API call's access rests on
    it and authtoken falls short there: it keeps the key itself in the database (a leaked backup is a
    set of working keys), allows one key per user, never expires and cannot say when it was last used.
    Here only a SHA-256 of the key is stored (the key is 256 random bits, so a fast hash is enough: there
    is nothing to guess), the key is shown once at creation, and `prefix` lets owners tell keys apart.
    Revoking keeps the row, so admin still shows who had which key. Writes go through accounts/tokens.py.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, help_text="The key's first characters, to recognise it.")
    key_hash = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the key, hex.")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, help_text="Updated at most once a minute.")
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and not self.is_expired


class RateCount(models.Model):
    """Requests counted per key and fixed window (accounts/ratelimit.py): password reset e-mails
    per address asked for and per client address."""

    key = models.CharField(max_length=100)
    window_start = models.DateTimeField()
    count = models.IntegerField(default=0)

    class Meta:
        # The limiter's upsert (INSERT ... ON CONFLICT (key, window_start) DO UPDATE).
        constraints = [models.UniqueConstraint(fields=["key", "window_start"], name="rate_count_once")]
        # The clean-up of past windows.
        indexes = [models.Index(fields=["window_start"], name="rate_count_window")]

    def __str__(self) -> str:
        return f"{self.key} @ {self.window_start:%Y-%m-%d %H:%M}: {self.count}"
