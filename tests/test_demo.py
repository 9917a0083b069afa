"""The demo-data generator: cast, consistent lifecycle histories, events, determinism, --if-empty."""

import datetime
import io
from collections import Counter

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from accounts.models import Membership, Role, Team, User
from qualify import demo
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

LEADS, ACCOUNTS, DAYS = 120, 20, 90

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(db):
    return demo.seed(leads=LEADS, accounts=ACCOUNTS, days=DAYS, seed=7)


def test_counts_are_returned_and_match_the_database(seeded):
    assert seeded["leads"] == LEADS == Lead.objects.count()
    assert seeded["accounts"] == ACCOUNTS == Account.objects.count()
    assert seeded["stage_changes"] == StageChange.objects.count()
    assert seeded["events"] == Event.objects.count()
    assert seeded["touches"] == Touch.objects.count()
    # Roughly 40 events per lead; every account got at least one lead.
    assert 20 * LEADS < seeded["events"] < 60 * LEADS
    assert not Account.objects.filter(leads__isnull=True).exists()


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
        assert client.login(username=username, password="demo"), username
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

    def snapshot():
        leads = Lead.objects.order_by("email", "first_name")
        return (
            list(leads.values_list("first_name", "last_name", "email", "title", "stage", "source", "account__domain",
                                   "owner__username", "ae__username", "campaign")),
            [list(lead.stage_changes.order_by("at", "id").values_list("to_stage", "by__username", "why"))
             for lead in leads],
            [sorted(lead.touches.values_list("kind", "outcome", "note")) for lead in leads],
            [Counter(lead.events.values_list("type", flat=True)) for lead in leads],
        )

    class Rollback(Exception):
        pass

    # A Saturday night (nothing is in working hours) and a Wednesday afternoon.
    with time_machine.travel(datetime.datetime(2025, 3, 8, 23, 30, tzinfo=datetime.UTC)):
        with pytest.raises(Rollback), transaction.atomic():
            demo.seed(leads=60, accounts=10, days=30, seed=3)
            first = snapshot()
            raise Rollback
    assert not Lead.objects.exists()
    with time_machine.travel(datetime.datetime(2025, 6, 11, 15, 0, tzinfo=datetime.UTC)):
        demo.seed(leads=60, accounts=10, days=30, seed=3)
        assert snapshot() == first
        assert Lead.objects.filter(created_at__gte=timezone.now() - datetime.timedelta(days=30)).count() == 60


def test_command_if_empty_does_not_seed_twice(db):
    out = io.StringIO()
    call_command("seed_demo", "--if-empty", "--leads", "30", "--accounts", "8", "--days", "14", stdout=out)
    counts = (Lead.objects.count(), Account.objects.count(), Event.objects.count(), StageChange.objects.count())
    assert counts[0] == 30 and counts[1] == 8
    call_command("seed_demo", "--if-empty", "--leads", "30", "--accounts", "8", "--days", "14", stdout=out)
    assert (Lead.objects.count(), Account.objects.count(), Event.objects.count(), StageChange.objects.count()) == counts
    text = out.getvalue()
    assert "not seeding again" in text
    # Both runs print the URL hint and the logins table.
    assert text.count("http://127.0.0.1:8000/") == 2
    for username in ("alice", "erin", "maria", "charlie", "magnus", "rita"):
        assert f"  {username} " in text
