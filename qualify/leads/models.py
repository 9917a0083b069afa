"""Accounts, leads, the signals observed about them and the history of their stages."""

from __future__ import annotations

import datetime
import functools

from typing import TYPE_CHECKING

import pghistory
import pgtrigger
from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from qualify.errors import DomainError
from qualify.formatting import show_datetime

if TYPE_CHECKING:
    from accounts.models import User


class Stage(models.TextChoices):
    NEW = "new", "New"
    MQL = "mql", "MQL"
    WORKING = "working", "Working"
    HANDED_OFF = "handed_off", "Handed off"
    ACCEPTED = "accepted", "Accepted"
    OPPORTUNITY = "opportunity", "Opportunity"
    WON = "won", "Won"
    LOST = "lost", "Lost"
    NURTURE = "nurture", "Nurture"
    DISQUALIFIED = "disqualified", "Disqualified"


# The stages an SDR works from their queue; the partial indexes below serve exactly these.
SDR_STAGES = (Stage.NEW, Stage.MQL, Stage.WORKING)
OPEN_STAGES = (*SDR_STAGES, Stage.HANDED_OFF, Stage.ACCEPTED, Stage.OPPORTUNITY)

# Sort keys of the queue (leads/queue.py SORTS) that are expressions, shared with the indexes that
# serve them: Postgres uses an expression index only for the very same expression.


class StageRank(models.Func):
    """The funnel position of a stage: New 0 ... Disqualified 9, as one template. It compiles to
    the SQL of the Case of ten Whens the stage-rank indexes were built with (leads 0016; a test
    compares the two), without resolving and compiling ten When nodes each time a query is built
    (about 2 ms of a stage-sorted page at 1M leads)."""

    template = "CASE " + " ".join(f"WHEN %(expressions)s = '{value}' THEN {rank}" for rank, value in enumerate(Stage.values)) + " ELSE NULL END"
    output_field = models.IntegerField()

    def __init__(self):
        super().__init__(models.F("stage"))


STAGE_RANK = StageRank()


# Never touched sorts as touched at the epoch: the least recently touched first.
NEVER = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
LAST_TOUCH_KEY = Coalesce(
    models.F("last_touch_at"), models.Value(NEVER, output_field=models.DateTimeField())
)


class Segment(models.TextChoices):
    SMB = "smb", "SMB"
    MID_MARKET = "mid_market", "Mid-market"
    ENTERPRISE = "enterprise", "Enterprise"


class RevenueBand(models.TextChoices):
    UNDER_1M = "lt1m", "< $1M"
    M1_10 = "1m_10m", "$1M–10M"
    M10_50 = "10m_50m", "$10M–50M"
    M50_250 = "50m_250m", "$50M–250M"
    M250_1B = "250m_1b", "$250M–1B"
    OVER_1B = "gt1b", "> $1B"


class Source(models.TextChoices):
    INBOUND = "inbound", "Inbound"
    OUTBOUND = "outbound", "Outbound"
    PARTNER = "partner", "Partner"
    PRODUCT_LED = "product_led", "Product-led"
    EVENT = "event", "Event"


class Seniority(models.TextChoices):
    C_LEVEL = "c_level", "C-level"
    VP = "vp", "VP"
    DIRECTOR = "director", "Director"
    MANAGER = "manager", "Manager"
    INDIVIDUAL = "individual", "Individual contributor"
    STUDENT = "student", "Student"
    UNKNOWN = "", "Unknown"


class Persona(models.TextChoices):
    ECONOMIC_BUYER = "economic_buyer", "Economic buyer"
    CHAMPION = "champion", "Champion"
    TECHNICAL_EVALUATOR = "technical_evaluator", "Technical evaluator"
    END_USER = "end_user", "End user"
    INFLUENCER = "influencer", "Influencer"
    UNKNOWN = "", "Unknown"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class Account(models.Model):
    name = models.CharField(max_length=200)
    domain = models.CharField(max_length=200, blank=True, default="")
    industry = models.CharField(max_length=100, blank=True, default="")
    employee_count = models.PositiveIntegerField(null=True, blank=True)
    revenue_band = models.CharField(max_length=16, choices=RevenueBand.choices, blank=True, default="")
    country = models.CharField(max_length=2, blank=True, default="", help_text="ISO 3166 alpha-2")
    region = models.CharField(max_length=32, blank=True, default="", help_text="e.g. NA, EMEA, APAC, LATAM")
    segment = models.CharField(max_length=16, choices=Segment.choices, blank=True, default="")
    team = models.ForeignKey("accounts.Team", on_delete=models.PROTECT, related_name="accounts")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_accounts",
        help_text="Account owner for account-based routing.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Custom property values keyed by Property.key (leads/properties.py validates and coerces them).
    properties = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            # Domains identify a team's companies on import and event ingestion; blank means unknown.
            # Per team: teams are separate workspaces, and a global key would tell one team which
            # companies another works ("already exists").
            models.UniqueConstraint(fields=["team", "domain"], condition=~Q(domain=""), name="account_team_domain_unique"),
        ]
        indexes = [
            models.Index(fields=["team", "name"], name="account_team_name"),
            # Event ingestion and imports look a domain up across the poster's visible accounts.
            models.Index(fields=["domain"], name="account_domain", condition=~Q(domain="")),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return _account_url_pattern().format(self.pk)


@functools.cache
def _account_url_pattern() -> str:
    """The account URL with a hole for the id, reversed once (company names link to it in every list)."""
    from django.urls import reverse

    return reverse("leads:account", args=[987654321]).replace("987654321", "{}")


@functools.cache
def _lead_url_pattern() -> str:
    """The lead URL with a hole for the id: reversed once, not once per queue row."""
    from django.urls import reverse

    return reverse("leads:detail", args=[987654321]).replace("987654321", "{}")


# The queue's sort key for predicted conversion: unpredicted leads (NULL) rank below every probability.
PREDICTED_RANK = Coalesce(models.F("predicted"), models.Value(-1.0), output_field=models.FloatField())


class LeadQuerySet(models.QuerySet["Lead"]):
    def visible_to(self, user: User) -> LeadQuerySet:
        from .access import visible_leads_filter

        return self.filter(visible_leads_filter(user))


# Score and touch-time changes are high-volume and have their own history (score snapshots, touches).
@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(
        condition=pghistory.AnyChange(
            exclude=[
                "score", "last_touch_at", "updated_at", "score_version", "score_fit", "score_engagement",
                "score_engagement_at", "score_half_life_days", "score_engagement_cap", "score_cap", "fit_grade",
                "score_watermark", "score_computed_at", "score_changes_at", "predicted", "predicted_version",
            ]
        )
    ),
)
class Lead(models.Model):
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100, blank=True, default="")
    email = models.EmailField(blank=True, default="")
    phone = models.CharField(max_length=40, blank=True, default="")
    title = models.CharField(max_length=200, blank=True, default="")
    seniority = models.CharField(max_length=16, choices=Seniority.choices, blank=True, default="")
    department = models.CharField(max_length=64, blank=True, default="")
    persona = models.CharField(max_length=32, choices=Persona.choices, blank=True, default="")
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.INBOUND)
    campaign = models.CharField(max_length=200, blank=True, default="")
    partner_name = models.CharField(max_length=200, blank=True, default="", help_text="Partner-sourced leads only.")
    partner_contact = models.CharField(max_length=200, blank=True, default="")
    external_id = models.CharField(max_length=100, blank=True, default="", help_text="Id in the system this lead came from.")

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="leads")
    # Lead rows are rewritten on every event, and a write that changes `score` (in the queue
    # indexes) cannot be a HOT update, so it writes every index on the table. Foreign keys that
    # an index below already leads with (team, ae), or that are rarely set or only checked on
    # delete (disqualify_reason, score_version), carry no index of their own.
    team = models.ForeignKey("accounts.Team", on_delete=models.PROTECT, related_name="leads", db_index=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_leads"
    )
    ae = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="ae_leads",
        db_index=False,
        help_text="The AE this lead was handed to.",
    )

    stage = models.CharField(max_length=16, choices=Stage.choices, default=Stage.NEW)
    stage_changed_at = models.DateTimeField(default=timezone.now)
    recycle_on = models.DateField(null=True, blank=True, help_text="When a nurtured lead returns to the queue.")
    disqualify_reason = models.ForeignKey(
        "leads.DisqualifyReason", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    score = models.IntegerField(default=0, help_text="Current qualification score; the queue ranks by it.")
    # Scoring state (qualify/scoring): the score *now* is a closed-form function of these columns
    # (qualify.scoring.ranking), so decay needs no rewrites and the queue can sort by it exactly.
    score_version = models.ForeignKey(
        "scoring.ModelVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False,
        help_text="The model version that produced the stored score.",
    )
    score_fit = models.FloatField(default=0)
    score_engagement = models.FloatField(default=0, help_text="Engagement points as of score_engagement_at.")
    score_engagement_at = models.DateTimeField(null=True, blank=True)
    score_half_life_days = models.FloatField(default=0)
    score_engagement_cap = models.FloatField(null=True, blank=True)
    score_cap = models.FloatField(null=True, blank=True)
    fit_grade = models.CharField(max_length=1, blank=True, default="")
    score_watermark = models.BigIntegerField(default=0, help_text="Highest event id counted in the stored score.")
    score_computed_at = models.DateTimeField(null=True, blank=True)
    score_changes_at = models.DateTimeField(
        null=True, blank=True, help_text="When decay next changes the displayed score (scoring refreshes `score` then)."
    )
    # Predicted conversion (qualify/predictions): the calibrated probability the active prediction
    # model gives this lead, and which version gave it (the version explains it). Written in
    # batches after scoring, never per event; NULL until a model is trained.
    predicted = models.FloatField(null=True, blank=True, help_text="Predicted probability of winning (0-1).")
    predicted_version = models.PositiveIntegerField(null=True, blank=True, help_text="Prediction version that wrote it.")
    last_touch_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    # Custom property values keyed by Property.key: numbers as JSON numbers, yes/no as booleans,
    # dates as ISO strings (leads/properties.py is the one place that validates and coerces them).
    properties = models.JSONField(default=dict, blank=True)

    objects = LeadQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["team", "external_id"], condition=~Q(external_id=""), name="lead_external_id_unique"
            ),
            models.CheckConstraint(
                condition=~Q(stage="nurture") | Q(recycle_on__isnull=False), name="lead_nurture_has_recycle_date"
            ),
        ]
        indexes = [
            # SDR "My queue": WHERE owner_id=? AND stage IN (new, mql, working) ORDER BY score DESC, id DESC.
            models.Index(
                "owner",
                models.F("score").desc(),
                models.F("id").desc(),
                name="lead_owner_queue",
                condition=Q(stage__in=SDR_STAGES),
            ),
            # Team pool: unassigned leads of a team in SDR stages, same ordering.
            models.Index(
                "team",
                models.F("score").desc(),
                models.F("id").desc(),
                name="lead_team_pool",
                condition=Q(stage__in=SDR_STAGES, owner__isnull=True),
            ),
            # Manager "Whole team" queue: WHERE team_id=? AND stage IN (open stages) ORDER BY score DESC,
            # id DESC (without it, every page sorts the team's ~460k open leads at 1M: 0.7-1.5 s).
            models.Index(
                "team",
                models.F("score").desc(),
                models.F("id").desc(),
                name="lead_team_open",
                condition=Q(stage__in=OPEN_STAGES),
            ),
            # The queue's other sorts for a manager's whole team and the team pool (queue.SORTS):
            # WHERE team_id=? AND stage IN (open stages) ORDER BY <key>, id, either direction.
            models.Index("team", LAST_TOUCH_KEY, "id", name="lead_team_touch", condition=Q(stage__in=OPEN_STAGES)),
            models.Index("team", "created_at", "id", name="lead_team_created", condition=Q(stage__in=OPEN_STAGES)),
            models.Index("team", STAGE_RANK, "id", name="lead_team_stage_rank", condition=Q(stage__in=OPEN_STAGES)),
            # The same three sorts of an SDR's own queue: without them Postgres fetches every lead of
            # the queue (12,500 at 1M) and sorts them, 30-46 ms a page against about 1 ms.
            models.Index("owner", LAST_TOUCH_KEY, "id", name="lead_owner_touch", condition=Q(stage__in=SDR_STAGES)),
            models.Index("owner", "created_at", "id", name="lead_owner_created", condition=Q(stage__in=SDR_STAGES)),
            models.Index("owner", STAGE_RANK, "id", name="lead_owner_stage_rank", condition=Q(stage__in=SDR_STAGES)),
            # The same three queues sorted by predicted conversion (queue.py, sort=predicted):
            # ORDER BY COALESCE(predicted, -1) DESC, id DESC, so leads not predicted yet come last
            # and the keyset cursor stays one row comparison.
            models.Index(
                "owner", PREDICTED_RANK.desc(), models.F("id").desc(),
                name="lead_owner_predicted", condition=Q(stage__in=SDR_STAGES),
            ),
            models.Index(
                "team", PREDICTED_RANK.desc(), models.F("id").desc(),
                name="lead_pool_predicted", condition=Q(stage__in=SDR_STAGES, owner__isnull=True),
            ),
            models.Index(
                "team", PREDICTED_RANK.desc(), models.F("id").desc(),
                name="lead_open_predicted", condition=Q(stage__in=OPEN_STAGES),
            ),
            # Reconciler of new MQLs (qualify/sla/reconcile.py): WHERE stage='mql' AND stage_changed_at in a day.
            models.Index(fields=["stage_changed_at"], name="lead_mql_since", condition=Q(stage="mql")),
            # Manager and AE views: a team's leads by stage, and an AE's leads.
            models.Index(fields=["team", "stage"], name="lead_team_stage"),
            models.Index(fields=["ae", "stage"], name="lead_ae_stage", condition=Q(ae__isnull=False)),
            # Nurture recycle sweep: WHERE stage='nurture' AND recycle_on <= today.
            models.Index(fields=["recycle_on"], name="lead_recycle_due", condition=Q(stage="nurture")),
            models.Index(fields=["email"], name="lead_email", condition=~Q(email="")),
            # Deleting a reason checks it is unused (PROTECT); only disqualified and nurtured leads have one.
            models.Index(fields=["disqualify_reason"], name="lead_reason", condition=Q(disqualify_reason__isnull=False)),
            # Decay refresh (scoring.refresh_due): WHERE score_changes_at <= now() ORDER BY score_changes_at.
            models.Index(fields=["score_changes_at"], name="lead_score_due", condition=Q(score_changes_at__isnull=False)),
            # Queue and API property filters: WHERE properties @> '{"key": value}' (leads/properties.py).
            GinIndex(fields=["properties"], opclasses=["jsonb_path_ops"], name="lead_properties"),
        ]

    def __str__(self) -> str:
        return self.full_name

    def get_absolute_url(self) -> str:
        return _lead_url_pattern().format(self.pk)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def is_open(self) -> bool:
        return self.stage in OPEN_STAGES

    def manual_next(self) -> list[tuple[str, str]]:
        """Stages a rep can pick from the inline menu (see lifecycle.MANUAL_STAGES)."""
        from .lifecycle import manual_next

        return [(s, Stage(s).label) for s in manual_next(self.stage)]


class EventType(models.TextChoices):
    PAGE_VIEW = "page_view", "Page view"
    EMAIL_OPEN = "email_open", "Email open"
    EMAIL_CLICK = "email_click", "Email click"
    EMAIL_REPLY = "email_reply", "Email reply"
    FORM_FILL = "form_fill", "Form fill"
    WEBINAR_REGISTERED = "webinar_registered", "Webinar registered"
    WEBINAR_ATTENDED = "webinar_attended", "Webinar attended"
    DEMO_REQUEST = "demo_request", "Demo request"
    PRODUCT_USAGE = "product_usage", "Product usage"
    INTENT_SURGE = "intent_surge", "Intent surge"
    # A Segment `track` call: the event name is properties["event"], which rules match on.
    TRACK = "track", "Tracked event (Segment)"


class Event(models.Model):
    """A behavioural signal. Immutable: a trigger refuses updates and deletes."""

    # Indexed by the two composite indexes below; a third lead_id index would only slow ingestion
    # (every event insert writes a random page of each index).
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="events", db_index=False)
    type = models.CharField(max_length=32, choices=EventType.choices)
    properties = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)
    client_id = models.CharField(max_length=100, blank=True, default="", help_text="Sender's id; retries dedupe on it.")
    # The team whose lead received it: the scope of client_id, so one team's ids never swallow
    # another's events. Set by ingestion from the lead it locks (no extra query); history written
    # without a client id (demo seed, benchmarks) may leave it empty. No index of its own: the
    # unique index below leads with it.
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )

    class Meta:
        indexes = [
            # One index for a lead's events by time (timelines; incremental scoring's windows: lead_id =
            # ? AND occurred_at >= ?) and for its new events (lead_id = ANY(?) AND id > score_watermark:
            # the id is checked in the index, so only new events are fetched). It replaces a (lead, id)
            # index: every event insert wrote a random page of each, a full-page image of WAL after
            # each checkpoint (see README, ingestion).
            models.Index(fields=["lead", "-occurred_at", "id"], name="event_lead_time_id"),
        ]
        constraints = [
            # Ingestion's ON CONFLICT (team_id, client_id) WHERE client_id <> '' (qualify/scoring/ingest.py).
            models.UniqueConstraint(
                fields=["team", "client_id"], condition=~Q(client_id=""), name="event_team_client_id_unique"
            ),
            # A NULL team would put the event outside the unique key above: retries would count twice.
            models.CheckConstraint(
                condition=Q(client_id="") | Q(team__isnull=False), name="event_client_id_has_team"
            ),
        ]
        triggers = [
            pgtrigger.Protect(name="event_append_only", operation=pgtrigger.Update),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} at {show_datetime(self.occurred_at)}"


# The longest note a person may write on a touch, a stage change or a rejection (forms and verbs).
NOTE_MAX_LENGTH = 5000


def note_too_long(length: int, what: str = "note") -> str:
    """The one message for a note over NOTE_MAX_LENGTH, from a form or a verb: "20,000" either way."""
    return f"The {what} is too long: {length:,} characters; keep it to {NOTE_MAX_LENGTH:,}."


def clean_note(text: str | None, field: str = "note", what: str = "note") -> str:
    """`text` stripped, or DomainError when it is over NOTE_MAX_LENGTH: every free text a person
    writes through a verb (decision notes, verdicts, task notes, evidence) is held to one limit,
    so nothing pastes megabytes into lead pages, handoff packets and webhook payloads."""
    text = (text or "").strip()
    if len(text) > NOTE_MAX_LENGTH:
        raise DomainError(note_too_long(len(text), what), field=field)
    return text


class TouchKind(models.TextChoices):
    CALL = "call", "Call"
    EMAIL = "email", "Email"
    MEETING = "meeting", "Meeting"
    LINKEDIN = "linkedin", "LinkedIn"
    OTHER = "other", "Other"


class TouchOutcome(models.TextChoices):
    CONNECTED = "connected", "Connected"
    VOICEMAIL = "voicemail", "Left voicemail"
    NO_ANSWER = "no_answer", "No answer"
    SENT = "sent", "Sent"
    REPLIED = "replied", "Replied"
    MEETING_BOOKED = "meeting_booked", "Meeting booked"
    NOT_INTERESTED = "not_interested", "Not interested"
    WRONG_CONTACT = "wrong_contact", "Wrong contact"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class Touch(models.Model):
    """A rep's call, email or meeting with a lead, and how it went."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="touches")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="touches")
    kind = models.CharField(max_length=16, choices=TouchKind.choices)
    outcome = models.CharField(max_length=16, choices=TouchOutcome.choices)
    note = models.TextField(blank=True, default="")
    occurred_at = models.DateTimeField(default=timezone.now)

    # Not stored: log_touch sets it on the touch it returns for a repeat (nothing new was logged).
    repeated: bool = False

    class Meta:
        # The lead page's touches, newest first, and log_touch's repeat check.
        indexes = [models.Index(fields=["lead", "-occurred_at"], name="touch_lead_time")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.get_outcome_display()}"


class ReasonAction(models.TextChoices):
    BACK_TO_SDR = "back_to_sdr", "Back to the SDR's queue"
    NURTURE = "nurture", "Nurture, recycle later"
    CLOSE = "close", "Disqualify (closed)"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class DisqualifyReason(models.Model):
    """Why a lead was rejected, nurtured or disqualified, and where that sends it."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True, default="")
    action = models.CharField(max_length=16, choices=ReasonAction.choices)
    recycle_days = models.PositiveIntegerField(default=90, help_text="Default recycle delay when nurturing.")
    note_required = models.BooleanField(default=True)
    min_note_length = models.PositiveIntegerField(default=10, help_text="Shortest acceptable note.")
    dimension = models.CharField(
        max_length=64, blank=True, default="", help_text="Framework dimension it relates to, e.g. 'Budget'."
    )
    active = models.BooleanField(default=True, help_text="Retired reasons stay on history but cannot be chosen.")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class StageChange(models.Model):
    """One row per stage transition; append-only, so funnels are queries over history."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.CharField(max_length=16, choices=Stage.choices, blank=True, default="")
    to_stage = models.CharField(max_length=16, choices=Stage.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="Empty when the system moved it (a task or a rule).",
    )
    at = models.DateTimeField(default=timezone.now)
    why = models.TextField(blank=True, default="")
    reason = models.ForeignKey(
        DisqualifyReason, null=True, blank=True, on_delete=models.PROTECT, related_name="stage_changes"
    )

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["lead", "-at"], name="stagechange_lead_time"),
            # Funnel and velocity queries: transitions into a stage over a date range.
            models.Index(fields=["to_stage", "at"], name="stagechange_to_at"),
        ]
        triggers = [
            pgtrigger.Protect(name="stagechange_append_only", operation=pgtrigger.Update),
        ]

    def __str__(self) -> str:
        return f"{self.from_stage or '∅'} → {self.to_stage}"



class PropertyEntity(models.TextChoices):
    LEAD = "lead", "Lead"
    ACCOUNT = "account", "Account"


class PropertyKind(models.TextChoices):
    TEXT = "text", "Text"
    NUMBER = "number", "Number"
    CHOICE = "choice", "Choice"
    YESNO = "yesno", "Yes/no"
    DATE = "date", "Date"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class Property(models.Model):
    """An admin-defined field of leads or accounts that the built-in model lacks (visits, occupation,
    a marketing export's own columns). Values live in Lead.properties / Account.properties under
    `key`; leads/properties.py validates them. Retired (inactive) properties keep their values on
    records and in history but are no longer shown, edited or imported."""

    key = models.SlugField(max_length=50, help_text="Stable name in filters, rules, the API and exports.")
    label = models.CharField(max_length=100)
    entity = models.CharField(max_length=8, choices=PropertyEntity.choices, default=PropertyEntity.LEAD)
    kind = models.CharField(max_length=8, choices=PropertyKind.choices, default=PropertyKind.TEXT)
    choices = models.JSONField(default=list, blank=True, help_text="The allowed values of a choice property.")
    known_after_contact = models.BooleanField(
        default=False, help_text="Known only after contact: the predictive model leaves it out (it would leak the outcome)."
    )
    active = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["entity", "position", "label"]
        verbose_name_plural = "properties"
        constraints = [
            models.UniqueConstraint(fields=["entity", "key"], name="property_entity_key_unique"),
        ]

    def __str__(self) -> str:
        return self.label

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        self._definitions_changed()

    def delete(self, *args, **kwargs):
        result = super().delete(*args, **kwargs)
        self._definitions_changed()
        return result

    @staticmethod
    def _definitions_changed() -> None:
        """Saved definitions are read from a cache (leads/properties.definitions): drop it now and
        again after commit, so no request re-caches the old list in between. A number property's
        range filter needs its index (property_indexes.py) and a retired one's goes: the sync
        compares everything, so any change queues it (idempotent, cheap)."""
        from django.db import transaction

        from .properties import forget_definitions
        from .property_indexes import schedule

        forget_definitions()
        transaction.on_commit(forget_definitions)
        schedule()


class Redirect(models.Model):
    """A record merged into another (leads/merge.py): its id keeps resolving to the survivor, so
    old URLs, API clients and bookmarks land on the record that holds its history now. A chain
    (A into B, then B into C) is kept flat: merging B re-points A's row to C."""

    merged_id = models.BigIntegerField(primary_key=True, help_text="The id of the record that no longer exists.")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    # What the merged-away record looked like (its fields, as strings), since its row is gone.
    snapshot = models.JSONField(default=dict, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.merged_id} → {self.survivor_id}"


class MergedLead(Redirect):
    survivor = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="merged_from")


class MergedAccount(Redirect):
    survivor = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="merged_from")


class FormSubmission(models.Model):
    """A "New lead" or "New account" form's one-time token, claimed in the transaction that
    creates the record (record_views.py), and where that record's page is. A second submit of the
    same form, even one in flight at the same moment, finds the token taken and goes to the page."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    token = models.CharField(max_length=64)
    url = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        # The claim: a parallel insert of the same token waits for the first and then fails.
        constraints = [models.UniqueConstraint(fields=["user", "token"], name="form_submission_once")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.token} → {self.url}"


class SavedView(models.Model):
    """A named queue list: its filters and sort as a query string. Personal (team empty) or shared
    with a team by one of its managers; nobody outside that team ever sees a team view."""

    name = models.CharField(max_length=80)
    query = models.CharField(max_length=1000, blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views")
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="saved_views",
        help_text="Shared with this team; empty for a personal view.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["created_by", "name"], condition=Q(team__isnull=True),
                                    name="saved_view_personal_name_unique"),
            models.UniqueConstraint(fields=["team", "name"], condition=Q(team__isnull=False),
                                    name="saved_view_team_name_unique"),
        ]
        # The queue lists a user's own views and their teams' views: these two indexes answer it.
        indexes = [models.Index(fields=["team"], name="saved_view_team", condition=Q(team__isnull=False))]

    def __str__(self) -> str:
        return self.name
