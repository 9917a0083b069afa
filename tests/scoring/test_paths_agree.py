"""The incremental path, the bulk SQL path and the reference engine give the same scores."""

import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qualify.leads.models import Lead, Persona, Seniority
from qualify.scoring import engine, runs, scores, sql
from qualify.scoring.explain import explain
from qualify.scoring.models import Rule, RuleGroup, ScoringModel, SegmentCondition
from qualify.scoring.ranking import to_us, value_now
from tests.factories import AccountFactory, LeadFactory
from tests.scoring.conftest import NOW, event


def _state(lead_ids):
    return {
        l.pk: (l.score_version_id, round(l.score_fit, 6), l.fit_grade, l.score_watermark, round(value_now(l, NOW), 6), l.score)
        for l in Lead.objects.filter(pk__in=lead_ids)
    }


@pytest.mark.django_db
def test_incremental_equals_full_on_the_same_data(north, default_model):
    leads = [
        LeadFactory(team=north, seniority=Seniority.VP, persona=Persona.CHAMPION),
        LeadFactory(team=north, seniority=Seniority.STUDENT, email="kid@gmail.com"),
        LeadFactory(team=north, seniority=Seniority.C_LEVEL, persona=Persona.ECONOMIC_BUYER),
    ]
    ids = [l.pk for l in leads]
    # Early history, scored incrementally as it arrives.
    for i in range(6):
        event(leads[0], days_ago=20 - i, page_category="pricing")
    event(leads[1], days_ago=3, page_category="careers")
    event(leads[2], "webinar_attended", days_ago=40)
    scores.score_leads(ids, now=NOW - datetime.timedelta(days=2), promote=False)
    # More events, some late (in already-scored windows), then another incremental pass.
    for i in range(5):
        event(leads[0], days_ago=19.5 - i, page_category="pricing")
    event(leads[0], "email_click", days_ago=1, link="https://x/case-study")
    event(leads[1], days_ago=2.5, page_category="careers")
    event(leads[2], "intent_surge", days_ago=0.5)
    scores.score_leads(ids, now=NOW, promote=False)
    incremental = _state(ids)

    Lead.objects.filter(pk__in=ids).update(score_version=None, score_watermark=0, score_fit=0, score_engagement=0)
    scores.recompute_ids(ids, scores.live_specs(), now=NOW - datetime.timedelta(hours=5), promote=False)
    full = _state(ids)
    assert incremental == full
    # And both agree with the reference engine over the raw events.
    for lead in Lead.objects.filter(pk__in=ids).select_related("account"):
        assert explain(lead, now=NOW).total == lead_score_now(lead)


def lead_score_now(lead):
    from qualify.scoring.ranking import score_now

    return score_now(lead, NOW)


# Events the default model counts (and one it ignores), for the property test below.
KINDS = [
    ("page_view", {"page_category": "pricing"}), ("page_view", {"page_category": "product"}),
    ("page_view", {"page_category": "careers"}), ("page_view", {"page_category": "blog"}),
    ("demo_request", {}), ("webinar_attended", {}), ("form_fill", {}),
    ("email_click", {"link": "https://x/case-study/a"}), ("intent_surge", {}), ("product_usage", {}),
]


@pytest.mark.django_db
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    batches=st.lists(
        st.lists(st.tuples(st.integers(0, len(KINDS) - 1), st.floats(0.01, 70.0)), max_size=12),
        min_size=1, max_size=5,
    ),
)
def test_events_arriving_in_any_batches_score_as_one_full_pass(north, default_model, batches):
    """The delta statement (new events and their windows only), applied batch after batch with late
    events landing in windows already counted, gives what the full statement and the reference
    engine give over all the events at once: caps reached in pieces, decay between passes."""
    lead = LeadFactory(team=north, seniority=Seniority.DIRECTOR, persona=Persona.CHAMPION)
    for i, batch in enumerate(batches):
        for kind, days_ago in batch:
            etype, props = KINDS[kind]
            event(lead, etype, days_ago=days_ago + len(batches) - i, **props)
        scores.score_leads([lead.pk], now=NOW - datetime.timedelta(hours=6 * (len(batches) - i)), promote=False)
    scores.score_leads([lead.pk], now=NOW, promote=False)
    incremental = _state([lead.pk])

    Lead.objects.filter(pk=lead.pk).update(score_version=None, score_watermark=0, score_fit=0, score_engagement=0)
    scores.recompute_ids([lead.pk], scores.live_specs(), now=NOW, promote=False)
    assert _state([lead.pk]) == incremental
    lead = Lead.objects.select_related("account").get(pk=lead.pk)
    assert explain(lead, now=NOW).total == lead_score_now(lead)


@pytest.mark.django_db
def test_events_no_rule_counts_advance_the_watermark_and_keep_the_stored_engagement(north, default_model):
    """So the row is rewritten without touching an indexed column (a HOT update): same score, same
    next change, only the watermark moves."""
    lead = LeadFactory(team=north, seniority=Seniority.VP)
    event(lead, days_ago=3, page_category="pricing")
    scores.score_leads([lead.pk], now=NOW - datetime.timedelta(hours=2), promote=False)
    before = Lead.objects.get(pk=lead.pk)
    blog = event(lead, days_ago=0.5, page_category="blog")
    scores.score_leads([lead.pk], now=NOW, promote=False)
    after = Lead.objects.get(pk=lead.pk)
    assert after.score_watermark == blog.pk
    assert (after.score_engagement, after.score_engagement_at, after.score_changes_at, after.score) == (
        before.score_engagement, before.score_engagement_at, before.score_changes_at, before.score
    )


@pytest.mark.django_db
def test_every_operator_on_event_properties_scores_as_the_engine_does(north):
    """The compiled matcher switches on the event type, then reads a property once where all its
    rules test it for equality; mixed operators take the general form. Each shape is exercised."""
    model = ScoringModel.objects.create(name="Operators", priority=1, mql_threshold=500, half_life_days=30)
    SegmentCondition.objects.create(model=model, field="account.segment", op="equals", value="enterprise")
    web = RuleGroup.objects.create(model=model, name="Web", kind="engagement", window_days=30)

    def rule(label, points, event_type, prop="", op="equals", value=""):
        Rule.objects.create(model=model, group=web, label=label, points=points, event_type=event_type, prop=prop,
                            op=op, value=value)

    rule("Pricing", 5, "page_view", "page_category", value="Pricing ")  # equals only, one value twice
    rule("Pricing again", 3, "page_view", "page_category", value="pricing")
    rule("Docs", 2, "page_view", "page_category", value="docs")
    rule("Any form", 4, "form_fill")  # always, plus an equality
    rule("Contact form", 6, "form_fill", "form", value="contact")
    rule("Case study", 7, "email_click", "link", "contains", "case-stud")  # mixed operators
    rule("Pricing or plans", 11, "email_click", "link", "one_of", "pricing, plans")
    rule("Heavy use", 13, "product_usage", "seats", "range", "10..50")
    runs.publish(model, by=None, start_run=False)
    spec = next(s for s in scores.live_specs() if s.model_id == model.pk)

    lead = LeadFactory(team=north, account=AccountFactory(team=north, segment="enterprise"))
    first = [("page_view", {"page_category": "PRICING"}), ("page_view", {"page_category": "docs"}),
             ("page_view", {"page_category": "blog"}), ("page_view", {}), ("form_fill", {"form": "contact"}),
             ("form_fill", {"form": "other"}), ("email_click", {"link": "https://x/Case-Study"})]
    later = [("email_click", {"link": " Plans "}), ("email_click", {"link": "pricing"}), ("product_usage", {"seats": 12}),
             ("product_usage", {"seats": "abc"}), ("product_usage", {"seats": 60}), ("demo_request", {})]
    for batch, at in ((first, NOW - datetime.timedelta(days=1)), (later, NOW)):
        for i, (etype, props) in enumerate(batch):
            event(lead, etype, days_ago=2 + i / 10, now=at, **props)
        scores.score_leads([lead.pk], now=at, promote=False)  # the full statement first, the delta next
        lead = Lead.objects.select_related("account").get(pk=lead.pk)
        events = [engine.Ev(e.id, to_us(e.occurred_at), e.type, e.properties) for e in lead.events.all()]
        expected = engine.score(spec, sql.lead_facts(lead), events, to_us(at))
        assert lead.score_version_id == spec.version_id
        assert lead.score_engagement == pytest.approx(expected.engagement, abs=1e-9)
    assert expected.engagement > 0 and {line.label for line in expected.lines if line.occurrences} == {
        "Pricing", "Pricing again", "Docs", "Any form", "Contact form", "Case study", "Pricing or plans", "Heavy use"
    }


@pytest.mark.django_db
def test_fit_rules_and_segment_conditions_on_custom_properties_score_as_the_engine_does(north):
    """`lead.properties.<key>` and `account.properties.<key>` compile to jsonb ->> and compare like
    engine.text(): numbers in ranges, yes/no as true/false, choices and text case-blind."""
    from qualify.leads.models import Property

    Property.objects.create(key="visits", label="Visits", kind="number")
    Property.objects.create(key="occupation", label="Occupation", kind="choice", choices=["Student", "Working professional"])
    Property.objects.create(key="newsletter", label="Newsletter", kind="yesno")
    Property.objects.create(key="tier", label="Tier", entity="account", kind="text")
    model = ScoringModel.objects.create(name="Props", priority=1, mql_threshold=500, half_life_days=30)
    SegmentCondition.objects.create(model=model, field="account.properties.tier", op="one_of", value="gold, silver")
    fit = RuleGroup.objects.create(model=model, name="Fit", kind="fit")
    for label, points, field, op, value in [
        ("Many visits", 10, "lead.properties.visits", "range", "3..10"),
        ("Precise visits", 1, "lead.properties.visits", "equals", "2.5"),
        ("Professional", 7, "lead.properties.occupation", "equals", "working professional"),
        ("Student", -5, "lead.properties.occupation", "contains", "stud"),
        ("Newsletter", 3, "lead.properties.newsletter", "equals", "true"),
        ("No newsletter", -2, "lead.properties.newsletter", "equals", "false"),
        ("Gold", 4, "account.properties.tier", "equals", "GOLD"),
    ]:
        Rule.objects.create(model=model, group=fit, label=label, points=points, field=field, op=op, value=value)
    runs.publish(model, by=None, start_run=False)
    spec = next(s for s in scores.live_specs() if s.model_id == model.pk)

    gold, silver, none = (AccountFactory(team=north, properties=p) for p in ({"tier": "Gold"}, {"tier": "silver"}, {}))
    shapes = [
        (gold, {"visits": 5, "occupation": "Working professional", "newsletter": True}),
        (gold, {"visits": 2.5, "occupation": "Student", "newsletter": False}),
        (silver, {"visits": 11}),
        (silver, {}),
        (none, {"visits": 4, "newsletter": True}),
    ]
    leads = [LeadFactory(team=north, account=account, properties=props) for account, props in shapes]
    ids = [l.pk for l in leads]
    scores.recompute_ids(ids, scores.live_specs(), now=NOW, promote=False)
    fits = []
    for lead in Lead.objects.filter(pk__in=ids).select_related("account").order_by("pk"):
        facts = sql.lead_facts(lead)
        in_segment = all(c.holds(facts) for c in spec.segment)
        assert (lead.score_version_id == spec.version_id) == in_segment
        if in_segment:
            expected = engine.score(spec, facts, [], to_us(NOW))
            assert lead.score_fit == pytest.approx(expected.fit, abs=1e-9)
            fits.append(lead.score_fit)
    assert fits == [24, -2, 0, 0]
