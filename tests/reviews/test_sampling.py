import datetime

import time_machine
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from hypothesis import given
from hypothesis import strategies as st

from qualify.leads.models import Stage, StageChange
from qualify.reviews.models import Population, ReviewItem, ReviewPlan, ReviewQueue
from qualify.reviews.sampling import build_due_queues, build_queue, draw, explain, period_start
from qualify.reviews.tasks import build_review_queues
from tests.factories import LeadFactory

from .conftest import accepted_lead, closed_lead


@given(
    ids=st.sets(st.integers(min_value=1, max_value=10_000), max_size=60),
    k=st.integers(min_value=1, max_value=80),
    seed=st.integers(min_value=0, max_value=2**62),
)
def test_draw_is_reproducible_without_repeats_and_inside_the_population(ids, k, seed):
    pop = {"": sorted(ids)}
    first = draw(pop, k, seed)
    assert first == draw(pop, k, seed)
    picked = [lead_id for _, lead_id in first]
    assert len(picked) == len(set(picked)) == min(k, len(ids))
    assert set(picked) <= ids


def test_draw_takes_k_from_each_stratum():
    pop = {"won": list(range(1, 30)), "lost": list(range(100, 104))}
    picked = draw(pop, 10, seed=7)
    assert sum(1 for s, _ in picked if s == "won") == 10
    assert sorted(i for s, i in picked if s == "lost") == [100, 101, 102, 103]


def test_a_different_seed_draws_a_different_sample():
    pop = {"": list(range(1, 200))}
    assert draw(pop, 10, 1) != draw(pop, 10, 2)


def test_queue_records_seed_and_population_and_redraws_to_the_same_items(queue, north_sqls):
    assert queue.seed == 1234
    assert queue.population == {"": sorted(lead.pk for lead in north_sqls)}
    assert queue.population_size == 6
    items = list(queue.items.order_by("position"))
    assert len(items) == 3
    assert len({i.lead_id for i in items}) == 3
    explanation = explain(queue)
    assert explanation.matches
    assert explanation.recorded == [lead_id for _, lead_id in draw(queue.population, 3, 1234)]


def test_population_is_this_teams_leads_accepted_inside_the_window(plan, north, south, alice, erin, charlie, sam):
    inside = accepted_lead(north, sdr=alice, ae=erin)
    accepted_lead(north, sdr=alice, ae=erin, at=timezone.now() - datetime.timedelta(days=8))  # too old
    accepted_lead(south, sdr=charlie, ae=sam)  # another team
    handed_only = LeadFactory(team=north, owner=alice, stage=Stage.HANDED_OFF)
    StageChange.objects.create(lead=handed_only, from_stage=Stage.WORKING, to_stage=Stage.HANDED_OFF, by=alice)

    queue, created = build_queue(plan, seed=1)

    assert created
    assert queue.population == {"": [inside.pk]}
    assert list(queue.items.values_list("lead_id", flat=True)) == [inside.pk]


def test_a_lead_accepted_twice_in_the_window_is_sampled_once(plan, north, alice, erin):
    lead = accepted_lead(north, sdr=alice, ae=erin)
    StageChange.objects.create(lead=lead, from_stage=Stage.HANDED_OFF, to_stage=Stage.ACCEPTED, by=erin,
                               at=timezone.now() - datetime.timedelta(hours=1))
    plan.sample_size = 5
    plan.save()

    queue, _ = build_queue(plan, seed=3)

    assert queue.population_size == 1
    assert queue.items.count() == 1


def test_rep_and_source_are_frozen_from_who_handed_it_off(queue, alice, bob):
    for item in queue.items.select_related("lead"):
        sdr = StageChange.objects.get(lead=item.lead, to_stage=Stage.HANDED_OFF).by
        assert item.rep == sdr
        assert item.source == item.lead.source
    assert {i.rep for i in queue.items.all()} <= {alice, bob}


def test_building_twice_in_one_period_returns_the_same_queue(queue, plan):
    again, created = build_queue(plan, seed=999)
    assert not created
    assert again == queue
    assert ReviewQueue.objects.count() == 1
    assert ReviewItem.objects.count() == 3


def test_next_week_gets_a_new_queue(queue, plan):
    with time_machine.travel(timezone.now() + datetime.timedelta(days=7)):
        accepted_lead(plan.team, sdr=plan.reviewer, ae=plan.reviewer)
        nxt, created = build_queue(plan, seed=5)
    assert created
    assert nxt.period_start == queue.period_start + datetime.timedelta(days=7)


def test_empty_population_builds_no_queue(plan):
    assert build_queue(plan) == (None, False)
    assert not ReviewQueue.objects.exists()


def test_open_opportunities_population(plan, north, south, erin, sam):
    opps = [LeadFactory(team=north, owner=erin, stage=Stage.OPPORTUNITY) for _ in range(2)]
    LeadFactory(team=north, owner=erin, stage=Stage.ACCEPTED)
    LeadFactory(team=south, owner=sam, stage=Stage.OPPORTUNITY)
    plan.population = Population.OPEN_OPPORTUNITIES
    plan.save()

    queue, _ = build_queue(plan, seed=11)

    assert queue.population == {"": sorted(o.pk for o in opps)}
    assert queue.window_start is None


@time_machine.travel(datetime.datetime(2026, 3, 10, 12, 0, tzinfo=datetime.UTC), tick=False)
def test_closed_last_month_samples_won_and_lost_separately(plan, north, erin):
    feb = datetime.datetime(2026, 2, 14, 12, 0, tzinfo=datetime.UTC)
    won = [closed_lead(north, to=Stage.WON, at=feb, ae=erin) for _ in range(4)]
    lost = [closed_lead(north, to=Stage.LOST, at=feb, ae=erin) for _ in range(2)]
    closed_lead(north, to=Stage.WON, at=datetime.datetime(2026, 3, 2, tzinfo=datetime.UTC), ae=erin)  # this month
    closed_lead(north, to=Stage.LOST, at=datetime.datetime(2026, 1, 31, 23, 0, tzinfo=datetime.UTC), ae=erin)  # January
    plan.population, plan.cadence, plan.sample_size = Population.CLOSED_LAST_MONTH, "monthly", 3
    plan.save()

    queue, _ = build_queue(plan, seed=21)

    assert queue.period_start == datetime.date(2026, 3, 1)
    assert queue.population == {"won": sorted(w.pk for w in won), "lost": sorted(lo.pk for lo in lost)}
    strata = list(queue.items.values_list("stratum", flat=True))
    assert strata.count("won") == 3 and strata.count("lost") == 2
    assert explain(queue).matches


def test_period_start_is_monday_or_first_of_month():
    wednesday = datetime.date(2026, 4, 15)
    assert period_start("weekly", wednesday) == datetime.date(2026, 4, 13)
    assert period_start("monthly", wednesday) == datetime.date(2026, 4, 1)


def test_beat_builds_queues_for_active_plans_only(plan, north_sqls, maria, north):
    ReviewPlan.objects.create(name="Paused", team=north, reviewer=maria, active=False)

    assert build_review_queues() == 1
    assert build_review_queues() == 0  # idempotent within the period
    assert list(ReviewQueue.objects.values_list("plan", flat=True)) == [plan.pk]


def test_build_due_queues_counts_only_new_ones(queue):
    assert build_due_queues() == 0


def test_the_beat_entry_ships_with_the_migrations(db):
    task = PeriodicTask.objects.get(task="reviews.build_review_queues")
    assert task.enabled and task.crontab is not None
    assert PeriodicTask.objects.filter(task="reviews.run_requalification", enabled=True).exists()
