"""The demo-data generator: cast, consistent lifecycle histories, events, qualification answers and
handoffs that obey the app's rules, determinism, --if-empty."""

import datetime
import io
import re
from collections import Counter

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction
from django.db.models import Sum
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Role, Team, User
from qualify import demo
from qualify.demo import dayone
from qualify.demo.generator import Generator
from qualify.demo.tables import TEAMS
from qualify.analytics.models import FunnelRollup, RefreshState
from qualify.frameworks.answers import MIN_EVIDENCE_LENGTH
from qualify.frameworks.completeness import completeness
from qualify.frameworks.models import CLAIM_STATUSES, Answer, AnswerStatus, AnswerType, Framework
from qualify.frameworks.selection import active_frameworks, choose_framework
from qualify.handoff.models import Handoff, HandoffStatus
from qualify.leads.lifecycle import ALLOWED
from qualify.leads.models import (
    Account,
    Event,
    Lead,
    ReasonAction,
    Segment,
    Source,
    Stage,
    StageChange,
    Touch,
)
from qualify.reviews.models import RedFlag, ReviewPlan
from qualify.reviews.sampling import explain, period_start
from qualify.routing.engine import route
from qualify.routing.models import AccountOwned, Method, RoutingRule

LEADS, ACCOUNTS, DAYS = 120, 20, 90
HANDED_OFF_AND_BEYOND = (Stage.HANDED_OFF, Stage.ACCEPTED, Stage.OPPORTUNITY, Stage.WON, Stage.LOST)
# How notes write a date ("Thu 14 Mar"): the one thing in them that moves with "now".
DATE = re.compile(r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b")

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(db):
    """The generated history, as of its end (the day-one step is tested on `seeded_today`)."""
    return demo.seed(leads=LEADS, accounts=ACCOUNTS, days=DAYS, seed=7, present=False)


@pytest.fixture
def seeded_today(db):
    """What `seed_demo` leaves: the history brought to the present (qualify/demo/dayone.py)."""
    return demo.seed(leads=LEADS, accounts=ACCOUNTS, days=DAYS, seed=7)


def test_counts_are_returned_and_match_the_database(seeded):
    assert seeded["leads"] == LEADS == Lead.objects.count()
    assert seeded["accounts"] == ACCOUNTS == Account.objects.count()
    assert seeded["stage_changes"] == StageChange.objects.count()
    assert seeded["events"] == Event.objects.count()
    assert seeded["touches"] == Touch.objects.count()
    assert seeded["answers"] == Answer.objects.count() > LEADS
    assert seeded["handoffs"] == Handoff.objects.count() > 0
    # Roughly 40 events per lead; every account got at least one lead.
    assert 20 * LEADS < seeded["events"] < 60 * LEADS
    assert not Account.objects.filter(leads__isnull=True).exists()


# `request=`: django-axes checks every sign-in against its lockouts, which needs the request.
def test_cast_teams_roles_and_logins(seeded, client):
    na, emea = Team.objects.get(name="North America"), Team.objects.get(name="EMEA")
    expected = {
        na: {Role.SDR: {"alice", "bob"}, Role.AE: {"erin", "ethan"}, Role.MANAGER: {"maria"},
             Role.MARKETING: {"mark"}, Role.REVOPS: {"rita"}},
        emea: {Role.SDR: {"charlie", "chloe"}, Role.AE: {"sam"}, Role.MANAGER: {"magnus"},
               Role.MARKETING: {"mia"}, Role.REVOPS: {"rita"}},
    }
    for team, roles in expected.items():
        for role, usernames in roles.items():
            got = set(Membership.objects.filter(team=team, role=role).values_list("user__username", flat=True))
            assert got == usernames, (team, role)
    assert na.default_ae.username == "erin"
    assert emea.default_ae.username == "sam"
    rita = User.objects.get(username="rita")
    assert rita.is_staff and rita.is_superuser and rita.is_admin
    assert not User.objects.get(username="alice").is_staff
    for username in demo.DEMO_USERNAMES:
        assert client.login(request=RequestFactory().post("/login/"), username=username, password="demo"), username
        client.logout()


def test_every_lead_has_an_allowed_history_ending_in_its_stage(seeded):
    history: dict[int, list[StageChange]] = {}
    for change in StageChange.objects.order_by("lead_id", "at", "id"):
        history.setdefault(change.lead_id, []).append(change)
    for lead in Lead.objects.all():
        changes = history[lead.pk]
        assert changes[0].from_stage == "" and changes[0].to_stage == Stage.NEW
        assert changes[0].at == lead.created_at
        for before, after in zip(changes, changes[1:], strict=False):
            assert after.from_stage == before.to_stage, lead
            assert after.to_stage in ALLOWED[before.to_stage], (lead, before.to_stage, after.to_stage)
            assert after.at > before.at
        assert changes[-1].to_stage == lead.stage
        assert changes[-1].at == lead.stage_changed_at
        assert lead.created_at >= timezone.now() - datetime.timedelta(days=DAYS)
        for change in changes:
            if change.to_stage in (Stage.NURTURE, Stage.DISQUALIFIED):
                assert change.reason is not None and change.why
            if change.to_stage == Stage.NURTURE:
                assert change.reason.action == ReasonAction.NURTURE
            if change.to_stage == Stage.DISQUALIFIED:
                assert change.reason.action == ReasonAction.CLOSE


def test_owners_aes_and_reasons_follow_the_stage(seeded):
    today = timezone.localdate()
    for lead in Lead.objects.select_related("owner", "ae", "disqualify_reason", "account", "team"):
        assert lead.team_id == lead.account.team_id
        if lead.owner:
            assert lead.owner.team_ids() >= {lead.team_id}
        if lead.stage in (Stage.ACCEPTED, Stage.OPPORTUNITY, Stage.WON, Stage.LOST):
            assert lead.ae is not None and lead.owner == lead.ae
            assert lead.ae.has_role(Role.AE)
        elif lead.stage == Stage.HANDED_OFF:
            assert lead.ae is not None and lead.owner.has_role(Role.SDR)
        elif lead.stage == Stage.WORKING:
            assert lead.owner is not None and lead.owner.has_role(Role.SDR)
        if lead.stage == Stage.NURTURE:
            assert lead.recycle_on is not None and lead.recycle_on > today
            assert lead.disqualify_reason.action == ReasonAction.NURTURE
        else:
            assert lead.recycle_on is None
        if lead.stage == Stage.DISQUALIFIED:
            assert lead.disqualify_reason.action == ReasonAction.CLOSE
        if lead.source == Source.PARTNER:
            assert lead.partner_name and lead.partner_contact
        if lead.source in (Source.INBOUND, Source.EVENT):
            assert lead.campaign
        assert 0 <= lead.score <= 100
    # Some leads sit unassigned in the team pool, always in an SDR stage or closed by the system.
    pool = Lead.objects.filter(owner__isnull=True)
    assert pool.exists()
    assert set(pool.values_list("stage", flat=True)) <= {Stage.NEW, Stage.MQL, Stage.DISQUALIFIED}


def test_each_owners_assignment_is_dated_by_the_stage_history(seeded):
    """The lead page's assignment history agrees with its stage history: the SDR took the lead
    when it became theirs (not when the seed ran), an AE took it at their acceptance, and the
    trail ends with the current owner."""
    from qualify.routing.models import Assignment

    trails: dict[int, list[Assignment]] = {}
    for row in Assignment.objects.order_by("at", "id"):
        trails.setdefault(row.lead_id, []).append(row)
    owned = Lead.objects.filter(owner__isnull=False).prefetch_related("stage_changes")
    assert owned.count() > 50
    handed_over = 0
    for lead in owned:
        trail = trails[lead.pk]
        changes = sorted(lead.stage_changes.all(), key=lambda c: c.at)
        assert trail[-1].to_user_id == lead.owner_id and trail[0].from_user_id is None
        assert changes[0].at <= trail[0].at <= changes[-1].at, (lead.pk, trail[0].at)
        accepted = next((c.at for c in changes if c.to_stage == Stage.ACCEPTED), None)
        if accepted is not None:  # the AE owns it since (later stages included: nurtured, lost ...)
            assert [(r.from_user_id is None, r.to_user_id == lead.owner_id) for r in trail] == [(True, False), (False, True)]
            assert trail[1].from_user_id == trail[0].to_user_id and trail[1].at == accepted
            handed_over += 1
        else:
            assert len(trail) == 1
    assert handed_over > 5


def test_accounts_are_consistent(seeded):
    domains = list(Account.objects.values_list("domain", flat=True))
    assert len(domains) == len(set(domains)) and all(domains)
    for account in Account.objects.select_related("team", "owner"):
        expected = (Segment.SMB if account.employee_count < 200
                    else Segment.MID_MARKET if account.employee_count < 2000 else Segment.ENTERPRISE)
        assert account.segment == expected
        assert account.team.name == demo.COUNTRIES[account.country][1]
        assert account.region == demo.COUNTRIES[account.country][2]
        if account.owner:
            assert account.owner.memberships.filter(team=account.team, role=Role.AE).exists()


def test_events_and_touches_are_within_the_window(seeded):
    now = timezone.now()
    start = now - datetime.timedelta(days=DAYS)
    assert not Event.objects.filter(occurred_at__lt=start).exists()
    assert not Event.objects.filter(occurred_at__gt=now).exists()
    assert Event.objects.filter(occurred_at__gte=now - datetime.timedelta(days=7)).exists()
    for event in Event.objects.filter(type="page_view")[:200]:
        assert event.properties["page_category"] in {"pricing", "product", "blog", "careers", "competitor_comparison"}
        assert event.properties["dwell_seconds"] > 0
    # Leads further down the funnel have more events than new ones.
    per_stage = Counter(Event.objects.values_list("lead__stage", flat=True))
    leads_per_stage = Counter(Lead.objects.values_list("stage", flat=True))
    if leads_per_stage[Stage.NEW] and leads_per_stage[Stage.OPPORTUNITY]:
        assert (per_stage[Stage.OPPORTUNITY] / leads_per_stage[Stage.OPPORTUNITY]
                > per_stage[Stage.NEW] / leads_per_stage[Stage.NEW])
    # Touches only on worked leads, never before the lead existed, and last_touch_at matches.
    for lead in Lead.objects.filter(touches__isnull=False).distinct():
        times = list(lead.touches.values_list("occurred_at", flat=True))
        assert min(times) >= lead.created_at and max(times) <= now
        assert lead.last_touch_at == max(times)
        assert lead.stage_changes.filter(to_stage=Stage.WORKING).exists()
    assert not Lead.objects.filter(touches__isnull=True, last_touch_at__isnull=False).exists()


def test_same_seed_gives_the_same_data_whatever_day_it_is(db):
    """Only absolute times move with "now": people, stages, histories, touches and events do not."""

    def undated(rows):
        return [tuple(DATE.sub("<date>", v) if isinstance(v, str) else v for v in row) for row in rows]

    def snapshot():
        leads = Lead.objects.order_by("email", "first_name")
        return (
            list(leads.values_list("first_name", "last_name", "email", "title", "stage", "source", "account__domain",
                                   "owner__username", "ae__username", "campaign")),
            [undated(lead.stage_changes.order_by("at", "id").values_list("to_stage", "by__username", "why"))
             for lead in leads],
            [sorted(lead.touches.values_list("kind", "outcome", "note")) for lead in leads],
            [Counter(lead.events.values_list("type", flat=True)) for lead in leads],
            [undated(lead.answers.order_by("created_at", "id").values_list(
                "criterion__key", "status", "value", "evidence", "author__username")) for lead in leads],
            [undated(lead.handoffs.order_by("created_at").values_list(
                "status", "from_user__username", "to_user__username", "next_step", "note", "reason__name",
                "decision_note", "packet__completeness")) for lead in leads],
        )

    class Rollback(Exception):
        pass

    # A Saturday night (nothing is in working hours) and a Wednesday afternoon.
    with time_machine.travel(datetime.datetime(2025, 3, 8, 23, 30, tzinfo=datetime.UTC)):
        with pytest.raises(Rollback), transaction.atomic():
            demo.seed(leads=60, accounts=10, days=30, seed=3, present=False)
            first = snapshot()
            raise Rollback
    assert not Lead.objects.exists()
    with time_machine.travel(datetime.datetime(2025, 6, 11, 15, 0, tzinfo=datetime.UTC)):
        demo.seed(leads=60, accounts=10, days=30, seed=3, present=False)
        assert snapshot() == first
        assert Lead.objects.filter(created_at__gte=timezone.now() - datetime.timedelta(days=30)).count() == 60


def test_command_if_empty_does_not_seed_twice(db):
    out = io.StringIO()
    call_command("seed_demo", "--if-empty", "--leads", "30", "--accounts", "8", "--days", "14", stdout=out)
    counts = (Lead.objects.count(), Account.objects.count(), Event.objects.count(), StageChange.objects.count())
    # Day one adds the people who arrive a second time (a webinar's leads) and their accounts.
    twins = Lead.objects.filter(campaign=dayone.WEBINAR).count()
    assert counts[0] == 30 + twins and counts[1] == 8 + twins // 3
    call_command("seed_demo", "--if-empty", "--leads", "30", "--accounts", "8", "--days", "14", stdout=out)
    assert (Lead.objects.count(), Account.objects.count(), Event.objects.count(), StageChange.objects.count()) == counts
    text = out.getvalue()
    assert "not seeding again" in text
    # Both runs print the logins table; neither sends people to start a server `make run` already started.
    assert text.count("Demo logins") == 2
    assert "runserver" not in text and "http://" not in text
    for username in ("alice", "erin", "maria", "charlie", "magnus", "rita"):
        assert f"  {username} " in text


def test_the_summary_counts_the_mqls_the_histories_made(db):
    out = io.StringIO()
    demo.seed(leads=60, accounts=10, days=30, seed=3, stdout=out)
    reached = StageChange.objects.filter(to_stage=Stage.MQL).values("lead_id").distinct().count()
    now_mql = Lead.objects.filter(stage=Stage.MQL).count()
    assert reached > now_mql > 0
    assert f"  {reached} leads reached MQL; {now_mql} are MQLs now" in out.getvalue()


# --- qualification answers and handoffs -------------------------------------------------------


def _history() -> dict[int, list[StageChange]]:
    history: dict[int, list[StageChange]] = {}
    for change in StageChange.objects.order_by("at", "id"):
        history.setdefault(change.lead_id, []).append(change)
    return history


def test_every_handed_off_lead_waits_in_its_aes_inbox_with_one_pending_packet(seeded):
    # Handed off in the generated history (day one hands off a lead or two today, through hand_off).
    handed = list(Lead.objects.filter(stage=Stage.HANDED_OFF).exclude(handoffs__next_step=dayone.NEXT_STEP))
    assert handed
    for lead in handed:
        [handoff] = lead.handoffs.filter(status=HandoffStatus.PENDING)
        assert handoff.to_user_id == lead.ae_id and handoff.from_user_id == lead.owner_id
        assert handoff.team_id == lead.team_id and handoff.source == lead.source
        assert handoff.decided_at is None and handoff.decided_by is None and handoff.reason is None
        # hand_off records the next step as the stage change's why, at the same moment.
        change = lead.stage_changes.get(to_stage=Stage.HANDED_OFF, at=lead.stage_changed_at)
        assert (handoff.created_at, handoff.next_step, handoff.from_user_id) == (change.at, change.why, change.by_id)
        assert DATE.search(handoff.next_step)
        # A real packet, frozen at that moment: every required answer with evidence, nothing from later.
        packet = handoff.packet
        assert packet["lead"]["name"] == lead.full_name and packet["framework"]
        required = [a for a in packet["answers"] if a["required"]]
        assert required and all(a["status"] in CLAIM_STATUSES and len(a["evidence"]) >= 10 for a in required)
        assert packet["signals"] and packet["touches"]
        for item in [*packet["signals"], *packet["touches"], *[a for a in packet["answers"] if a["at"]]]:
            assert datetime.datetime.fromisoformat(item["at"]) <= handoff.created_at
    assert set(Handoff.objects.filter(status=HandoffStatus.PENDING).values_list("lead__stage", flat=True)) == {
        Stage.HANDED_OFF
    }


def test_every_handoff_and_decision_matches_the_stage_history(seeded):
    history = _history()
    handoffs: dict[int, list[Handoff]] = {}
    for handoff in Handoff.objects.order_by("created_at"):
        handoffs.setdefault(handoff.lead_id, []).append(handoff)
    seen = Counter()
    for lead in Lead.objects.all():
        changes = history[lead.pk]
        offered = [i for i, c in enumerate(changes) if c.to_stage == Stage.HANDED_OFF]
        mine = handoffs.get(lead.pk, [])
        assert len(mine) == len(offered), lead
        for i, handoff in zip(offered, mine, strict=True):
            assert handoff.created_at == changes[i].at and handoff.next_step == changes[i].why
            decision = changes[i + 1] if i + 1 < len(changes) else None
            seen[handoff.status] += 1
            if decision is None:
                assert handoff.status == HandoffStatus.PENDING
                continue
            assert (handoff.decided_at, handoff.decided_by_id, handoff.decision_note) == (
                decision.at, decision.by_id, decision.why)
            assert handoff.to_user_id == decision.by_id  # the receiving AE decided
            if decision.to_stage == Stage.ACCEPTED:
                assert handoff.status == HandoffStatus.ACCEPTED and handoff.reason is None
            else:
                assert decision.to_stage in (Stage.WORKING, Stage.NURTURE, Stage.DISQUALIFIED)
                assert handoff.status == HandoffStatus.REJECTED and handoff.reason_id == decision.reason_id
        if lead.stage in (Stage.ACCEPTED, Stage.OPPORTUNITY, Stage.WON, Stage.LOST):
            [accepted] = [h for h in mine if h.status == HandoffStatus.ACCEPTED]
            assert accepted.to_user_id == accepted.decided_by_id == lead.ae_id
    assert seen[HandoffStatus.ACCEPTED] and seen[HandoffStatus.REJECTED] and seen[HandoffStatus.PENDING]


def test_leads_handed_off_and_beyond_have_every_required_criterion_answered(seeded):
    leads = Lead.objects.filter(stage__in=HANDED_OFF_AND_BEYOND).select_related("account")
    assert leads
    for lead in leads:
        progress = completeness(lead)
        assert progress.framework is not None and progress.missing_required == [], (lead, progress.missing_required)
        for item in progress.items:
            if item.criterion.required_for_handoff and item.criterion.answer_type == AnswerType.STATUS:
                assert len(item.answer.evidence) >= MIN_EVIDENCE_LENGTH


def test_answers_are_what_record_answer_writes_by_people_of_the_leads_team_at_the_right_time(seeded):
    now = timezone.now()
    members = set(Membership.objects.values_list("user_id", "team_id"))
    sdrs = set(Membership.objects.filter(role=Role.SDR).values_list("user_id", flat=True))
    frameworks = active_frameworks()
    history = _history()
    answers = list(Answer.objects.select_related("criterion", "lead__account"))
    assert answers
    for answer in answers:
        lead, criterion = answer.lead, answer.criterion
        assert (answer.author_id, lead.team_id) in members
        framework = choose_framework(frameworks, team_id=lead.team_id, segment=lead.account.segment)
        assert criterion.framework_id == framework.pk and criterion.active
        assert answer.criterion_version == criterion.version and answer.question_text == criterion.question
        if criterion.answer_type == AnswerType.STATUS:
            assert answer.status in AnswerStatus.values and answer.value == ""
        if answer.status in CLAIM_STATUSES:
            assert len(answer.evidence) >= MIN_EVIDENCE_LENGTH
        assert lead.created_at < answer.created_at <= now
        changes = history[lead.pk]
        before = [c for c in changes if c.at <= answer.created_at][-1]
        after = next((c for c in changes if c.at > answer.created_at), None)
        if answer.author_id in sdrs:  # the SDR qualifies while working the lead
            assert before.to_stage == Stage.WORKING, (lead, answer)
        else:  # the AE writes down why, just before sending it back or closing it
            assert after is not None and after.by_id == answer.author_id and after.reason is not None
            assert answer.evidence == after.why
            assert before.to_stage in (Stage.HANDED_OFF, Stage.ACCEPTED, Stage.OPPORTUNITY, Stage.LOST)


def test_working_leads_are_partly_qualified_and_every_sdr_has_some_ready_to_hand_off(seeded):
    ready, not_ready = Counter(), Counter()
    for lead in Lead.objects.filter(stage=Stage.WORKING).select_related("account", "owner"):
        (not_ready if completeness(lead).missing_required else ready)[lead.owner.username] += 1
    assert ready["alice"] >= demo.MIN_READY
    for sdr in {*ready, *not_ready}:
        assert ready[sdr] >= min(demo.MIN_READY, ready[sdr] + not_ready[sdr]), sdr
    assert sum(not_ready.values()) > 0  # the rest of the queue still has questions open
    assert Answer.objects.filter(lead__stage=Stage.WORKING, status=AnswerStatus.UNKNOWN).exists()
    assert Answer.objects.filter(lead__stage=Stage.WORKING, status=AnswerStatus.PARTIAL).exists()


# Final reasons and the criteria (by key, in the shipped frameworks) they contradict.
CONTRADICTS = {
    "No budget": ("budget", "money"),
    "Bad timing": ("timeline", "urgency", "compelling-event", "prioritization"),
    "Competitor locked in": ("timeline", "urgency", "compelling-event", "prioritization"),
    "Compliance blocker": ("decision-criteria",),
}


def test_nurtured_and_disqualified_leads_carry_the_answer_their_reason_contradicts(seeded):
    history = _history()
    leads = (Lead.objects.filter(stage__in=(Stage.NURTURE, Stage.DISQUALIFIED), answers__isnull=False,
                                 disqualify_reason__name__in=CONTRADICTS)
             .distinct().select_related("account", "disqualify_reason"))
    checked = 0
    for lead in leads:
        progress = completeness(lead)
        items = [i for i in progress.items if i.criterion.key in CONTRADICTS[lead.disqualify_reason.name]]
        if not items:
            continue  # its framework does not ask (MEDDIC has no budget question)
        assert items[0].answer.status == AnswerStatus.NEGATIVE, lead
        assert items[0].answer.evidence == history[lead.pk][-1].why
        if items[0].criterion.required_for_handoff:
            assert progress.missing_required
        checked += 1
    assert checked


def test_an_aes_inbox_shows_their_pending_packets(seeded, client):
    waiting = Counter(Handoff.objects.filter(status=HandoffStatus.PENDING).values_list("to_user__username", flat=True))
    username, n = waiting.most_common(1)[0]
    assert client.login(request=RequestFactory().post("/login/"), username=username, password="demo")
    response = client.get(reverse("handoff:inbox"))
    assert response.status_code == 200
    expected = Handoff.objects.filter(to_user__username=username, status=HandoffStatus.PENDING)
    assert [h.pk for h in response.context["pending"]] == list(
        expected.order_by("created_at", "id").values_list("pk", flat=True))
    assert response.content.decode().count('class="card packet"') == n


def test_meddic_covers_enterprise_accounts_on_an_untouched_install(seeded):
    meddic = Framework.objects.get(slug="meddic")
    assert meddic.active and meddic.segments == [Segment.ENTERPRISE]
    assert set(Framework.objects.filter(active=True).values_list("slug", flat=True)) == {"bant", "meddic"}


def test_an_admins_own_framework_setup_is_left_alone(db):
    champ = Framework.objects.get(slug="champ")
    champ.active, champ.segments = True, [Segment.SMB]
    champ.save()
    demo.seed(leads=40, accounts=8, days=30, seed=5)
    assert not Framework.objects.get(slug="meddic").active
    keys = set(Answer.objects.filter(lead__account__segment=Segment.SMB).values_list("criterion__framework__slug",
                                                                                     flat=True))
    assert keys <= {"champ"}


# --- the workspace around the leads: routing, reviews, metrics -------------------------------


def test_each_team_routes_new_mqls_round_robin_over_its_sdrs_after_the_account_owner_rule(seeded):
    rules = list(RoutingRule.objects.filter(active=True).order_by("position"))
    owner_rule, *rotations = rules
    assert (owner_rule.method, owner_rule.segment, owner_rule.account_owned) == (
        Method.ACCOUNT_OWNER, Segment.ENTERPRISE, AccountOwned.YES)
    assert {r.team.name: (r.method, r.role, {u.username for u in r.members.all()}) for r in rotations} == {
        "North America": (Method.ROUND_ROBIN, Role.SDR, {"alice", "bob"}),
        "EMEA": (Method.ROUND_ROBIN, Role.SDR, {"charlie", "chloe"}),
    }
    # The rules route: an unowned EMEA lead at a small account goes to one of EMEA's SDRs.
    lead = Lead.objects.filter(team__name="EMEA", owner__isnull=True, account__owner__isnull=True).first()
    emea_sdrs = set(User.objects.filter(username__in=("charlie", "chloe")).values_list("pk", flat=True))
    assert route(lead).owner_id in emea_sdrs


def test_seeding_again_updates_the_rules_and_plans_instead_of_adding_copies(db):
    demo.seed(leads=30, accounts=8, days=14, seed=1)
    demo.seed(leads=30, accounts=8, days=14, seed=1)
    assert RoutingRule.objects.count() == 3 and ReviewPlan.objects.count() == 2


def test_each_team_has_a_review_plan_with_this_weeks_queue_of_open_opportunities(seeded, client):
    today = timezone.localdate()
    for team in Team.objects.all():
        [plan] = ReviewPlan.objects.filter(team=team, active=True)
        assert plan.reviewer.memberships.filter(team=team, role=Role.MANAGER).exists()
        assert set(plan.red_flags.all()) == set(RedFlag.objects.filter(active=True))
        [queue] = plan.queues.all()
        assert queue.period_start == period_start(plan.cadence, today)
        open_opportunities = Lead.objects.filter(team=team, stage=Stage.OPPORTUNITY)
        items = list(queue.items.select_related("lead"))
        assert len(items) == min(plan.sample_size, open_opportunities.count()) > 0
        assert all(item.lead.team_id == team.pk and item.lead.stage == Stage.OPPORTUNITY for item in items)
        assert explain(queue).matches
    assert client.login(request=RequestFactory().post("/login/"), username="maria", password="demo")
    response = client.get(reverse("reviews:queues"))
    assert response.status_code == 200 and "0 of " in response.content.decode()


def test_metrics_are_computed_when_the_seed_ends(seeded, client):
    assert RefreshState.objects.get().full_at is not None
    totals = FunnelRollup.objects.filter(grain="d", dim="all").aggregate(leads=Sum("leads"), mql=Sum("mql"),
                                                                      won=Sum("won"))
    assert totals["leads"] == LEADS and totals["mql"] > 0 and totals["won"] > 0
    assert client.login(request=RequestFactory().post("/login/"), username="maria", password="demo")
    response = client.get(reverse("analytics:funnel"))
    na = Lead.objects.filter(team__name="North America")
    assert response.status_code == 200 and response.context["total"].leads == na.count() > 0


def test_day_one_has_running_and_breached_clocks_with_escalations_recorded(seeded_today, client):
    from qualify.sla.models import Clock, ClockKind, ClockStatus, Escalation

    now = timezone.now()
    running = Clock.objects.filter(status=ClockStatus.OPEN)
    assert seeded_today["clocks"] >= running.count() > 0
    # Every pending handoff is on the clock, from when it was handed off.
    for h in Handoff.objects.filter(status=HandoffStatus.PENDING):
        clock = running.get(handoff=h, kind=ClockKind.HANDOFF_DECISION)
        assert clock.started_at == h.created_at and clock.owner_id == h.to_user_id
    assert running.filter(due_at__lte=now).exists()  # handoffs that waited days are breached
    assert Escalation.objects.filter(kind="breach").count() == Clock.objects.filter(breached_at__isnull=False).count() > 0
    assert client.login(request=RequestFactory().post("/login/"), username="maria", password="demo")
    page = client.get(reverse("sla:breaches")).content.decode()
    assert "Nothing overdue" not in page


def test_day_one_tells_every_role_something_true(seeded_today):
    from qualify.imports.models import ImportJob, ImportStatus
    from qualify.notifications.models import Notification, NotificationKind as K
    from qualify.reviews.models import FollowUpTask

    by_role = {role: set(Notification.objects.filter(user__memberships__role=role).values_list("kind", flat=True))
               for role in Role.values}
    assert {K.HANDOFF_ACCEPTED, K.HANDOFF_REJECTED, K.REVIEW_FOLLOW_UP} <= by_role[Role.SDR]
    assert K.HANDOFF_RECEIVED in by_role[Role.AE]
    assert K.SLA_BREACH in by_role[Role.MANAGER]
    assert K.IMPORT_FINISHED in by_role[Role.MARKETING] and K.IMPORT_FINISHED in by_role[Role.REVOPS]
    # Each one comes from a row it describes: decided handoffs, follow-up tasks, import jobs.
    for note in Notification.objects.filter(kind__in=[K.HANDOFF_ACCEPTED, K.HANDOFF_REJECTED]):
        h = Handoff.objects.get(pk=int(note.url.strip("/").split("/")[-1]))
        assert h.from_user_id == note.user_id and h.status == note.kind.removeprefix("handoff_")
    for note in Notification.objects.filter(kind=K.REVIEW_FOLLOW_UP):
        assert FollowUpTask.objects.filter(assignee=note.user, lead_id=note.lead_id, status="open").exists()
    assert set(ImportJob.objects.values_list("status", "dry_run")) == {(ImportStatus.DONE, True)}
    assert Notification.objects.filter(kind=K.IMPORT_FINISHED).count() == ImportJob.objects.count() == seeded_today["imports"]
    # The present left the generated workspace as its tests describe: the only leads it added are
    # the people who arrived a second time (three a team, and an account each).
    assert Lead.objects.count() == LEADS + seeded_today["arrived_twice"] - len(TEAMS)


def test_day_one_duplicates_are_people_who_arrived_twice_each_the_way_real_ones_do(seeded_today, client):
    """The duplicates page opens on believable pairs: per team, the same e-mail in capitals, a new
    alias at the same company with the same phone, a short first name at the same company, and an
    account typed again with its legal suffix."""
    from qualify.dedupe.models import DuplicateCandidate, Kind, Status

    assert seeded_today["arrived_twice"] == 4 * len(TEAMS)
    webinar = Lead.objects.filter(campaign=dayone.WEBINAR)
    assert webinar.count() == 3 * len(TEAMS)
    for team in TEAMS:
        pairs = DuplicateCandidate.objects.filter(team__name=team, status=Status.OPEN)
        # The newcomer is the pair's higher id (detection names it in new_id; the finder does not).
        flagged = {p.high_id: {r["rule"] for r in p.reasons} for p in pairs.filter(kind=Kind.LEAD)}
        rules = [flagged.get(lead.pk, set()) for lead in webinar.filter(team__name=team).order_by("id")]
        assert "email" in rules[0]
        assert {"name_domain", "phone"} <= rules[1]
        assert "similar_name_domain" in rules[2]
        twin = Account.objects.get(team__name=team, name__endswith=", Inc.")
        assert "name" in {r["rule"] for p in pairs.filter(kind=Kind.ACCOUNT, high_id=twin.pk) for r in p.reasons}
    assert client.login(request=RequestFactory().post("/login/"), username="rita", password="demo")
    page = client.get(reverse("dedupe:candidates")).content.decode()
    assert "same e-mail" in page and "similar name at" in page


def test_no_two_seeded_people_share_a_phone(seeded):
    """A shared number made strangers a 60% pair on /duplicates/ (Faker's fictional UK numbers vary
    in three digits): only the day-one twins share one, on purpose."""
    from qualify.dedupe.rules import phone_key

    keys = [phone_key(p) for p in Lead.objects.exclude(phone="").values_list("phone", flat=True)]
    assert len(keys) == len(set(keys)) > LEADS // 3


def test_a_phone_number_another_lead_has_is_drawn_again_and_after_eight_tries_left_out():
    class Fake:
        def __init__(self, numbers):
            self.numbers = iter(numbers)

        def phone_number(self):
            return next(self.numbers)

    generator = Generator(leads=1, accounts=1, days=1, seed=1, stdout=None)
    assert generator.phone(Fake(["+44 1632 960001"])) == "+44 1632 960001"
    assert generator.phone(Fake(["01632 960001", "(01632) 960 002"])) == "(01632) 960 002"
    assert generator.phone(Fake(["01632 960002"] * 8 + ["01632 960003"])) == ""


def test_the_seed_counts_the_pairs_the_duplicates_page_lists(db):
    from qualify.dedupe.models import DuplicateCandidate

    out = io.StringIO()
    demo.seed(leads=LEADS, accounts=ACCOUNTS, days=DAYS, seed=7, stdout=out)
    listed = DuplicateCandidate.objects.filter(status="open").count()
    assert f"Duplicate finder: {listed} candidate pairs for /duplicates/" in out.getvalue()


def test_account_pages_are_populated_on_day_one(seeded, client):
    """Committees defined, every account's figures stored, some accounts (not all) MQAs, and an MQA's
    page shows its committee with people who fill the roles."""
    from qualify.abm.models import AccountScore, AccountScoring

    scoring = AccountScoring.objects.get()
    assert scoring.roles.count() == 4 and scoring.rules.count() > 0
    assert AccountScore.objects.count() == ACCOUNTS
    mqas = AccountScore.objects.filter(mqa_at__isnull=False)
    assert 0 < mqas.count() < ACCOUNTS
    mqa = mqas.select_related("account__team").order_by("account_id").first()
    manager = User.objects.filter(memberships__team=mqa.account.team, memberships__role=Role.MANAGER).first()
    client.force_login(manager)
    html = client.get(mqa.account.get_absolute_url()).content.decode()
    assert "Marketing-qualified account since" in html and "✓ " in html


def test_calibration_is_populated_and_true_on_day_one(seeded, client):
    """The seeded history's score snapshots carry the model's score as of each moment (restated
    after the first recompute), so the calibration page explains every closed lead as of its close."""
    from qualify.calibration import figures
    from qualify.scoring import engine, sql
    from qualify.scoring.models import ScoreSnapshot, ScoringModel
    from qualify.scoring.ranking import to_us
    from qualify.scoring.scores import spec_for_version

    assert not ScoreSnapshot.objects.filter(version__isnull=True, kind__in=["mql", "handoff", "outcome"]).exists()
    snap = ScoreSnapshot.objects.filter(kind="outcome").select_related("lead__account", "version").order_by("id").first()
    cut = to_us(snap.at)
    events = [engine.Ev(e.id, to_us(e.occurred_at), e.type, e.properties) for e in snap.lead.events.all() if to_us(e.occurred_at) <= cut]
    expected = engine.score(spec_for_version(snap.version), sql.lead_facts(snap.lead), events, cut)
    assert snap.score == engine.display(expected.value())

    model = ScoringModel.objects.get(is_default=True)
    report = figures.compute(figures.scope_for(model, tuple(Team.objects.values_list("pk", flat=True)), 365))
    closed = Lead.objects.filter(stage__in=[Stage.WON, Stage.LOST, Stage.DISQUALIFIED]).count()
    assert report.closed == closed > 0 and report.won > 0 and report.current_state == 0
    assert report.bands and any(r.counts.fired for r in report.rules) and report.reasons
    assert client.login(request=RequestFactory().post("/login/"), username="rita", password="demo")
    page = client.get(reverse("calibration:report"))
    assert page.status_code == 200 and b"no score recorded at close" not in page.content


def test_beats_first_minute_finds_nothing_the_seed_left_undone(seeded_today):
    """`make run` starts beat right after the seed: its reconciler and recycle sweep must find
    nothing to do, or the first minute reroutes the pool, starts clocks the seed's summary never
    counted and logs "listeners did not run" on a fresh install."""
    from qualify.leads.lifecycle import recycle_due
    from qualify.scoring.scores import score_leads
    from qualify.sla.reconcile import reconcile_new_mqls

    # The scorer's next pass over New and Nurture promotes nobody: those at the threshold are MQLs.
    mqls = Lead.objects.filter(stage=Stage.MQL).count()
    score_leads(list(Lead.objects.filter(stage__in=[Stage.NEW, Stage.NURTURE]).values_list("pk", flat=True)))
    assert Lead.objects.filter(stage=Stage.MQL).count() == mqls
    assert recycle_due() == 0
    # One running touch clock a lead at most: two would warn and breach twice.
    from django.db.models import Count

    from qualify.sla.models import TOUCH_KINDS, Clock, ClockStatus
    assert not Clock.objects.filter(kind__in=TOUCH_KINDS, status=ClockStatus.OPEN).values("lead_id") \
        .annotate(n=Count("id")).filter(n__gt=1).exists()
    assert reconcile_new_mqls() == {"unrouted": 0, "routed": 0, "clocks started": 0, "clocks cancelled": 0,
                                    "recycled clocks started": 0}


def test_day_one_starts_no_first_touch_clock_beside_a_touch_again_clock(db, django_capture_on_commit_callbacks):
    """A Nurture lead the scoring pass makes an MQL runs its touch-again clock (the stage listener);
    day one's first-touch clocks for untouched MQLs leave it alone. The default seed had 113 such
    leads with both clocks running."""
    from qualify.demo.dayone import _start_clocks
    from qualify.leads.lifecycle import move_stage
    from qualify.sla.models import Clock, ClockKind, ClockStatus
    from tests.factories import LeadFactory, TeamFactory, UserFactory

    team = TeamFactory(name="Back")
    lead = LeadFactory(team=team, owner=UserFactory.with_role(Role.SDR, team, username="back0"), stage=Stage.NURTURE)
    with django_capture_on_commit_callbacks(execute=True):
        move_stage(lead, to=Stage.MQL, by=None)
    assert _start_clocks() == 0
    assert list(Clock.objects.filter(lead=lead, status=ClockStatus.OPEN).values_list("kind", flat=True)) == [
        ClockKind.RECYCLED_TOUCH]


# Lower-case words a family name may start with ("Jan van der Berg", "Ana da Costa").
PARTICLES = {"van", "von", "der", "den", "de", "da", "das", "do", "dos", "del", "la", "le", "ter", "ten", "het",
             "'t", "'s", "en", "und", "zu", "die"}


def _odd_name(first: str, last: str) -> str | None:
    """Why a generated name is not one people write, or None: "Mehmet West-Francië, van" has its
    particle dangling after a comma."""
    words = last.split(" ")
    if not first[:1].isupper() or "," in first + last or "  " in f"{first} {last}" or last != last.strip():
        return "case, comma or spacing"
    if not words[-1].removeprefix("d'")[:1].isupper():
        return "the last word is not capitalised"
    if odd := [w for w in words if not w.removeprefix("d'")[:1].isupper() and w not in PARTICLES]:
        return f"lower-case words that are no particle: {odd}"
    return None


def test_generated_names_are_well_formed_over_many_seeds():
    """Every locale's Faker, seeded as the generator seeds it, for 300 seeds: the first 40 people
    of each (faker's Dutch list alone files three names under their particle, "West-Francië, van")."""
    from qualify.demo.base import GeneratorState, person_name

    state = GeneratorState(leads=0, accounts=1, days=1, seed=0, stdout=None)
    odd, seen = {}, 0
    for seed in range(300):
        for i, fake in enumerate(state.fakers.values()):
            fake.seed_instance(seed * 1000 + i)  # as GeneratorState does for `seed`
            for _ in range(40):
                first, last = person_name(fake)
                seen += 1
                if why := _odd_name(first, last):
                    odd[f"{first} {last}"] = why
    assert not odd, f"{len(odd)} odd names among {seen}: {dict(list(odd.items())[:10])}"


def test_the_particle_goes_before_the_name_and_odd_names_are_drawn_again():
    from qualify.demo.base import last_name

    class Lists:  # a Faker that answers these last names in turn
        locales = ["nl_NL"]

        def __init__(self, *names):
            self.names = iter(names)

        def last_name(self):
            return next(self.names)

    assert last_name(Lists("West-Francië, van")) == "van West-Francië"
    assert last_name(Lists("d' Heripon")) == "d'Heripon"
    assert last_name(Lists("auch Schlauchin", "Bakker")) == "Bakker"
    assert last_name(Lists("van 't Riet")) == "van 't Riet"


def test_every_seeded_person_has_a_well_formed_name(seeded):
    odd = {f"{f} {l}": why for f, l in Lead.objects.values_list("first_name", "last_name") if (why := _odd_name(f, l))}
    assert not odd
