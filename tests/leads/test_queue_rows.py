"""What a queue row reads: the page's statement leaves out the columns no row shows
(queue.ROW_DEFERRED), so a row that read one would cost a query a row. The menus built from tuples
(rep filter, reassign, reasons) say what the User and DisqualifyReason instances said."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Model
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Role
from qualify.abm.models import AccountScore
from qualify.leads.models import DisqualifyReason, Stage
from qualify.leads.queue import SORTS
from tests.conftest import login
from tests.factories import AccountFactory, LeadFactory, UserFactory
from tests.scoring.conftest import ensure_default_model
from tests.sla.conftest import frozen, make_mql, sla_defaults  # noqa: F401 - fixtures


@pytest.fixture
def deferred_loads(monkeypatch):
    """Every deferred column a model instance loads on its own, as (model, fields)."""
    seen = []
    original = Model.refresh_from_db

    def spy(self, using=None, fields=None, **kwargs):
        seen.append((type(self).__name__, tuple(fields or ())))
        return original(self, using=using, fields=fields, **kwargs)

    monkeypatch.setattr(Model, "refresh_from_db", spy)
    return seen


@pytest.fixture
def varied_rows(north, alice, bob, make_mql):
    """Rows that show every cell: owned and pool leads, an owner with no name, scored leads with a
    fit grade, an MQA account, running SLA clocks, a lead an AE sent back with a reason."""
    version = ensure_default_model().current_version
    nameless = UserFactory.with_role(Role.SDR, north, username="nameless", first_name="", last_name="")
    account = AccountFactory(team=north, name="Acme", region="EMEA")
    AccountScore.objects.create(account=account, mqa_at=timezone.now(), engaged_this_week=3, score=60)
    leads = []
    for i, owner in enumerate([alice, bob, None, nameless, alice]):
        scored = i % 2 == 1
        leads.append(LeadFactory(
            team=north, owner=owner, account=account, score=10 + i, predicted=0.4 if scored else None,
            last_touch_at=timezone.now() if scored else None, score_version=version if scored else None,
            score_fit=5, score_engagement=3, score_engagement_at=timezone.now(), score_half_life_days=7,
            fit_grade="A" if scored else "", properties={"plan": "pro"},
        ))
    LeadFactory(team=north, owner=alice, stage=Stage.WORKING,
                disqualify_reason=DisqualifyReason.objects.filter(active=True).first())
    for lead in leads[:3]:
        make_mql(lead)
    return leads


@pytest.mark.parametrize("sort", list(SORTS))
def test_no_row_reads_a_column_the_page_left_out(client, frozen, maria, alice, varied_rows, deferred_loads, sort):
    login(client, maria)
    for params in ({"scope": "team", "sort": sort}, {"scope": "team", "sort": sort, "sla": "at_risk"},
                   {"scope": "pool", "sort": sort}):
        assert client.get("/queue/", params).status_code == 200
    login(client, alice)
    assert client.get("/queue/", {"sort": sort}).status_code == 200
    assert deferred_loads == []


def test_the_rep_menus_name_people_as_before_and_escape_them(client, maria, alice, north):
    UserFactory.with_role(Role.SDR, north, username="nameless", first_name="", last_name="")
    UserFactory.with_role(Role.SDR, north, username="zed", first_name="<i>Zed</i>", last_name="O'Hara & co")
    body = login(client, maria).get("/queue/", {"scope": "team", "owner": alice.pk}).content.decode()
    assert f'<option value="{alice.pk}" selected>{alice.get_full_name()}</option>' in body  # the rep filter
    assert f'<option value="{alice.pk}">{alice.get_full_name()}</option>' in body  # the reassign menu
    assert ">nameless</option>" in body  # no name: the username
    assert "&lt;i&gt;Zed&lt;/i&gt; O&#x27;Hara &amp; co</option>" in body and "<i>Zed" not in body


def test_the_reason_menu_lists_the_active_reasons_and_marketing_reads_none(client, maria, mark, north):
    DisqualifyReason.objects.create(name="Retired <reason>", active=False)
    active = list(DisqualifyReason.objects.filter(active=True).order_by("name").values_list("pk", "name"))
    body = login(client, maria).get("/queue/", {"scope": "team"}).content.decode()
    menu = body.split('aria-label="Reason (nurture or disqualify)">', 1)[1].split("</select>", 1)[0]
    assert menu == '<option value="">Reason…</option>' + "".join(f'<option value="{pk}">{name}</option>' for pk, name in active)
    assert "Retired" not in menu
    with CaptureQueriesContext(connection) as marketing:
        body = login(client, mark).get("/queue/", {"scope": "team"}).content.decode()
    assert "bulk-form" not in body
    assert not any("leads_disqualifyreason" in q["sql"] for q in marketing.captured_queries)
