"""Logging a touch (leads/touches.py log_touch): a double click or a retried request is one touch,
answered with the touch already logged; a real second call, even an identical one, is logged."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from qualify.leads.models import Stage, StageChange, Touch
from qualify.leads.touches import REPEAT_WINDOW, log_touch
from tests.concurrency import posts_at_once
from tests.conftest import login

CALL = {"kind": "call", "outcome": "no_answer", "note": "Rang twice"}


def test_a_repeat_within_seconds_returns_the_touch_already_logged(alice, alices_lead):
    first = log_touch(alices_lead, by=alice, **CALL)
    again = log_touch(alices_lead, by=alice, **{**CALL, "note": " Rang twice "})  # as typed, trimmed
    assert again.pk == first.pk and again.repeated and not first.repeated
    assert Touch.objects.filter(lead=alices_lead).count() == 1
    assert StageChange.objects.filter(lead=alices_lead, to_stage=Stage.WORKING).count() == 1


def test_the_same_call_minutes_later_is_a_second_touch(alice, alices_lead):
    log_touch(alices_lead, by=alice, **CALL)
    with time_machine.travel(timezone.now() + REPEAT_WINDOW + datetime.timedelta(minutes=3)):
        later = log_touch(alices_lead, by=alice, **CALL)
    assert not later.repeated
    assert Touch.objects.filter(lead=alices_lead).count() == 2


@pytest.mark.parametrize("change", [{"outcome": "voicemail"}, {"kind": "email", "outcome": "sent"}, {"note": "Other"}])
def test_a_different_touch_right_after_is_logged(alice, alices_lead, change):
    log_touch(alices_lead, by=alice, **CALL)
    assert not log_touch(alices_lead, by=alice, **{**CALL, **change}).repeated
    assert Touch.objects.filter(lead=alices_lead).count() == 2


def test_a_teammates_identical_touch_is_their_own(alice, bob, pool_lead):
    log_touch(pool_lead, by=alice, **CALL)
    assert not log_touch(pool_lead, by=bob, **CALL).repeated
    assert Touch.objects.filter(lead=pool_lead).count() == 2


def test_a_backdated_touch_sent_twice_is_one(alice, alices_lead):
    """An API client retrying "log yesterday's call" sends the same occurred_at."""
    yesterday = timezone.now() - datetime.timedelta(days=1)
    first = log_touch(alices_lead, by=alice, occurred_at=yesterday, **CALL)
    assert log_touch(alices_lead, by=alice, occurred_at=yesterday, **CALL).pk == first.pk


def test_the_repeated_click_is_answered_as_logged(client, alice, alices_lead):
    login(client, alice)
    url = reverse("leads:touch", args=[alices_lead.pk])
    client.post(url, CALL, HTTP_HX_REQUEST="true")
    response = client.post(url, CALL, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Already logged: Call: No answer" in response.content.decode()
    assert Touch.objects.filter(lead=alices_lead).count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_parallel_clicks_log_one_touch_and_move_the_lead_once(alice, alices_lead):
    """Real requests at once: each waits on the lead's row lock, then finds the first touch."""
    answers = posts_at_once(alice, reverse("leads:touch", args=[alices_lead.pk]), CALL, 6, HTTP_HX_REQUEST="true")
    assert [getattr(a, "status_code", a) for a in answers] == [200] * 6
    bodies = [a.content.decode() for a in answers]
    assert sum("Logged: Call: No answer" in b and "Already" not in b for b in bodies) == 1
    assert Touch.objects.filter(lead=alices_lead).count() == 1
    assert StageChange.objects.filter(lead=alices_lead, to_stage=Stage.WORKING).count() == 1
