"""Password reset e-mails are limited per address asked for and per client address (finding 11:
25 reset e-mails to one person in 3 seconds), and the answer never tells whether an account has
the address asked for."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from accounts import views
from accounts.ratelimit import Rate
from tests.concurrency import posts_at_once

HOUR = datetime.timedelta(hours=1)


@pytest.fixture
def alice_mail(alice):
    alice.email = "alice@north.example"
    alice.save()
    return alice.email


def ask(client, email, addr="10.0.0.1"):
    return client.post("/password-reset/", {"email": email}, REMOTE_ADDR=addr)


def test_one_address_gets_three_reset_emails_an_hour_and_every_answer_is_the_same(client, alice_mail):
    answers = [ask(client, alice_mail, addr=f"10.0.0.{i}") for i in range(6)]
    assert {(a.status_code, a["Location"]) for a in answers} == {(302, "/password-reset/sent/")}
    assert len(mail.outbox) == views.RESET_PER_EMAIL.limit == 3
    assert ask(client, "ALICE@north.example ", addr="10.0.0.9").status_code == 302 and len(mail.outbox) == 3
    with time_machine.travel(timezone.now() + HOUR):
        ask(client, alice_mail)
    assert len(mail.outbox) == 4


def test_an_unknown_address_over_its_limit_is_answered_like_a_known_one(client, alice_mail):
    known = [ask(client, alice_mail) for _ in range(4)][-1]
    unknown = [ask(client, "nobody@north.example") for _ in range(4)][-1]
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])


def test_one_client_address_is_paused_after_its_limit_whatever_it_asks_for(client, alice_mail, monkeypatch):
    monkeypatch.setattr(views, "RESET_PER_CLIENT", Rate(4, HOUR))
    assert [ask(client, f"x{i}@north.example").status_code for i in range(4)] == [302] * 4
    paused = ask(client, alice_mail)
    assert paused.status_code == 429 and 0 < int(paused["Retry-After"]) <= 3600
    assert "Too many password reset requests from your address" in paused.content.decode()
    assert mail.outbox == []
    assert ask(client, alice_mail, addr="10.0.0.2").status_code == 302 and len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_parallel_requests_for_one_address_send_three_emails(alice_mail):
    answers = posts_at_once(None, "/password-reset/", {"email": alice_mail}, 10)
    assert [getattr(a, "status_code", a) for a in answers] == [302] * 10
    assert len(mail.outbox) == 3
