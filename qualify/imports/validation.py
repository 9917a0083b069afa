"""Rows → good or bad: every rule an imported row must pass before anything is written.

Stage paths. A new lead walks the funnel from "new" to its imported stage: new → [mql] →
working → handed off → accepted → opportunity → won | lost; nurture and disqualified are side
exits straight from new. MQL is a step only when the file gives an MQL date or the lead is
imported *as* an MQL (nothing is invented: an outbound lead imported as Working never was an
MQL). An outcome (won/lost) of an existing lead continues from its current stage the same way;
a disqualified outcome is the one step out of an open stage.
Every consecutive pair is checked against lifecycle.ALLOWED: a step the lifecycle would refuse
(e.g. Won for a disqualified lead) makes the row bad. Disqualified needs a reason that exists;
Won and Lost need a close date. A close date before the created date is accepted with a warning
on the job (the Olist data has one). Owner and AE must be reps of the job's team (looked up by
email, username or full name).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.utils import timezone

from accounts.models import Role, User
from qualify.leads.lifecycle import ALLOWED
from qualify.leads.models import DisqualifyReason, Lead, Stage

from .columns import norm
from .models import ImportJob, ImportKind
from .parsing import Bad

S = Stage


@dataclass
class RowError:
    row: int  # 1-based data row number (the header is row 0)
    column: str
    message: str
    line: int = 0  # the physical line in the file; blank lines and multi-line values make it differ

    def as_dict(self) -> dict:
        return {"row": self.row, "line": self.line or self.row + 1, "column": self.column, "message": self.message}


@dataclass
class Good:
    row: int
    values: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    line: int = 0
    # filled by validation:
    lead: Lead | None = None
    owner: User | None = None
    ae: User | None = None
    reason: DisqualifyReason | None = None
    path: list[str] = field(default_factory=list)


class Context:
    """Everything validation needs from the database, loaded once per job (a handful of queries
    whatever the number of rows)."""

    def __init__(self, job: ImportJob, rows: list[dict[str, Any]]):
        self.job, self.team_id = job, job.team_id
        # Active ones only: deactivating someone keeps their memberships, and a lead given to them
        # would wait in the queue of someone who can no longer sign in (routing skips them too).
        reps = list(
            User.objects.filter(memberships__team_id=job.team_id, memberships__role__in=[Role.SDR, Role.AE, Role.MANAGER],
                                is_active=True)
            .distinct()
        )
        self.users: dict[str, User] = {}
        for u in reps:
            for key in (u.username, u.email, u.get_full_name()):
                if key:
                    self.users.setdefault(key.strip().lower(), u)
        self.reasons = {norm(r.name): r for r in DisqualifyReason.objects.filter(active=True)}
        ext_ids = {r["external_id"] for r in rows if r.get("external_id")}
        emails = {r["email"] for r in rows if r.get("email")}
        leads = Lead.objects.filter(team_id=job.team_id).filter(Q(external_id__in=ext_ids) | Q(email__in=emails))
        self.leads_by_ext, self.leads_by_email = {}, {}
        for lead in leads:
            if lead.external_id:
                self.leads_by_ext[lead.external_id] = lead
            if lead.email:
                self.leads_by_email.setdefault(lead.email.lower(), lead)
        self.seen_ext: set[str] = set()
        self.seen_domains_for_accounts: set[str] = set()

    def user(self, value: str, column: str) -> User:
        found = self.users.get(value.strip().lower())
        if found is None:
            raise Bad(f"'{value}' is not a rep of this team (match by email, username or full name)")
        return found


# Where each imported stage's path goes after "new", in funnel order.
FUNNEL = [S.NEW, S.MQL, S.WORKING, S.HANDED_OFF, S.ACCEPTED, S.OPPORTUNITY]


def stage_path(current: str, target: str, *, with_mql: bool) -> list[str]:
    """Stages to step through from `current` to `target` (exclusive of current), or Bad.

    Funnel targets follow FUNNEL from where the lead is (skipping MQL unless `with_mql`); won and
    lost come after opportunity; nurture and disqualified are one step. Every step is checked
    against lifecycle.ALLOWED, so an import never makes a move the lifecycle would refuse."""
    if target == current:
        return []
    if target in (S.NURTURE, S.DISQUALIFIED, S.HANDED_OFF):
        if target == S.HANDED_OFF:
            raise Bad("'Handed off' cannot be imported (it needs a handoff packet); import it as Working or Accepted")
        path = [target]
    else:
        chain = [*FUNNEL, target] if target in (S.WON, S.LOST) else FUNNEL[: FUNNEL.index(target) + 1]
        if current == S.NURTURE:
            start = FUNNEL.index(S.WORKING)  # a nurtured lead comes back into the funnel as Working
        elif current in FUNNEL:
            start = FUNNEL.index(current) + 1
        else:
            raise Bad(f"this lead is {Stage(current).label}; it cannot become {Stage(target).label}")
        path = [s for s in chain[start:] if s != S.MQL or with_mql or target == S.MQL]
        if not path:
            raise Bad(f"this lead is already {Stage(current).label}, past {Stage(target).label}")
    prev = current
    for step in path:
        if step not in ALLOWED[prev]:
            raise Bad(f"the lifecycle does not allow {Stage(prev).label} → {Stage(step).label}")
        prev = step
    return path


def _path(current: str, target: str, with_mql: bool, column: str) -> list[str]:
    try:
        return stage_path(current, target, with_mql=with_mql)
    except Bad as e:
        raise Bad(str(e.args[0]), column)


def validate(ctx: Context, kind: str, n: int, values: dict[str, Any], columns: dict[str, str]) -> Good:
    """Raise Bad (with the column in args[1] when known) or return the good row."""
    good = Good(row=n, values=values)
    col = columns.get
    if kind == ImportKind.ACCOUNTS:
        if not values.get("company"):
            raise Bad("a company name is required", col("company", "company"))
        if d := values.get("domain"):
            if d in ctx.seen_domains_for_accounts:
                raise Bad(f"domain {d} appears twice in the file", col("domain"))
            ctx.seen_domains_for_accounts.add(d)
        if v := values.get("owner"):
            try:
                good.owner = ctx.user(v, col("owner"))
            except Bad as e:
                raise Bad(str(e), col("owner"))
        return good

    if v := values.get("owner"):
        try:
            good.owner = ctx.user(v, col("owner"))
        except Bad as e:
            raise Bad(str(e), col("owner"))
    if v := values.get("ae"):
        try:
            good.ae = ctx.user(v, col("ae"))
        except Bad as e:
            raise Bad(str(e), col("ae"))
    if v := values.get("reason"):
        good.reason = ctx.reasons.get(norm(v))
        if good.reason is None:
            raise Bad(f"unknown reason '{v}'", col("reason"))

    if kind == ImportKind.OUTCOMES:
        lead = None
        if ext := values.get("external_id"):
            lead = ctx.leads_by_ext.get(ext)
            if ext in ctx.seen_ext:
                raise Bad(f"lead {ext} appears twice in the file", col("external_id"))
            ctx.seen_ext.add(ext)
        elif email := values.get("email"):
            lead = ctx.leads_by_email.get(email)
        else:
            raise Bad("an external id or an email is needed to find the lead", col("external_id"))
        if lead is None:
            raise Bad("no lead of this team has this id or email", col("external_id") or col("email"))
        target = values.get("stage")
        # Disqualified: a lead that never became a deal (an MQL nobody bought from), closed in one
        # step; Lost would invent the handoff, acceptance and opportunity it never had.
        if target not in (S.WON, S.LOST, S.DISQUALIFIED):
            raise Bad("an outcome must be Won, Lost or Disqualified", col("stage", "stage"))
        if not values.get("close_date"):
            raise Bad("an outcome needs a close date", col("close_date") or col("stage", "stage"))
        if target == S.DISQUALIFIED and good.reason is None:
            raise Bad("Disqualified needs a reason", col("reason") or col("stage", "stage"))
        good.lead = lead
        good.path = _path(lead.stage, target, False, col("stage", "stage"))
        if not good.path:
            raise Bad(f"this lead is already {Stage(target).label}", col("stage", "stage"))
        if values["close_date"] < lead.created_at:
            good.warnings.append(f"closed {values['close_date']:%Y-%m-%d %H:%M} before the lead was created "
                                 f"({lead.created_at:%Y-%m-%d}); imported as given")
        return good

    # leads
    if not (values.get("first_name") or values.get("full_name") or values.get("email") or values.get("external_id")):
        raise Bad("a name, an email or an external id is required", col("first_name", "first_name"))
    if ext := values.get("external_id"):
        if ext in ctx.seen_ext:
            raise Bad(f"external id {ext} appears twice in the file", col("external_id"))
        ctx.seen_ext.add(ext)
        if ext in ctx.leads_by_ext:
            raise Bad(f"a lead with external id {ext} already exists in this team", col("external_id"))
    target = values.get("stage", S.NEW)
    if target == S.DISQUALIFIED and good.reason is None:
        raise Bad("Disqualified needs a reason", col("reason") or col("stage", "stage"))
    if target in (S.WON, S.LOST) and not values.get("close_date"):
        raise Bad(f"{Stage(target).label} needs a close date", col("close_date") or col("stage", "stage"))
    good.path = _path(S.NEW, target, "mql_date" in values, col("stage", "stage"))
    created = values.get("created")
    if created and values.get("close_date") and values["close_date"] < created:
        good.warnings.append(f"closed {values['close_date']:%Y-%m-%d %H:%M} before it was created ({created:%Y-%m-%d}); imported as given")
    if created and created > timezone.now() + datetime.timedelta(days=1):
        raise Bad("the created date is in the future", col("created"))
    return good
