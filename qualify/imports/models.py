"""CSV import jobs: one upload, its mapping, its runs (dry or real), progress and bad rows."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

class ImportKind(models.TextChoices):
    LEADS = "leads", "Leads (and their accounts)"
    ACCOUNTS = "accounts", "Accounts"
    OUTCOMES = "outcomes", "Outcomes (won / lost) of existing leads"


class ImportMode(models.TextChoices):
    ALL_OR_NOTHING = "all_or_nothing", "All or nothing: import only if every row is good"
    GOOD_ROWS = "good_rows", "Import the good rows, skip the bad ones"


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", "Uploaded: check the mapping"
    PENDING = "pending", "Waiting"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    REFUSED = "refused", "Refused: bad rows, nothing imported"
    FAILED = "failed", "Failed"


class ImportJob(models.Model):
    """One CSV upload: its mapping, a dry run or a real import, progress, and every bad row."""

    kind = models.CharField(max_length=16, choices=ImportKind.choices)
    team = models.ForeignKey("accounts.Team", on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    filename = models.CharField(max_length=255, blank=True, default="")
    # Kept in the database so a worker on another machine can read it.
    content = models.BinaryField()
    header = models.JSONField(default=list)
    mapping = models.JSONField(default=dict, help_text="CSV column → field.")
    dry_run = models.BooleanField(default=True)
    mode = models.CharField(max_length=16, choices=ImportMode.choices, default=ImportMode.ALL_OR_NOTHING)
    defaults = models.JSONField(default=dict, blank=True, help_text="Values for fields the file leaves empty, e.g. {'source': 'inbound'}.")
    # A column mapped to "prop:<key>" fills that custom property; the keys not defined yet are
    # defined here and created only when the rows are written (a dry or refused run creates none).
    new_properties = models.JSONField(
        default=dict, blank=True, help_text='{"key": {"label", "kind", "choices", "known_after_contact"}} created on import.'
    )
    value_maps = models.JSONField(
        default=dict, blank=True, help_text='Cell value → choice per field, e.g. {"stage": {"1": "won", "0": "lost"}}.'
    )
    status = models.CharField(max_length=16, choices=ImportStatus.choices, default=ImportStatus.UPLOADED)
    total_rows = models.IntegerField(default=0)
    processed_rows = models.IntegerField(default=0)
    good_rows = models.IntegerField(default=0)
    bad_rows = models.IntegerField(default=0)
    errors = models.JSONField(default=list, help_text="[{row, column, message}] for the first bad rows.")
    warnings = models.JSONField(default=list)
    created = models.JSONField(default=dict, help_text="What the import wrote, e.g. {'leads': 10}.")
    message = models.TextField(blank=True, default="")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    imported_at = models.DateTimeField(null=True, blank=True, help_text="Set once rows were written; the job cannot run again.")
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="Last sign of life of the worker running it; a stale one is taken over."
    )
    attempts = models.IntegerField(default=0, help_text="Runs started; a worker may only write for its own attempt.")
    pending_since = models.DateTimeField(
        null=True, blank=True, help_text="When it was queued; one pending for long (a lost broker message) is queued again."
    )

    class Meta:
        # The table was created by the analytics app, where imports lived until issue 11; the
        # model moved (state only, migrations imports 0001 and analytics 0007), the rows did not.
        db_table = "analytics_importjob"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["created_by", "-created_at"], name="importjob_user_time"),
            # jobs.take_over_stale_jobs: WHERE status = 'running' AND heartbeat_at < ?
            models.Index(fields=["heartbeat_at"], name="importjob_running_heartbeat", condition=Q(status="running")),
            # jobs.take_over_stale_jobs: WHERE status = 'pending' AND pending_since < ? (lost messages)
            models.Index(fields=["pending_since"], name="importjob_pending_since", condition=Q(status="pending")),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} import #{self.pk}"

    @property
    def is_finished(self) -> bool:
        return self.status in (ImportStatus.DONE, ImportStatus.REFUSED, ImportStatus.FAILED)

    @property
    def is_running(self) -> bool:
        return self.status in (ImportStatus.PENDING, ImportStatus.RUNNING)

    @property
    def percent(self) -> int:
        return round(100 * self.processed_rows / self.total_rows) if self.total_rows else (100 if self.is_finished else 0)
