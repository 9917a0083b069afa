"""Admin: calendars, policies and rules are editable and validated; history is read-only."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from qualify.routing.models import Method, RoutingRule
from qualify.sla.models import BusinessCalendar, ClockKind, EscalationStep, SlaPolicy, WorkingHours
from tests.conftest import login


@pytest.fixture
def admin_client(client, rita):
    rita.is_superuser = True
    rita.save()
    return login(client, rita)


@pytest.mark.parametrize(
    "url",
    [
        "/admin/sla/businesscalendar/", "/admin/sla/slapolicy/", "/admin/sla/clock/", "/admin/sla/escalation/",
        "/admin/notifications/notification/", "/admin/notifications/preference/", "/admin/routing/routingrule/", "/admin/routing/assignment/",
        "/admin/sla/slapolicy/add/", "/admin/routing/routingrule/add/",
    ],
)
def test_admin_pages_load(admin_client, url):
    assert admin_client.get(url).status_code == 200


def test_calendar_page_previews_deadlines(admin_client, default_calendar, frozen):
    html = admin_client.get(f"/admin/sla/businesscalendar/{default_calendar.pk}/change/").content.decode()
    assert "1 business hour → 4 Mar 2025, 11:00 UTC" in html
    assert "8 business hours → 5 Mar 2025, 10:00 UTC" in html


def test_editing_hours_in_admin_refreshes_deadlines(admin_client, default_calendar, frozen):
    hours = list(default_calendar.hours.all())
    data = {
        "name": default_calendar.name, "time_zone": "UTC", "country": "", "subdivision": "", "is_default": "on",
        "hours-TOTAL_FORMS": str(len(hours)), "hours-INITIAL_FORMS": str(len(hours)),
        "closed_dates-TOTAL_FORMS": "1", "closed_dates-INITIAL_FORMS": "0",
        "closed_dates-0-date": "2025-03-04", "closed_dates-0-name": "Offsite",
        "team_links-TOTAL_FORMS": "0", "team_links-INITIAL_FORMS": "0",
    }
    for i, h in enumerate(hours):
        data.update({f"hours-{i}-id": h.pk, f"hours-{i}-calendar": default_calendar.pk, f"hours-{i}-weekday": h.weekday,
                     f"hours-{i}-start": "09:00", f"hours-{i}-end": "17:00"})
    before = default_calendar.spec()
    response = admin_client.post(f"/admin/sla/businesscalendar/{default_calendar.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    fresh = BusinessCalendar.objects.get(pk=default_calendar.pk).spec()
    assert fresh is not before
    assert fresh.is_closed(datetime.date(2025, 3, 4))


def test_calendar_validation(db):
    with pytest.raises(ValidationError, match="time zone"):
        BusinessCalendar(name="X", time_zone="Mars/Olympus").full_clean()
    with pytest.raises(ValidationError, match="No public holiday calendar"):
        BusinessCalendar(name="X", time_zone="UTC", country="ZZ").full_clean()
    with pytest.raises(ValidationError, match="not a subdivision"):
        BusinessCalendar(name="X", time_zone="UTC", country="US", subdivision="XX").full_clean()
    BusinessCalendar(name="X", time_zone="America/New_York", country="US", subdivision="NY").full_clean()


def test_hours_must_end_after_they_start_except_midnight(default_calendar):
    with pytest.raises(ValidationError, match="End must be after start"):
        WorkingHours(calendar=default_calendar, weekday=0, start=datetime.time(17), end=datetime.time(9)).full_clean()
    WorkingHours(calendar=default_calendar, weekday=0, start=datetime.time(22), end=datetime.time(0)).full_clean()


def test_handoff_policies_cannot_reassign(handoff_policy):
    with pytest.raises(ValidationError, match="can notify, not reassign"):
        EscalationStep(policy=handoff_policy, after_minutes=30, action="reassign").full_clean()


def test_default_policy_with_conditions_is_refused(db):
    with pytest.raises(ValidationError, match="leave team, segment, source and grade blank"):
        SlaPolicy(name="X", kind=ClockKind.MQL_FIRST_TOUCH, is_default=True, segment="smb", target_minutes=10).full_clean()


def test_named_user_rule_needs_a_user(db):
    with pytest.raises(ValidationError, match="Choose the user"):
        RoutingRule(name="X", method=Method.USER).full_clean()


def test_clocks_are_read_only_in_admin(admin_client):
    assert admin_client.get("/admin/sla/clock/add/").status_code == 403


def test_a_target_or_rung_beyond_a_year_is_refused(mql_policy):
    """2,147,483,647 minutes (the column's limit) walked the calendar for 50 s and then overflowed
    the year 9999, in the request that started each clock."""
    mql_policy.target_minutes = 2_147_483_647
    with pytest.raises(ValidationError) as e:
        mql_policy.full_clean()
    assert "target_minutes" in e.value.message_dict
    mql_policy.target_minutes = 525_600  # a year of minutes is still allowed
    mql_policy.full_clean()
    step = EscalationStep(policy=mql_policy, after_minutes=525_601, action="notify")
    with pytest.raises(ValidationError) as e:
        step.full_clean()
    assert "after_minutes" in e.value.message_dict
