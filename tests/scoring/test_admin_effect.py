"""Issue 15: each rule of a model's saved draft shows, in admin, how many open leads it fires on now
(qualify/scoring/effect.py), counted by the engine's own SQL and held equal here to engine.py."""

import datetime

import pytest
from django.db import connection
from django.utils import timezone

from qualify.leads.models import Lead, Property, Seniority, Stage
from qualify.scoring import effect, runs, scores, sql
from qualify.errors import DomainError
from qualify.scoring.models import Rule, RuleGroup, ScoreRun, ScoringModel, SegmentCondition
from tests.conftest import login
from tests.factories import AccountFactory, LeadFactory
from tests.scoring.conftest import event

pytestmark = pytest.mark.django_db
NOW = timezone.now()


def rule(model, label):
    return Rule.objects.get(model=model, label=label)


def test_fit_rules_count_the_open_leads_whose_fields_hold(north, default_model):
    for seniority in (Seniority.VP, Seniority.VP, Seniority.MANAGER, Seniority.STUDENT):
        LeadFactory(team=north, seniority=seniority, stage=Stage.NEW)
    LeadFactory(team=north, seniority=Seniority.VP, stage=Stage.WON)  # closed: out of scope
    LeadFactory(team=north, seniority=Seniority.VP, stage=Stage.DISQUALIFIED)

    counts = effect.rule_effect(default_model, now=NOW)

    assert counts.exact and not counts.timed_out
    assert counts.scope == 4
    assert counts.fired[rule(default_model, "VP").pk] == 2
    assert counts.fired[rule(default_model, "Manager").pk] == 1
    assert counts.fired[rule(default_model, "Student").pk] == 1
    assert rule(default_model, "C-level").pk not in counts.fired
    assert counts.describe(rule(default_model, "VP").pk) == "2 of 4 open leads"
    assert counts.describe(rule(default_model, "C-level").pk) == "0 of 4 open leads"


def test_every_fit_count_equals_the_engine_on_each_lead(north, default_model):
    """The reference: engine.RuleSpec.fits over sql.lead_facts, lead by lead."""
    for i, seniority in enumerate([Seniority.VP, Seniority.DIRECTOR, Seniority.MANAGER, Seniority.C_LEVEL, Seniority.STUDENT]):
        account = AccountFactory(team=north, employee_count=[50, 300, 6000, 1000, 20][i], industry=["SaaS", "Retail", "fintech", "x", "Healthcare"][i])
        LeadFactory(team=north, account=account, seniority=seniority, email=f"p{i}@{'gmail.com' if i % 2 else 'acme.example'}")
    counts = effect.rule_effect(default_model, now=NOW)
    draft = effect.draft_spec(default_model)
    leads = list(Lead.objects.filter(stage__in=["new", "mql", "working", "handed_off", "accepted", "opportunity"]).select_related("account"))
    for spec_rule in draft.fit_rules():
        expected = sum(spec_rule.fits(sql.lead_facts(lead)) for lead in leads)
        assert counts.fired.get(spec_rule.key, 0) == expected, spec_rule.label
    assert counts.scope == len(leads) == 5


def test_engagement_rules_count_leads_with_a_matching_event_in_their_window(north, default_model):
    pricing, careers, quiet = (LeadFactory(team=north) for _ in range(3))
    event(pricing, "page_view", days_ago=2, now=NOW, page_category="pricing")
    event(pricing, "page_view", days_ago=3, now=NOW, page_category="pricing")  # one lead, counted once
    event(careers, "page_view", days_ago=1, now=NOW, page_category="careers")
    event(quiet, "page_view", days_ago=10, now=NOW, page_category="pricing")  # outside the 7-day window
    event(quiet, "demo_request", days_ago=20, now=NOW)  # inside the 30-day window of Conversions

    counts = effect.rule_effect(default_model, now=NOW)

    assert counts.scope == 3
    assert counts.fired[rule(default_model, "Pricing page view").pk] == 1
    assert counts.fired[rule(default_model, "Careers page visit").pk] == 1
    assert counts.fired[rule(default_model, "Demo request").pk] == 1
    assert rule(default_model, "Product page view").pk not in counts.fired
    assert "last 7 days" in counts.why(rule(default_model, "Pricing page view").pk)


def test_a_property_rule_counts_and_the_scope_is_the_leads_the_draft_would_score(north, default_model):
    """A segment model on an account property takes its leads from the default; its own draft
    rule on a lead property counts among them only, switched-off rules too."""
    Property.objects.create(key="visits", label="Visits", kind="number")
    Property.objects.create(key="tier", label="Tier", entity="account", kind="text")
    model = ScoringModel.objects.create(name="Gold", priority=1, mql_threshold=60, half_life_days=30)
    SegmentCondition.objects.create(model=model, field="account.properties.tier", op="equals", value="gold")
    fit = RuleGroup.objects.create(model=model, name="Fit", kind="fit")
    busy = Rule.objects.create(model=model, group=fit, label="Busy", points=10, field="lead.properties.visits",
                               op="range", value="3..")
    off = Rule.objects.create(model=model, group=fit, label="Off", points=1, field="seniority", op="equals",
                              value="vp", active=False)
    runs.publish(model, by=None, start_run=False)
    gold, plain = AccountFactory(team=north, properties={"tier": "Gold"}), AccountFactory(team=north)
    for visits in (5, 3, 1):
        LeadFactory(team=north, account=gold, properties={"visits": visits}, seniority=Seniority.VP)
    LeadFactory(team=north, account=plain, properties={"visits": 9}, seniority=Seniority.VP)

    gold_counts = effect.rule_effect(model, now=NOW)
    assert (gold_counts.scope, gold_counts.fired[busy.pk], gold_counts.fired[off.pk]) == (3, 2, 3)
    default_counts = effect.rule_effect(default_model, now=NOW)
    assert default_counts.scope == 1
    assert default_counts.fired[rule(default_model, "VP").pk] == 1

    # An unpublished edit of the segment moves the scope at once: that is the point of the counts.
    SegmentCondition.objects.filter(model=model).update(value="silver")
    assert effect.rule_effect(model, now=NOW).scope == 0
    assert effect.rule_effect(default_model, now=NOW).scope == 1  # the default still sees Gold's published segment


def test_a_large_table_is_sampled_and_says_about(north, default_model, monkeypatch):
    for _ in range(30):
        LeadFactory(team=north, seniority=Seniority.VP)
    with connection.cursor() as cur:
        cur.execute("ANALYZE leads_lead")
    monkeypatch.setattr(effect, "SAMPLE_ABOVE", 10)
    counts = effect.rule_effect(default_model, now=NOW)
    assert not counts.exact
    assert counts.describe(rule(default_model, "VP").pk).startswith("about ")


def test_a_count_cut_off_by_the_timeout_says_so_and_leaves_the_transaction_usable(default_model, monkeypatch):
    monkeypatch.setattr(effect, "TIMEOUT_MS", 50)
    monkeypatch.setattr(effect, "effect_sql", lambda *a, **k: "SELECT 'scope', NULL::int, count(*) FROM pg_sleep(1)")
    counts = effect.rule_effect(default_model, now=NOW)
    assert counts.timed_out
    assert counts.describe(rule(default_model, "VP").pk) == "not counted (took over 0.05 s)"
    assert ScoringModel.objects.filter(pk=default_model.pk).exists()  # the outer transaction still works
    with connection.cursor() as cur:
        cur.execute("SHOW statement_timeout")
        assert cur.fetchone()[0] == "0"


def test_a_sql_error_is_not_mistaken_for_a_timeout(default_model, monkeypatch):
    monkeypatch.setattr(effect, "effect_sql", lambda *a, **k: "SELECT no_such_column FROM leads_lead")
    with pytest.raises(Exception, match="no_such_column"):
        effect.rule_effect(default_model, now=NOW)


def test_the_admin_page_shows_each_rule_s_count(client, rita, north, default_model):
    rita.is_superuser = True
    rita.save(update_fields=["is_superuser"])
    LeadFactory(team=north, seniority=Seniority.VP)
    login(client, rita)
    url = f"/admin/scoring/scoringmodel/{default_model.pk}/change/"
    response = client.get(url)
    assert response.status_code == 200
    body = response.content.decode()
    vp = rule(default_model, "VP")
    assert f'data-rule-fires="{vp.pk}"' in body
    assert body.count("data-rule-fires=") == Rule.objects.filter(model=default_model).count()
    assert "1 of 1 open leads" in body
    assert "Fires now</strong> counts, among the 1 open leads" in body


def test_an_unchanged_draft_is_not_published_again_and_the_page_says_so(client, rita, default_model):
    """Publishing the current version again made a copy and recomputed every lead for nothing."""
    rita.is_superuser = True
    rita.save(update_fields=["is_superuser"])
    versions = default_model.versions.count()
    with pytest.raises(DomainError, match="Nothing changed since v"):
        runs.publish(default_model, by=rita)
    assert default_model.versions.count() == versions and not ScoreRun.objects.exists()
    login(client, rita)
    url = f"/admin/scoring/scoringmodel/{default_model.pk}/change/"
    body = client.get(url).content.decode()
    assert "Nothing to publish: the draft is v" in body and "and recompute</button>" not in body
    # The door refuses too, with the reason, and changes nothing.
    page = client.post(f"/admin/scoring/scoringmodel/{default_model.pk}/publish/", follow=True).content.decode()
    assert "Nothing changed since v" in page and default_model.versions.count() == versions
    # Once the draft differs, the button is back.
    Rule.objects.filter(pk=rule(default_model, "VP").pk).update(points=7)
    assert "and recompute</button>" in client.get(url).content.decode()
