"""Ship a sensible default scoring model, published as version 1.

Fit (max 50): seniority, persona, ICP segment, industry, company size; negatives for students and
free-mail addresses. Engagement (counted at most 40 at any moment, so behaviour alone cannot reach
the MQL threshold of 60 without fit; the demo request is a hard trigger): pricing page, demo
request, webinar attended, email click, form fill, product usage, intent surge; negatives for
competitor-comparison and careers pages. Half-life 30 days.
"""

from django.db import migrations

FREE_MAIL = "gmail.com, yahoo.com, hotmail.com, outlook.com, aol.com, icloud.com, proton.me, gmx.de, mail.ru"

GROUPS = [
    # name, kind, cap, window_days
    ("Seniority", "fit", 20, 30),
    ("Persona", "fit", 15, 30),
    ("Company", "fit", 25, 30),
    ("Disqualifiers", "fit", None, 30),
    ("Website", "engagement", 20, 7),
    ("Conversions", "engagement", 40, 30),
    ("Email", "engagement", 10, 7),
    ("Product & intent", "engagement", 20, 7),
    ("Negative signals", "engagement", None, 30),
]

# group, label, points, field/event_type, prop, op, value, cap, hard
RULES = [
    ("Seniority", "C-level", 20, "seniority", "", "one_of", "c_level", None, False),
    ("Seniority", "VP", 15, "seniority", "", "equals", "vp", None, False),
    ("Seniority", "Director", 10, "seniority", "", "equals", "director", None, False),
    ("Seniority", "Manager", 5, "seniority", "", "equals", "manager", None, False),
    ("Persona", "Economic buyer", 15, "persona", "", "equals", "economic_buyer", None, False),
    ("Persona", "Champion", 10, "persona", "", "equals", "champion", None, False),
    ("Persona", "Technical evaluator", 8, "persona", "", "equals", "technical_evaluator", None, False),
    ("Company", "ICP segment: mid-market or enterprise", 10, "account.segment", "", "one_of", "mid_market, enterprise", None, False),
    ("Company", "Target industry", 8, "account.industry", "", "one_of",
     "software, saas, financial services, fintech, healthcare, manufacturing", None, False),
    ("Company", "200–5,000 employees", 10, "account.employee_count", "", "range", "200..5000", None, False),
    ("Company", "Over 5,000 employees", 6, "account.employee_count", "", "range", "5001..", None, False),
    ("Disqualifiers", "Student", -30, "seniority", "", "equals", "student", None, False),
    ("Disqualifiers", "Free-mail address", -10, "email_domain", "", "one_of", FREE_MAIL, None, False),
    ("Website", "Pricing page view", 5, "page_view", "page_category", "equals", "pricing", 15, False),
    ("Website", "Product page view", 2, "page_view", "page_category", "equals", "product", 6, False),
    ("Conversions", "Demo request", 30, "demo_request", "", "equals", "", None, True),
    ("Conversions", "Webinar attended", 10, "webinar_attended", "", "equals", "", 20, False),
    ("Conversions", "Form fill", 8, "form_fill", "", "equals", "", 16, False),
    ("Email", "Email click", 3, "email_click", "", "equals", "", 9, False),
    ("Email", "Email click on a case study", 3, "email_click", "link", "contains", "case-stud", 6, False),
    ("Product & intent", "Product usage", 4, "product_usage", "", "equals", "", 12, False),
    ("Product & intent", "Third-party intent surge", 10, "intent_surge", "", "equals", "", 10, False),
    ("Negative signals", "Careers page visit", -5, "page_view", "page_category", "equals", "careers", 15, False),
    ("Negative signals", "Competitor comparison page", -3, "page_view", "page_category", "equals", "competitor_comparison", 9, False),
]


def create_default(apps, schema_editor):
    ScoringModel = apps.get_model("scoring", "ScoringModel")
    RuleGroup = apps.get_model("scoring", "RuleGroup")
    Rule = apps.get_model("scoring", "Rule")
    ModelVersion = apps.get_model("scoring", "ModelVersion")
    if ScoringModel.objects.filter(is_default=True).exists():
        return
    model = ScoringModel.objects.create(
        name="Default", description="Catches every lead no segment model covers.", is_default=True, priority=1000,
        mql_threshold=60, half_life_days=30, fit_cap=50, engagement_cap=40, total_cap=100,
        grade_a=40, grade_b=25, grade_c=10,
    )
    groups = {}
    for i, (name, kind, cap, window) in enumerate(GROUPS):
        groups[name] = RuleGroup.objects.create(model=model, name=name, kind=kind, cap=cap, window_days=window, position=i)
    for i, (group, label, points, target, prop, op, value, cap, hard) in enumerate(RULES):
        fit = groups[group].kind == "fit"
        Rule.objects.create(
            model=model, group=groups[group], label=label, points=points, position=i,
            field=target if fit else "", event_type="" if fit else target, prop=prop, op=op, value=value,
            cap=cap, hard_trigger=hard,
        )
    # The same JSON ScoringModel.to_spec_json() builds (historical models have no methods).
    spec = {
        "model_id": model.pk, "name": model.name, "number": 1, "half_life_days": model.half_life_days,
        "mql_threshold": model.mql_threshold, "fit_cap": model.fit_cap, "engagement_cap": model.engagement_cap,
        "total_cap": model.total_cap, "grade_a": model.grade_a, "grade_b": model.grade_b, "grade_c": model.grade_c,
        "is_default": True, "priority": model.priority, "segment": [],
        "groups": [
            {"key": g.pk, "name": g.name, "kind": g.kind, "cap": g.cap, "window_days": g.window_days}
            for g in RuleGroup.objects.filter(model=model).order_by("position", "pk")
        ],
        "rules": [
            {"key": r.pk, "group": r.group_id, "label": r.label, "points": r.points, "field": r.field,
             "event_type": r.event_type, "prop": r.prop, "op": r.op, "value": r.value, "cap": r.cap,
             "hard_trigger": r.hard_trigger}
            for r in Rule.objects.filter(model=model).order_by("position", "pk")
        ],
    }
    version = ModelVersion.objects.create(model=model, number=1, spec=spec, note="Shipped default")
    model.current_version = version
    model.save(update_fields=["current_version"])


class Migration(migrations.Migration):
    dependencies = [("scoring", "0001_initial"), ("leads", "0006_lead_score_version")]
    operations = [migrations.RunPython(create_default, migrations.RunPython.noop)]
