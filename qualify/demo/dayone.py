"""Day one: after the seeded history commits, the workspace is brought up to the present through the
same code that runs it every day, so every page shows something true on first sign-in.

- The scorer's pass over New and Nurture: the rescore promoted nobody, so leads whose score is at
  the MQL threshold become MQLs now, as the scorer's next pass would make them (routed, clocked).
  MQLs of the last day that the history left unrouted are routed now, as the listener would have
  routed them. Otherwise beat's first minute after `make run` did both, and the summary was stale.
- SLA clocks start for what is waiting right now, from the moment the wait began: each pending
  handoff (the AE's accept-or-reject clock, from when it was handed off) and each owned MQL nobody
  has touched since it became one (the first-touch clock, from then). Then the SLA sweep runs, as
  beat would have: warnings, breaches and escalation rungs are recorded, and their notifications
  written, once each. Clocks started minutes ago are merely running or at risk.
- Today's work, through the verbs: each team's AE accepts its most recent pending handoff and
  rejects the one before with a reason and a note (the SDRs are told; older handoffs stay waiting
  and breached), and each manager asks for a follow-up on the first lead of their review queue
  (it goes to the SDR who qualified it).
- Each team's first SDR with a fully qualified lead hands it off (the AE is told; its clock
  starts now).
- People who came in twice: per team, a webinar form brings back three existing people as new
  leads (the same e-mail in other letter case; a new e-mail alias at the same company with the
  same phone; a short first name at the same company) and one account arrives again as "ACME,
  Inc." for "Acme". Duplicate detection flags each pair as it would any new record, so the
  duplicates page opens on believable pairs, not on chance phone matches.
- Import jobs: marketing of each team uploads a trade-show list of new leads, and RevOps a list of
  target accounts; the importer runs each as a dry run, as on the upload page (validated, nothing
  written), and tells the uploader how it ended; the job page offers the real import.

Everything is derived from the seeded rows (which handoffs wait, since when; which MQLs are
untouched), so seeding the same --seed twice the same minute gives the same result.
"""

from __future__ import annotations

import datetime
import logging
import random
from typing import IO

import pghistory
from django.db.models import Exists, F, OuterRef, Value
from django.db.models.functions import Concat
from django.utils import timezone

from accounts.models import Role, User
from qualify.demo.base import write_line
from qualify.demo.tables import CAST, TEAMS
from qualify.errors import DomainError
from qualify.handoff.models import Handoff, HandoffStatus
from qualify.frameworks.completeness import completeness
from qualify.handoff.workflow import accept, hand_off, reject
from qualify.imports.jobs import create_job, start
from qualify.leads.models import Account, DisqualifyReason, Lead, Source, Stage, Touch
from qualify.leads.records import create_account, create_lead
from qualify.reviews.models import ReviewItem, Verdict
from qualify.reviews.verdicts import record_verdict
from qualify.routing.engine import route_new_mqls
from qualify.scoring.scores import MQL_FROM, score_leads
from qualify.sla.clocks import start_clock
from qualify.sla.models import TOUCH_KINDS, Clock, ClockKind, ClockStatus
from qualify.sla.reconcile import unrouted_new_mqls
from qualify.sla.sweep import sweep

log = logging.getLogger(__name__)

REJECT_NOTE = ("Spoke to them on Tuesday: our contact cannot sign, and procurement owns this purchase. "
               "Find who signs and confirm authority before handing it back.")
NEXT_STEP = "Discovery call booked for Tuesday 10:00 with the COO"
FOLLOW_UP = "Confirm who signs, with the evidence on the lead, and book the next call"
SHOW_FIRST = ("Sam", "Priya", "Jonas", "Amara", "Lucas", "Mei", "Oskar", "Ines", "Tariq", "Elena", "Noah", "Yuki")
SHOW_LAST = ("Berg", "Okafor", "Silva", "Tanaka", "Novak", "Haddad", "Moreau", "Kowalski", "Reyes", "Larsen")
LEGAL_SUFFIX = r"\m(inc|ltd|plc|llc|gmbh|corp|co|sa|ag|bv|srl|sl|se|as|oy|ab)\.?$"
WEBINAR = "Webinar: qualification that sticks"  # the campaign of the people who arrive a second time
SHOW_COMPANIES = ("Northwind Robotics", "Bluepeak Analytics", "Crescent Foods", "Harbor Logistics", "Ironleaf Energy")


def bring_to_present(*, seed: int, stdout: IO[str] | None = None) -> dict[str, int]:
    """Clocks, the sweep, today's decisions and follow-ups, an import job. Returns counts."""
    users = {u.username: u for u in User.objects.filter(username__in=[c[0] for c in CAST])}
    counts: dict[str, int] = {}
    with pghistory.context(source="seed_demo"):
        counts["promoted"], counts["routed"] = _score_and_route()
        # The history has no clocks: those running now were started by the pass's listeners.
        counts["clocks"] = Clock.objects.count() + _start_clocks()
        result = sweep()  # what beat would have done had it been running; today's work comes after
        decided = _decide_recent_handoffs(users)
        counts.update(decided)
        counts["handed_off"] = _hand_off_ready_leads(users)
        counts["follow_ups"] = _ask_for_follow_ups(users)
        counts["imports"] = _import_trade_show_lists(users, seed)
        counts["arrived_twice"] = _arrive_twice(users)
    counts["escalation_steps"] = result.steps
    if stdout is not None:
        running = Clock.objects.filter(status=ClockStatus.OPEN)
        write_line(stdout, f"  Today's scoring pass: {counts['promoted']} leads reached the MQL threshold and became MQLs; "
                           f"{counts['routed']} of the last day's MQLs routed")
        write_line(stdout, f"  {counts['clocks']} SLA clocks started (today's new MQLs' now, the others from when each "
                           f"wait began); SLA sweep: {result}")
        write_line(stdout, f"  {running.count()} clocks running now, {running.filter(breached_at__isnull=False).count()} "
                           "of them breached")
        write_line(stdout, f"  Today: {decided['accepted']} handoffs accepted, {decided['rejected']} rejected, "
                           f"{counts['handed_off']} new ones sent; "
                           f"{counts['follow_ups']} review follow-ups; {counts['imports']} import jobs; "
                           f"{counts['arrived_twice']} people and accounts arrived a second time")
    return counts


def _score_and_route() -> tuple[int, int]:
    """(leads promoted, MQLs routed): the scorer's pass over New and Nurture, with promotion, and
    routing for the last day's unowned MQLs that no routing decision placed. Routing and the
    first-touch clocks follow as listeners, as they do every day."""
    before = Lead.objects.filter(stage=Stage.MQL).count()
    score_leads(list(Lead.objects.filter(stage__in=MQL_FROM).values_list("pk", flat=True)))
    promoted = Lead.objects.filter(stage=Stage.MQL).count() - before
    routed = route_new_mqls(unrouted_new_mqls(now=timezone.now(), horizon=datetime.timedelta(0)), why="New MQL")
    return promoted, routed


def _start_clocks() -> int:
    """The AE's clock on each pending handoff and the first-touch clock on each owned, untouched
    MQL, each from the moment its wait began. About four queries per clock."""
    started = 0
    for h in Handoff.objects.filter(status=HandoffStatus.PENDING).select_related("lead").order_by("created_at"):
        started += start_clock(h.lead, ClockKind.HANDOFF_DECISION, owner_id=h.to_user_id, handoff_id=h.pk,
                               at=h.created_at) is not None
    touched_since = Touch.objects.filter(lead_id=OuterRef("pk"), occurred_at__gte=OuterRef("stage_changed_at"))
    # A lead the scoring pass brought back from Nurture runs its touch-again clock already.
    on_clock = Clock.objects.filter(lead_id=OuterRef("pk"), kind__in=TOUCH_KINDS, status=ClockStatus.OPEN)
    untouched = (Lead.objects.filter(stage=Stage.MQL, owner__isnull=False).exclude(Exists(touched_since))
                 .exclude(Exists(on_clock)).order_by("stage_changed_at", "id"))
    for lead in untouched:
        started += start_clock(lead, ClockKind.MQL_FIRST_TOUCH, owner_id=lead.owner_id, at=lead.stage_changed_at) is not None
    return started


def _decide_recent_handoffs(users: dict[str, User]) -> dict[str, int]:
    """Per team, the AE accepts the newest pending handoff and rejects the one before it ("No
    authority": back to the SDR, the Authority answer disputed). Older ones keep waiting."""
    reason = DisqualifyReason.objects.filter(name="No authority", active=True).first()
    done = {"accepted": 0, "rejected": 0}
    for team in TEAMS:
        recent = list(Handoff.objects.filter(status=HandoffStatus.PENDING, team__name=team)
                      .select_related("to_user").order_by("-created_at", "-id")[:2])
        if len(recent) < 2 or reason is None:
            continue
        newest, before = recent
        try:
            accept(newest, by=newest.to_user, note="Good packet: demo booked with the buying committee.")
            done["accepted"] += 1
            reject(before, by=before.to_user, reason=reason, note=REJECT_NOTE)
            done["rejected"] += 1
        except DomainError as e:  # data an admin changed since: say so, carry on
            log.warning("A day-one handoff decision was refused: %s", e.message)
    return done


def _hand_off_ready_leads(users: dict[str, User]) -> int:
    """Per team, the first SDR with a fully qualified lead hands it to the team's first AE (who is
    told, and whose clock starts now). Reads completeness lead by lead until one is ready."""
    sent = 0
    for team in TEAMS:
        sdrs = [users[u] for u, _, _, t, role in CAST if t == team and role == Role.SDR and u in users]
        ae = next((users[u] for u, _, _, t, role in CAST if t == team and role == Role.AE and u in users), None)
        if ae is None:
            continue
        for sdr in sdrs:
            candidates = (Lead.objects.filter(owner=sdr, stage=Stage.WORKING, team__name=team)
                          .select_related("team", "account").order_by("-score", "id")[:50])
            ready = next((lead for lead in candidates if completeness(lead).is_complete), None)
            if ready is not None:
                hand_off(ready, to=ae, by=sdr, next_step=NEXT_STEP,
                         note="Budget approved this quarter; the COO asked for a demo.")
                sent += 1
                break
    return sent


def _ask_for_follow_ups(users: dict[str, User]) -> int:
    """Each team's manager asks for a follow-up on the first unreviewed lead of their queue whose
    qualifying SDR is still on the team (the task goes to that SDR)."""
    asked = 0
    due = timezone.localdate() + datetime.timedelta(days=3)
    for username, _, _, team, role in CAST:
        if role != Role.MANAGER or username not in users:
            continue
        item = (ReviewItem.objects.filter(queue__plan__team__name=team, verdict="", rep__isnull=False,
                                          rep__memberships__team__name=team, rep__memberships__role=Role.SDR)
                .select_related("lead", "queue").order_by("queue__id", "position").first())
        if item is None:
            continue
        record_verdict(item, by=users[username], verdict=Verdict.NEEDS_FOLLOW_UP,
                       note="Authority rests on one call note; nobody who signs is named.", follow_up=FOLLOW_UP,
                       due_on=due, about="qualification")
        asked += 1
    return asked


def _import_trade_show_lists(users: dict[str, User], seed: int) -> int:
    """Marketing of each team checks a trade-show list of new leads with a dry run, and RevOps a
    list of target accounts: real jobs, validated by the importer, waiting for someone to import
    them (the generated workspace stays what its tests describe)."""
    rng = random.Random(seed * 31 + 7)
    jobs = 0
    for username, _, _, team, role in CAST:
        if role != Role.MARKETING or username not in users:
            continue
        rows = ["first_name,last_name,email,company,title,source"]
        for i in range(12):
            first, last, company = rng.choice(SHOW_FIRST), rng.choice(SHOW_LAST), rng.choice(SHOW_COMPANIES)
            domain = company.lower().replace(" ", "") + ".example"
            rows.append(f"{first},{last},{first.lower()}.{last.lower()}{i}@{domain},{company},Head of Operations,event")
        member = users[username].memberships.select_related("team").get(team__name=team)
        job = create_job(kind="leads", team=member.team, by=users[username], content="\n".join(rows).encode(),
                         filename=f"trade-show-{team.lower().replace(' ', '-')}.csv")
        start(job, dry_run=True, mode="good_rows")  # a small file runs inline, as on the upload page
        jobs += 1
    revops = next((users[u] for u, _, _, _, role in CAST if role == Role.REVOPS and u in users), None)
    team = revops.memberships.select_related("team").order_by("team__name").first() if revops else None
    if team is not None:
        rows = ["company,domain,industry,employees,country"] + [
            f"{name} Holdings,{name.lower().replace(' ', '')}-holdings.example,Manufacturing,{rng.randint(200, 5000)},US"
            for name in SHOW_COMPANIES]
        job = create_job(kind="accounts", team=team.team, by=revops, content="\n".join(rows).encode(),
                         filename="target-accounts.csv")
        start(job, dry_run=True, mode="good_rows")
        jobs += 1
    return jobs


def _arrive_twice(users: dict[str, User]) -> int:
    """Per team, three people already in the workspace fill in a webinar form again, each the way
    real duplicates arrive, and one account is typed in again with a legal suffix; all through
    the verbs, so detection flags them after commit. Returns the records created."""
    created = 0
    for username, _, _, team, role in CAST:
        if role != Role.MARKETING or username not in users:
            continue
        by = users[username]
        # People at their company's address who have a phone and a first name long enough to shorten.
        people = list(Lead.objects.filter(team__name=team, stage__in=(Stage.NEW, Stage.WORKING, Stage.MQL))
                      .exclude(phone="").filter(first_name__regex=r"^.{5,}$",
                                                email__iendswith=Concat(Value("@"), F("account__domain")))
                      .select_related("team", "account").order_by("id")[:3])
        if len(people) < 3:
            continue
        same_email, alias, short_name = people
        twins = [
            _twin(same_email, email=same_email.email.upper()),  # typed in capitals
            _twin(alias, email=_alias(alias), phone=alias.phone),  # another address, the same desk phone
            _twin(short_name, first_name=short_name.first_name[:3],  # "Sam" for "Samantha"
                  email=f"{short_name.first_name[:3]}.{short_name.last_name}@{_domain(short_name)}".lower()),
        ]
        for values in twins:
            create_lead(by=by, **values)
            created += 1
        # An account without a legal suffix, typed again with one ("Wolfe-Erickson, Inc.").
        account = (Account.objects.filter(team__name=team).exclude(name__iregex=LEGAL_SUFFIX)
                   .select_related("team").order_by("id").first())
        if account is not None:
            create_account(by=by, team=account.team, name=f"{account.name}, Inc.", industry=account.industry,
                           country=account.country)
            created += 1
    return created


def _domain(lead: Lead) -> str:
    return lead.email.partition("@")[2]


def _alias(lead: Lead) -> str:
    """j.doe@ for jane.doe@, or janed@ where the address already was j.doe@."""
    alias = f"{lead.first_name[0]}.{lead.last_name}@{_domain(lead)}".lower()
    return alias if alias != lead.email.lower() else f"{lead.first_name}{lead.last_name[0]}@{_domain(lead)}".lower()


def _twin(lead: Lead, **changes: str) -> dict:
    """A new lead's values for the same person at the same account, from a webinar form."""
    return {"team": lead.team, "account": lead.account, "first_name": lead.first_name, "last_name": lead.last_name,
            "title": lead.title, "source": Source.EVENT, "campaign": WEBINAR, **changes}
