"""The rules table of the scoring model's admin page: a value's codes read as their labels
("c_level" is C-level), the menus say what they hold in words that fit, and the label and value
boxes wrap rather than cut (tests/e2e/test_scoring_admin.py measures them in a browser)."""

import pytest
from django import forms

from qualify.scoring.admin import RuleForm
from qualify.scoring.models import Op, Rule, show_values, value_labels
from tests.conftest import login

pytestmark = pytest.mark.django_db


def test_a_fields_codes_have_the_labels_of_its_choices():
    assert value_labels("seniority")["c_level"] == "C-level"
    assert value_labels("account.segment")["mid_market"] == "Mid-market"
    assert value_labels("account.country")["DE"] == "Germany"
    assert value_labels("title") == {} and value_labels("email_domain") == {} and value_labels("lead.properties.x") == {}
    assert "" not in value_labels("seniority")  # "Unknown" is no value a rule names


def test_a_value_reads_in_labels_and_free_text_reads_as_nothing():
    labels = value_labels("account.segment")
    assert show_values("mid_market, enterprise", labels) == "Mid-market, Enterprise"
    assert show_values("mid_market,typo", labels) == "Mid-market, typo"  # an unknown code as written
    assert show_values("pricing", {}) == "" and show_values("", labels) == ""
    assert show_values("software, saas", value_labels("account.industry")) == ""


def test_the_change_page_shows_the_labels_of_each_rules_codes(client, rita, default_model):
    rita.is_superuser = True
    rita.save(update_fields=["is_superuser"])
    body = login(client, rita).get(f"/admin/scoring/scoringmodel/{default_model.pk}/change/").content.decode()
    assert 'c_level</textarea><span class="value-labels">C-level</span>' in body
    assert 'mid_market, enterprise</textarea><span class="value-labels">Mid-market, Enterprise</span>' in body
    assert 'pricing</textarea><span' not in body  # a page category is free text
    # The operator and group menus in short words; the operator's header says how to write a value.
    assert '<option value="one_of" selected>is one of</option>' in body
    assert "is one of: values separated by commas" in body
    assert '<option value="%d" selected>Seniority</option>' % Rule.objects.get(model=default_model, label="VP").group_id in body


def test_a_line_break_typed_in_a_label_or_value_is_a_space(default_model):
    rule = Rule.objects.get(model=default_model, label="C-level")
    form_class = forms.modelform_factory(Rule, form=RuleForm, fields=["group", "label", "points", "field", "op", "value",
                                                                        "active", "position"])
    form = form_class(instance=rule, data={
        "group": rule.group_id, "label": "C-level\r\n or VP", "points": 20, "field": "seniority", "op": Op.ONE_OF,
        "value": "c_level,\r\nvp", "active": "on", "position": 0,
    })
    assert form.is_valid(), form.errors
    saved = form.save()
    assert (saved.label, saved.op, saved.value) == ("C-level or VP", Op.ONE_OF, "c_level, vp")
