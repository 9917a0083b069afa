"""Routing: the first matching rule picks a rep; the write goes through leads.assignment.assign.

`route` gathers facts for each matching rule (team members, out-of-office, open-lead counts,
caps), asks the pure chooser in choose.py, and assigns. Rotations (round robin, least loaded)
lock their rule's cursor row FOR UPDATE before counting, so concurrent routings of one rule take
turns and each sees the previous one's assignment: fair under concurrency, at the price of
serialising routings *of the same rule* (a few milliseconds each).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, replace

from django.db import transaction
from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import Count, OuterRef
from django.utils import timezone

from accounts.models import Membership, User
from qualify.errors import DomainError
from qualify.leads.assignment import OWNER_ROLES, assign, assign_many
from qualify.leads.models import SDR_STAGES, Lead, Stage
from qualify.lookups import looked_up, reused_lookups

from . import choose
from .history import _record_row, record
from .models import AccountOwned, Assignment, Method, RoundRobinCursor, RoutingRule


@dataclass
class RouteResult:
    owner_id: int | None
    rule: RoutingRule | None
    why: str
    changed: bool


def rule_matches(rule: RoutingRule, lead: Lead) -> bool:
    """Every set condition holds (blank = any). Pure: needs lead.account loaded."""
    account = lead.account
    return (
        (rule.team_id is None or rule.team_id == lead.team_id)
        and (not rule.segment or rule.segment == account.segment)
        and (not rule.region or rule.region.strip().lower() == account.region.strip().lower())
        and (not rule.industry or rule.industry.strip().lower() == account.industry.strip().lower())
        and (not rule.source or rule.source == lead.source)
        and (not rule.account_owned or (rule.account_owned == AccountOwned.YES) == (account.owner_id is not None))
    )


def active_rules() -> list[RoutingRule]:
    """One query (once per batch inside qualify.lookups.reused_lookups): the rules in order, each
    with the ids of the members it limits its rotation to."""
    return looked_up(("routing rules",), _load_active_rules)


def _load_active_rules() -> list[RoutingRule]:
    members = RoutingRule.members.through.objects.filter(routingrule_id=OuterRef("pk")).values("user_id")
    return list(RoutingRule.objects.filter(active=True).annotate(member_ids=ArraySubquery(members)).order_by("position", "id"))


def _away(start: datetime.date | None, end: datetime.date | None, today: datetime.date) -> bool:
    # Same rule as User.is_out_of_office, on values from one query.
    return bool(start and start <= today and (end is None or today <= end))


def candidates(rule: RoutingRule, lead: Lead, *, today: datetime.date, exclude: frozenset[int] = frozenset()) -> list[choose.Candidate]:
    """Who the rule may pick, with their availability. Two queries (members, open-lead counts), and
    a third when a named user or account owner is not among the members (deactivated or not)."""
    if rule.method == Method.USER:
        wanted: list[int] | None = [rule.user_id]
    elif rule.method == Method.ACCOUNT_OWNER:
        wanted = [lead.account.owner_id] if lead.account.owner_id else []
    else:
        wanted = None
    if wanted is not None:
        wanted = [u for u in wanted if u not in exclude]
        if not wanted:
            return []
        rows = Membership.objects.filter(team_id=lead.team_id, role__in=OWNER_ROLES, user_id__in=wanted)
    else:
        rows = Membership.objects.filter(team_id=lead.team_id, role=rule.role).exclude(user_id__in=exclude)
        member_ids = getattr(rule, "member_ids", None)
        if member_ids is None:
            member_ids = [m.pk for m in rule.members.all()]
        if member_ids:
            rows = rows.filter(user_id__in=member_ids)
    people: dict[int, dict] = {}
    for row in rows.filter(user__is_active=True).values(
        "user_id", "capacity", "role", "user__out_of_office_from", "user__out_of_office_until"
    ):
        person = people.setdefault(row["user_id"], {"caps": [], **row})
        # A personal cap counts on the membership routing picks from (the rule's role for rotations).
        if row["capacity"] is not None and (wanted is not None or row["role"] == rule.role):
            person["caps"].append(row["capacity"])
    ids = list(people)
    loads = dict(
        Lead.objects.filter(owner_id__in=ids, stage__in=SDR_STAGES)
        .values("owner_id").annotate(n=Count("id")).values_list("owner_id", "n")
    ) if ids else {}
    found = []
    for user_id, p in people.items():
        caps = [c for c in (*p["caps"], rule.capacity) if c is not None]
        found.append(
            choose.Candidate(
                user_id=user_id, load=loads.get(user_id, 0), cap=min(caps) if caps else None,
                away=_away(p["user__out_of_office_from"], p["user__out_of_office_until"], today),
            )
        )
    # A named user or account owner not found: deactivated (said so: "not on the lead's team" sent
    # managers looking for a membership that was there), or not an owner on the lead's team.
    missing = [u for u in wanted or [] if u not in people]
    inactive = set(User.objects.filter(pk__in=missing, is_active=False).values_list("pk", flat=True)) if missing else set()
    for user_id in missing:
        found.append(choose.Candidate(user_id=user_id, active=False) if user_id in inactive
                     else choose.Candidate(user_id=user_id, on_team=False))
    return found


def _lock_cursor(rule: RoutingRule) -> RoundRobinCursor:
    """The rule's cursor row, locked until commit. One query once the row exists."""
    cursor = RoundRobinCursor.objects.select_for_update().filter(rule=rule).first()
    if cursor is None:
        RoundRobinCursor.objects.bulk_create([RoundRobinCursor(rule=rule)], ignore_conflicts=True)
        cursor = RoundRobinCursor.objects.select_for_update().get(rule=rule)
    return cursor


def _user(user_id: int) -> User:
    """The user with their memberships loaded in the same query: assign() checks their roles, and
    User.memberships_cached would otherwise ask again."""
    memberships = list(Membership.objects.filter(user_id=user_id).select_related("user", "team"))
    if not memberships:
        return User.objects.get(pk=user_id)
    user = memberships[0].user
    user._memberships = memberships
    return user


def _pick(rule: RoutingRule, found: list[choose.Candidate], cursor: RoundRobinCursor | None) -> int | None:
    last = cursor.last_user_id if cursor else None
    if rule.method == Method.ROUND_ROBIN:
        return choose.round_robin(found, last)
    if rule.method == Method.LEAST_LOADED:
        return choose.least_loaded(found, last)
    return choose.single(found[0] if found else None)


def _nobody(rule: RoutingRule, found: list[choose.Candidate]) -> str:
    if not found:
        return f"{rule.name}: nobody to pick"
    names = dict(User.objects.filter(pk__in=[c.user_id for c in found]).values_list("pk", "username"))
    reasons = ", ".join(f"{names.get(c.user_id, c.user_id)} {c.why_not()}" for c in found[:5])
    return f"{rule.name}: skipped ({reasons})"


class _Round:
    """What the leads of one routing transaction share: each rotation's cursor, locked once and
    advanced in memory, and each rule's candidates, gathered once per team (and account owner)
    with their open-lead counts kept up to date as leads are given out. So routing a batch reads
    the facts once, and round robin over a batch is exactly as fair as one lead at a time."""

    def __init__(self) -> None:
        self.today = timezone.localdate()
        self.cursors: dict[int, RoundRobinCursor] = {}
        self.found: dict[tuple, list[choose.Candidate]] = {}

    def place(self, rule: RoutingRule, lead: Lead, exclude: frozenset[int]) -> tuple[int | None, list[choose.Candidate]]:
        cursor = None
        if rule.method in (Method.ROUND_ROBIN, Method.LEAST_LOADED):
            if rule.pk not in self.cursors:
                self.cursors[rule.pk] = _lock_cursor(rule)
            cursor = self.cursors[rule.pk]
        key = (rule.pk, lead.team_id, lead.account.owner_id if rule.method == Method.ACCOUNT_OWNER else None, exclude)
        if key not in self.found:
            self.found[key] = candidates(rule, lead, today=self.today, exclude=exclude)
        found = self.found[key]
        picked = _pick(rule, found, cursor)
        if picked is not None and cursor is not None:
            cursor.last_user_id, cursor.turns, cursor.moved = picked, cursor.turns + 1, True
        return picked, found

    def given(self, lead: Lead, owner_id: int | None) -> None:
        """The lead changes hands: its new owner holds one more open lead, the old one one fewer."""
        if lead.stage not in SDR_STAGES:
            return
        delta = {owner_id: 1, lead.owner_id: -1}
        for key, found in self.found.items():
            self.found[key] = [replace(c, load=c.load + delta[c.user_id]) if c.user_id in delta else c for c in found]

    def save(self) -> None:
        """Write each advanced cursor back: one UPDATE per rotation used."""
        for cursor in self.cursors.values():
            if getattr(cursor, "moved", False):
                RoundRobinCursor.objects.filter(pk=cursor.pk).update(last_user_id=cursor.last_user_id, turns=cursor.turns)


def _decide(
    state: _Round, lead: Lead, *, why: str, exclude: frozenset[int], override_only: bool, fallback_to_pool: bool,
) -> RouteResult:
    """Where the first matching rule sends `lead`: its new owner (None: the pool), or its current
    owner when no rule placed it and it may not fall back to the pool. Writes nothing."""
    notes: list[str] = []
    for rule in active_rules():
        if override_only and not rule.override_owner:
            continue
        if not rule_matches(rule, lead):
            continue
        picked, found = state.place(rule, lead, exclude)
        if picked is None:
            notes.append(_nobody(rule, found))
            continue
        reason = _why(why, notes, f"rule '{rule.name}' ({rule.get_method_display().lower()})")
        return RouteResult(picked, rule, reason, picked != lead.owner_id)
    if not fallback_to_pool:
        return RouteResult(lead.owner_id, None, _why(why, notes, "no other rep available"), False)
    return RouteResult(None, None, _why(why, notes, "no rule placed it: team pool"), lead.owner_id is not None)


def route(
    lead: Lead,
    *,
    by: User | None = None,
    why: str = "",
    exclude: frozenset[int] = frozenset(),
    override_only: bool = False,
    fallback_to_pool: bool = True,
    locked: bool = False,
) -> RouteResult:
    """Give `lead` to the rep the first matching rule picks, or to the team pool.

    `exclude`: reps not to pick (the current owner, when an escalation reassigns). `override_only`:
    consider only rules that may re-route an owned lead. With `fallback_to_pool=False` a lead no
    rule places keeps its owner. `locked`: the caller already holds the lead's row lock in this
    transaction and loaded it with its account. Every decision that places the lead, the pool
    included, is recorded in Assignment. Costs about 12 queries with the assignment and its clock.
    """
    # A locked lead means the caller's transaction holds it: join that, without a savepoint.
    with transaction.atomic(savepoint=not locked):
        if not locked:
            lead = Lead.objects.select_for_update(of=("self",)).select_related("account").get(pk=lead.pk)
        state = _Round()
        result = _decide(state, lead, why=why, exclude=exclude, override_only=override_only,
                         fallback_to_pool=fallback_to_pool)
        state.save()
        if not result.changed:
            if result.rule is not None or fallback_to_pool:
                # Nothing changes, but the routing decision is still on record.
                record(lead.pk, lead.owner_id, result.owner_id, by=by, rule=result.rule, why=result.why)
            return result
        owner = _user(result.owner_id) if result.owner_id else None
        assign(lead, owner=owner, by=by, rule=result.rule, why=result.why)
        return result


def route_new_mqls(lead_ids: list[int], *, why: str = "New MQL") -> int:
    """Route a batch of new MQLs in one transaction: unowned ones by the first matching rule (else
    the team pool), owned ones only by rules that override owners. The leads are locked together,
    rules, cursors and candidates read once (_Round), the owners written by assignment.assign_many
    and the decisions recorded in one INSERT. A thousand leads over ten reps cost a few dozen
    statements. Returns how many changed hands."""
    overriding = any(rule.override_owner for rule in active_rules())
    with transaction.atomic():
        leads = Lead.objects.select_for_update(of=("self",)).select_related("account").filter(pk__in=lead_ids, stage=Stage.MQL)
        if not overriding:
            leads = leads.filter(owner__isnull=True)
        state = _Round()
        placed: dict[int, tuple[int | None, RoutingRule | None, str]] = {}
        kept: list[Assignment] = []
        for lead in leads.order_by("pk"):
            owned = lead.owner_id is not None
            result = _decide(state, lead, why=why, exclude=frozenset(), override_only=owned, fallback_to_pool=not owned)
            if result.changed:
                placed[lead.pk] = (result.owner_id, result.rule, result.why)
                state.given(lead, result.owner_id)
            elif result.rule is not None or not owned:
                kept.append(_record_row(lead.pk, lead.owner_id, result.owner_id, by=None, rule=result.rule, why=result.why))
        state.save()
        Assignment.objects.bulk_create(kept)
        return len(assign_many(placed, by=None))


def _why(why: str, notes: list[str], outcome: str) -> str:
    return "; ".join(p for p in (why, *notes, outcome) if p)[:300]


# --- entry points ------------------------------------------------------------------------------


def route_new_mql(lead: Lead) -> bool:
    """A lead just became an MQL: route_new_mqls for one. Returns whether its owner changed."""
    return route_new_mqls([lead.pk]) == 1


def escalate(reassign: dict[int, str], to_pool: dict[int, str]) -> dict[int, str]:
    """SLA escalation of a batch of leads (the sweep's), in the caller's transaction. Each lead of
    `reassign` goes by the rules to someone other than its owner, or keeps its owner when nobody
    else is available (a later rung returns it to the pool); each lead of `to_pool` returns to its
    team's pool. Both map a lead id to why. The leads are locked together, rules, cursors and
    candidates read once (_Round), and every new owner written by one assignment.assign_many, so the
    listeners see one batch: a rep given many leads by one rule hears once (a digest). Returns
    {lead id: what happened}. About a dozen statements with the listeners, whatever the count."""
    kept: list[Assignment] = []
    placed: dict[int, tuple[int | None, RoutingRule | None, str]] = {}
    outcome: dict[int, str] = {}
    with transaction.atomic(savepoint=False), reused_lookups():  # the rules read once, not once a lead
        leads = list(Lead.objects.select_for_update(of=("self",)).select_related("account", "owner", "team")
                     .filter(pk__in=[*reassign, *to_pool]).order_by("pk"))
        state = _Round()
        for lead in leads:
            previous = lead.owner or "the pool"
            if lead.pk in to_pool:
                if lead.owner_id is None:
                    outcome[lead.pk] = "Already in the team pool"
                    continue
                placed[lead.pk] = (None, None, to_pool[lead.pk])
                state.given(lead, None)
                outcome[lead.pk] = f"Returned to the {lead.team} pool (was {previous})"
                continue
            exclude = frozenset({lead.owner_id}) if lead.owner_id else frozenset()
            result = _decide(state, lead, why=reassign[lead.pk], exclude=exclude, override_only=False,
                             fallback_to_pool=False)
            if not result.changed:
                if result.rule is not None:  # nothing changes, but the routing decision is on record
                    kept.append(_record_row(lead.pk, lead.owner_id, result.owner_id, by=None, rule=result.rule,
                                            why=result.why))
                outcome[lead.pk] = f"No other rep available; stays with {previous}"
                continue
            placed[lead.pk] = (result.owner_id, result.rule, result.why)
            state.given(lead, result.owner_id)
        state.save()
        Assignment.objects.bulk_create(kept)
        assign_many(placed, by=None)
    new_owners = User.objects.in_bulk({owner_id for owner_id, _, _ in placed.values() if owner_id})
    for lead in leads:
        if lead.pk not in outcome:
            owner_id, rule, _ = placed[lead.pk]
            outcome[lead.pk] = (f"Reassigned from {lead.owner or 'the pool'} to {new_owners.get(owner_id) or 'the pool'} "
                                f"by {rule or 'routing'}")
    return outcome


def reassign(lead: Lead, *, by: User, mode: str, to: User | None = None, why: str = "") -> RouteResult:
    """A manager's reassignment (page, API and admin call this). `mode`: 'user' gives it to `to`,
    'route' runs the rules (skipping the current owner), 'pool' returns it to the team pool.
    The caller checks can_reassign; bad input raises DomainError and changes nothing."""
    why = (why or "").strip()[:200]
    if mode == "user":
        if to is None:
            raise DomainError("Choose who gets the lead.", field="to")
        if to.pk == lead.owner_id:
            raise DomainError(f"{to} already owns this lead.", field="to")
        assign(lead, owner=to, by=by, why=why or f"Reassigned by {by}")
        return RouteResult(to.pk, None, why, True)
    if mode == "pool":
        if lead.owner_id is None:
            raise DomainError("This lead is already in the team pool.")
        assign(lead, owner=None, by=by, why=why or f"Returned to the pool by {by}")
        return RouteResult(None, None, why, True)
    if mode == "route":
        exclude = frozenset({lead.owner_id}) if lead.owner_id else frozenset()
        return route(lead, by=by, why=why or f"Re-routed by {by}", exclude=exclude, fallback_to_pool=False)
    raise DomainError(f"'{mode}' is not a way to reassign: use user, route or pool.", field="mode")
