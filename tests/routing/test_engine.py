"""Routing rules against the database: conditions, methods, availability, pool, history, clocks."""

import datetime

import pytest
import time_machine

from accounts.models import Membership, Role
from qualify.errors import DomainError
from qualify.leads.lifecycle import move_stage
from qualify.leads.models import Lead, Stage
from qualify.routing.engine import reassign, route, route_new_mql
from qualify.routing.models import AccountOwned, Assignment, Method, RoundRobinCursor, RoutingRule
from qualify.sla.models import Clock, ClockKind
from qualify.notifications.models import Notification
from tests.factories import LeadFactory, UserFactory

TODAY = datetime.datetime(2025, 3, 4, 10, 0, tzinfo=datetime.timezone.utc)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(TODAY, tick=False):
        yield


def rule(name="Rule", **kw):
    return RoutingRule.objects.create(name=name, **{"method": Method.ROUND_ROBIN, **kw})


def new_lead(team, **kw):
    return LeadFactory(team=team, owner=None, **kw)


def owners(team, n, **kw):
    return [route(new_lead(team, **kw)).owner_id for _ in range(n)]


# --- methods ---------------------------------------------------------------------------------------


def test_round_robin_alternates_between_the_teams_sdrs(north, alice, bob, erin, maria):
    rule(team=north)
    assert owners(north, 4) == [alice.pk, bob.pk, alice.pk, bob.pk]
    assert RoundRobinCursor.objects.get().turns == 4


def test_round_robin_skips_a_rep_out_of_office(north, alice, bob):
    bob.out_of_office_from = datetime.date(2025, 3, 1)
    bob.out_of_office_until = datetime.date(2025, 3, 7)
    bob.save()
    rule(team=north)
    assert owners(north, 3) == [alice.pk] * 3


def test_out_of_office_that_ended_yesterday_is_back_in_rotation(north, alice, bob):
    bob.out_of_office_from, bob.out_of_office_until = datetime.date(2025, 2, 1), datetime.date(2025, 3, 3)
    bob.save()
    rule(team=north)
    assert sorted(owners(north, 2)) == sorted([alice.pk, bob.pk])


def test_rotation_limited_to_members(north, alice, bob):
    r = rule(team=north)
    r.members.set([bob])
    assert owners(north, 3) == [bob.pk] * 3


def test_ae_rotation(north, alice, erin):
    rule(team=north, role=Role.AE)
    assert owners(north, 2) == [erin.pk, erin.pk]


def test_least_loaded_picks_the_rep_with_fewest_open_leads(north, alice, bob):
    LeadFactory.create_batch(3, team=north, owner=alice, stage=Stage.WORKING)
    LeadFactory.create_batch(5, team=north, owner=alice, stage=Stage.WON)  # closed: not load
    LeadFactory(team=north, owner=bob, stage=Stage.MQL)
    rule(team=north, method=Method.LEAST_LOADED)
    # 3 vs 1: bob twice, then a 3–3 tie goes to the rep after the last one served (bob): alice.
    assert owners(north, 3) == [bob.pk, bob.pk, alice.pk]


def test_least_loaded_cap_skips_full_reps_then_falls_to_the_pool(north, alice, bob):
    LeadFactory.create_batch(2, team=north, owner=alice, stage=Stage.WORKING)
    rule(team=north, method=Method.LEAST_LOADED, capacity=2)
    assert owners(north, 3) == [bob.pk, bob.pk, None]
    last = Assignment.objects.latest("id")
    assert last.to_user is None
    assert "at capacity (2/2)" in last.why and last.why.endswith("no rule placed it: team pool")


def test_personal_capacity_on_the_membership(north, alice, bob):
    Membership.objects.filter(user=bob, team=north, role=Role.SDR).update(capacity=1)
    rule(team=north)
    assert owners(north, 4) == [alice.pk, bob.pk, alice.pk, alice.pk]


def test_named_user_rule(north, alice, bob):
    rule(team=north, method=Method.USER, user=bob)
    assert owners(north, 2) == [bob.pk, bob.pk]


def test_named_user_out_of_office_passes_to_the_next_rule(north, alice, bob):
    bob.out_of_office_from = datetime.date(2025, 3, 4)
    bob.save()
    rule("Bob only", team=north, method=Method.USER, user=bob, position=1)
    rule("Everyone", team=north, position=2)
    result = route(new_lead(north))
    assert result.owner_id == alice.pk and result.rule.name == "Everyone"
    assert "Bob only: skipped (bob out of office)" in result.why


def test_a_named_user_who_was_deactivated_is_said_to_be_so_and_where_the_lead_went(north, alice, bob):
    """A deactivated user was said to be "not on the lead's team": a manager looked for a membership
    that was there all along."""
    bob.is_active = False
    bob.save()
    rule("Bob only", team=north, method=Method.USER, user=bob, position=1)
    result = route(new_lead(north))
    assert result.owner_id is None
    assert result.why == "Bob only: skipped (bob deactivated); no rule placed it: team pool"
    rule("Everyone", team=north, position=2)
    result = route(new_lead(north))
    assert result.owner_id == alice.pk
    assert result.why == "Bob only: skipped (bob deactivated); rule 'Everyone' (round robin within the team)"
    assert Assignment.objects.filter(why=result.why).exists()


def test_account_owner_rule_for_account_based_selling(north, alice, erin):
    rule("ABM", method=Method.ACCOUNT_OWNER, account_owned=AccountOwned.YES, position=1)
    rule("Rest", team=north, position=2)
    owned = new_lead(north, account__owner=erin)
    assert route(owned).owner_id == erin.pk
    assert route(new_lead(north)).owner_id == alice.pk  # no owner: the ABM rule does not match


def test_account_owner_from_another_team_is_skipped(north, alice, sam):
    rule("ABM", method=Method.ACCOUNT_OWNER, position=1)
    result = route(new_lead(north, account__owner=sam))
    assert result.owner_id is None
    assert "sam not on the lead's team" in result.why


# --- conditions ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "condition, lead_kw, matches",
    [
        ({"segment": "enterprise"}, {"account__segment": "enterprise"}, True),
        ({"segment": "enterprise"}, {"account__segment": "smb"}, False),
        ({"region": "emea"}, {"account__region": "EMEA"}, True),
        ({"region": "EMEA"}, {"account__region": "NA"}, False),
        ({"industry": "software"}, {"account__industry": "Software"}, True),
        ({"industry": "Retail"}, {"account__industry": "Software"}, False),
        ({"source": "partner"}, {"source": "partner"}, True),
        ({"source": "partner"}, {"source": "inbound"}, False),
        ({"account_owned": AccountOwned.NO}, {}, True),
    ],
)
def test_conditions(north, alice, bob, condition, lead_kw, matches):
    rule("Bob's", method=Method.USER, user=bob, **condition)
    assert route(new_lead(north, **lead_kw)).owner_id == (bob.pk if matches else None)


def test_team_condition(north, south, alice, charlie):
    rule("South only", team=south, method=Method.USER, user=charlie)
    assert route(new_lead(north)).owner_id is None
    assert route(new_lead(south)).owner_id == charlie.pk


def test_inactive_rules_are_ignored(north, alice):
    rule(team=north, active=False)
    assert route(new_lead(north)).owner_id is None


# --- history, notifications, clocks ----------------------------------------------------------------


def test_every_routing_is_recorded_with_its_rule(north, alice):
    r = rule("North RR", team=north)
    lead = new_lead(north)
    route(lead, why="New MQL")
    a = Assignment.objects.get(lead=lead)
    assert (a.from_user, a.to_user, a.rule, a.rule_name, a.by) == (None, alice, r, "North RR", None)
    assert a.why == "New MQL; rule 'North RR' (round robin within the team)"
    n = Notification.objects.get(user=alice)
    assert n.title == f"Lead assigned to you: {lead.full_name}" and "by rule 'North RR'" in n.body


def test_unmatched_lead_goes_to_the_pool_and_that_is_recorded(north):
    lead = new_lead(north)
    assert route(lead, why="New MQL").owner_id is None
    a = Assignment.objects.get(lead=lead)
    assert (a.to_user, a.rule, a.why) == (None, None, "New MQL; no rule placed it: team pool")


def test_new_unowned_mql_is_routed_and_its_clock_starts_for_the_new_owner(north, alice, django_capture_on_commit_callbacks):
    rule(team=north)
    lead = new_lead(north)
    with django_capture_on_commit_callbacks(execute=True):
        move_stage(lead, to=Stage.MQL, by=None)
    lead.refresh_from_db()
    assert lead.owner == alice
    clock = Clock.objects.get(lead=lead)
    assert (clock.kind, clock.owner) == (ClockKind.MQL_FIRST_TOUCH, alice)


def test_owned_mql_is_not_rerouted_unless_a_rule_overrides_owners(north, alice, bob):
    rule("Bob's", team=north, method=Method.USER, user=bob)
    lead = LeadFactory(team=north, owner=alice, stage=Stage.MQL)
    assert route_new_mql(Lead.objects.select_related("account").get(pk=lead.pk)) is False
    assert Lead.objects.get(pk=lead.pk).owner == alice

    RoutingRule.objects.filter(name="Bob's").update(override_owner=True)
    assert route_new_mql(Lead.objects.select_related("account").get(pk=lead.pk)) is True
    assert Lead.objects.get(pk=lead.pk).owner == bob


# --- manager reassign -----------------------------------------------------------------------------


def test_reassign_to_a_named_rep(alices_lead, bob, maria):
    reassign(alices_lead, by=maria, mode="user", to=bob, why="Alice is at a conference")
    a = Assignment.objects.get(lead=alices_lead)
    assert (a.from_user.username, a.to_user, a.by, a.why) == ("alice", bob, maria, "Alice is at a conference")


def test_reassign_through_the_rules_skips_the_current_owner(alices_lead, alice, bob, maria, north):
    rule(team=north)
    result = reassign(alices_lead, by=maria, mode="route")
    assert result.owner_id == bob.pk


def test_reassign_to_the_pool(alices_lead, maria):
    reassign(alices_lead, by=maria, mode="pool")
    assert Lead.objects.get(pk=alices_lead.pk).owner is None


@pytest.mark.parametrize(
    "mode, to, message",
    [("user", None, "Choose who gets the lead."), ("user", "alice", "already owns"), ("sideways", None, "not a way to reassign")],
)
def test_bad_reassign_changes_nothing(alices_lead, alice, maria, mode, to, message):
    with pytest.raises(DomainError, match=message):
        reassign(alices_lead, by=maria, mode=mode, to=alice if to else None)
    assert Lead.objects.get(pk=alices_lead.pk).owner == alice
    assert not Assignment.objects.exists()


def test_reassign_to_someone_off_the_team_changes_nothing(alices_lead, alice, maria, charlie):
    with pytest.raises(DomainError, match="Choose an active SDR, AE or manager"):
        reassign(alices_lead, by=maria, mode="user", to=charlie)
    assert Lead.objects.get(pk=alices_lead.pk).owner == alice


def test_pool_reassign_of_a_pool_lead_is_refused(pool_lead, maria):
    with pytest.raises(DomainError, match="already in the team pool"):
        reassign(pool_lead, by=maria, mode="pool")


def test_inactive_user_is_never_picked(north, alice, bob):
    bob.is_active = False
    bob.save()
    rule(team=north)
    assert owners(north, 2) == [alice.pk, alice.pk]


def test_new_rep_joins_the_rotation(north, alice, bob):
    rule(team=north)
    owners(north, 2)
    zoe = UserFactory.with_role(Role.SDR, north, username="zoe")
    assert sorted(owners(north, 3)) == sorted([alice.pk, bob.pk, zoe.pk])
