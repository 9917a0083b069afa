"""Saving the preferences page twice at once (a double click, two tabs), in real transactions:
every submit is answered, none is a 500, and one row per kind remains (finding 6b: delete then
insert under READ COMMITTED hit notification_preference_once)."""

from __future__ import annotations

import pytest

from qualify.notifications.models import NotificationKind as K, Preference
from tests.concurrency import posts_at_once

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_parallel_saves_of_the_preferences_all_succeed_and_keep_one_row_per_kind(bob):
    for _ in range(2):  # the race is not won every round; two rounds of eight made it certain before
        answers = posts_at_once(bob, "/notifications/preferences/", {"assigned-app": "on", "assigned-email": "on"}, 8)
        assert [getattr(a, "status_code", a) for a in answers] == [302] * 8
    chosen = {p.kind: (p.in_app, p.email) for p in Preference.objects.filter(user=bob)}
    assert len(chosen) == len(K) == Preference.objects.filter(user=bob).count()
    assert chosen[K.ASSIGNED] == (True, True) and chosen[K.SLA_BREACH] == (False, False)
