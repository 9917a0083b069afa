"""Range indexes of number properties (qualify/leads/property_indexes.py): created by the task when a
number property is defined, dropped when it is retired or deleted, used by the planner for a rare
range on a sizable table, and never built from a key that could carry SQL.

CREATE INDEX CONCURRENTLY cannot run in a transaction, so the tests that build indexes are
transactional (serialized_rollback restores the data-migration rows afterwards)."""

from __future__ import annotations

import random
from unittest import mock

import pytest
from django.db import connection
from django.http import QueryDict

from qualify.leads import property_indexes
from qualify.leads.models import Lead, Property, PropertyKind, Stage
from qualify.leads.properties import lead_filter, number_range
from qualify.leads.queue import queue_queryset, sort_of, sorted_leads
from qualify.leads.tasks import sync_property_indexes
from tests.factories import AccountFactory



@pytest.fixture
def no_leftover_indexes(transactional_db):
    """Indexes outlive the flush between transactional tests: start and end without any."""
    Property.objects.all().delete()
    property_indexes.sync()
    yield
    Property.objects.all().delete()
    property_indexes.sync()


built = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.usefixtures("no_leftover_indexes")]


def uses(marks):
    def apply(fn):
        for mark in marks:
            fn = mark(fn)
        return fn
    return apply


def indexdefs() -> dict[str, str]:
    with connection.cursor() as c:
        c.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ('leads_lead', 'leads_account')")
        return dict(c.fetchall())


def number(key: str, entity: str = "lead", **kw) -> Property:
    return Property.objects.create(key=key, label=key.title(), entity=entity, kind=PropertyKind.NUMBER, **kw)


@uses(built)
def test_defining_a_number_property_builds_its_index_and_retiring_it_drops_it(north):
    number("visits")
    Property.objects.create(key="occupation", label="Occupation", kind=PropertyKind.TEXT)
    number("employees_est", entity="account")

    assert sync_property_indexes() == {"created": ["prop_account_employees_est", "prop_lead_visits"], "dropped": []}
    defs = indexdefs()
    assert "prop_lead_occupation" not in defs  # text: containment, GIN serves it
    assert defs["prop_lead_visits"] == (
        "CREATE INDEX prop_lead_visits ON public.leads_lead USING btree (((properties -> 'visits'::text)))"
    )
    assert "leads_account" in defs["prop_account_employees_est"]
    assert sync_property_indexes() == {"created": [], "dropped": []}  # idempotent: a redelivery does nothing

    visits = Property.objects.get(key="visits")
    visits.active = False
    visits.save()
    assert sync_property_indexes() == {"created": [], "dropped": ["prop_lead_visits"]}
    Property.objects.get(key="employees_est").delete()
    assert sync_property_indexes() == {"created": [], "dropped": ["prop_account_employees_est"]}
    assert not any(name.startswith("prop_") for name in indexdefs())


@uses(built)
def test_an_index_left_invalid_by_an_interrupted_build_is_rebuilt(north):
    number("visits")
    sync_property_indexes()
    with connection.cursor() as c:  # what a cancelled CREATE INDEX CONCURRENTLY leaves behind
        c.execute("UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'prop_lead_visits'::regclass")
    assert property_indexes.existing() == {"prop_lead_visits": False}
    assert sync_property_indexes() == {"created": ["prop_lead_visits"], "dropped": ["prop_lead_visits"]}
    assert property_indexes.existing() == {"prop_lead_visits": True}


@uses(built)
def test_the_planner_uses_the_index_for_a_rare_range_in_the_whole_team_queue(north, maria):
    """6,000 open leads, half with visits (0-40, as in the benchmark), 6 with 60 or more: the
    whole-team view of `prop.visits.min=60` reads the index, not the team's queue."""
    number("visits")
    account = AccountFactory(team=north)
    rnd = random.Random(7)
    leads = []
    for i in range(6_000):
        props = {"visits": rnd.randint(0, 40)} if i % 2 else {}
        if i % 1000 == 1:
            props = {"visits": 60 + i // 1000}
        leads.append(Lead(team=north, account=account, first_name=f"L{i}", stage=Stage.MQL, properties=props))
    Lead.objects.bulk_create(leads, batch_size=2000)
    params = QueryDict("scope=team&prop.visits.min=60")

    def plan() -> str:
        qs, scope, _ = queue_queryset(maria, params)
        assert scope == "team"
        return sorted_leads(qs, *sort_of(params))[:50].explain()

    with connection.cursor() as c:
        c.execute("ANALYZE leads_lead")
    assert "prop_lead_visits" not in plan()  # nothing to use yet
    sync_property_indexes()  # builds it and ANALYZEs the new expression
    assert "prop_lead_visits" in plan(), plan()
    qs, _, _ = queue_queryset(maria, params)
    assert qs.count() == 6

    # A common range (about half the tagged leads) is free to walk the queue instead; the index
    # is there for the rare ones, and the answer is the same either way.
    common = QueryDict("scope=team&prop.visits.min=20")
    qs, _, _ = queue_queryset(maria, common)
    assert qs.count() == Lead.objects.filter(lead_filter(common)).count() > 1000


def test_the_index_expression_is_the_one_django_writes_for_a_range():
    prop = Property(key="visits", label="Visits", kind=PropertyKind.NUMBER)
    where = str(Lead.objects.filter(number_range("", prop, 60, None)).query).split(" WHERE ")[1]
    assert '"leads_lead"."properties" ? visits' in where
    assert '("leads_lead"."properties" -> visits) >= ' in where
    statement = property_indexes.create_statement("lead", "visits").as_string(None)
    assert statement == (
        'CREATE INDEX CONCURRENTLY IF NOT EXISTS "prop_lead_visits" ON "leads_lead" '
        "((properties -> 'visits'))"
    )


@pytest.mark.parametrize("key", ["visits'); DROP TABLE leads_lead; --", 'a"b', "Visits", "1st", "a__b", "x" * 51, ""])
def test_a_key_that_is_not_a_property_key_builds_nothing(key):
    with pytest.raises(ValueError):
        property_indexes.index_name("lead", key)
    with pytest.raises(ValueError):
        property_indexes.create_statement("lead", key)


@uses(built)
def test_a_bad_key_stored_around_validation_is_skipped_and_the_table_survives(north):
    """A key written straight to the table (raw SQL, a fixture) never reaches a statement."""
    Property.objects.bulk_create([
        Property(key="v'); DROP TABLE leads_lead; --", label="Evil", kind=PropertyKind.NUMBER),
        Property(key="visits", label="Visits", kind=PropertyKind.NUMBER),
    ])
    assert sync_property_indexes() == {"created": ["prop_lead_visits"], "dropped": []}
    assert Lead.objects.count() == 0  # the table is still there
    assert [n for n in indexdefs() if n.startswith("prop_")] == ["prop_lead_visits"]


def test_saving_a_definition_queues_the_sync_after_commit(db, django_capture_on_commit_callbacks):
    with mock.patch.object(sync_property_indexes, "delay") as delay:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            number("visits")
        assert not delay.called  # not before the definition is committed
        for callback in callbacks:
            callback()
    delay.assert_called_once_with()


def test_sync_refuses_to_run_inside_a_transaction(db):
    with pytest.raises(RuntimeError, match="cannot run inside a transaction"):
        property_indexes.sync()
