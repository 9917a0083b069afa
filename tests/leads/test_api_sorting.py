"""GET /api/leads/ sorts like the queue (the same SORTS and cursor) and searches the same fields."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from qualify.leads.models import NEVER, Lead, Stage
from tests.factories import LeadFactory

NOW = timezone.now().replace(microsecond=0)
RANK = {s: i for i, s in enumerate(Stage.values)}
KEYS = {
    "score": lambda lead: lead.score,
    "last_touch": lambda lead: lead.last_touch_at or NEVER,
    "created": lambda lead: lead.created_at,
    "stage": lambda lead: RANK[lead.stage],
}


@pytest.fixture
def api(alice):
    client = APIClient()
    client.force_authenticate(alice)
    return client


@pytest.fixture
def leads(alice, north):
    stages = [Stage.NEW, Stage.MQL, Stage.WORKING, Stage.NURTURE]
    made = [
        LeadFactory(team=north, owner=alice, score=[1, 1, 4][i % 3], stage=stages[i % 4],
                    recycle_on=NOW.date() if stages[i % 4] == Stage.NURTURE else None,
                    last_touch_at=None if i % 3 == 0 else NOW - datetime.timedelta(hours=i % 2),
                    created_at=NOW - datetime.timedelta(days=i % 2))
        for i in range(13)
    ]
    return list(Lead.objects.filter(pk__in=[lead.pk for lead in made]))


def _walk(api, url: str) -> list[int]:
    seen = []
    while url:
        response = api.get(url)
        assert response.status_code == 200, response.content
        seen += [r["id"] for r in response.json()["results"]]
        url = response.json()["next"]
    return seen


@pytest.mark.parametrize("name", list(KEYS))
@pytest.mark.parametrize("sign", ["", "-"])
def test_every_ordering_pages_through_every_visible_lead_once(api, leads, name, sign):
    expected = [lead.pk for lead in sorted(leads, key=lambda lead: (KEYS[name](lead), lead.pk), reverse=sign == "-")]
    assert _walk(api, f"/api/leads/?ordering={sign}{name}&page_size=4") == expected


def test_default_ordering_is_score_highest_first(api, leads):
    assert _walk(api, "/api/leads/?page_size=5") == _walk(api, "/api/leads/?ordering=-score&page_size=50")


@pytest.mark.parametrize(("query", "field"), [
    ("ordering=name", "ordering"), ("ordering=-", "ordering"), ("cursor=garbage", "cursor"),
    ("ordering=created&cursor=5:10", "cursor"), ("page_size=lots", "page_size"),
])
def test_bad_ordering_or_cursor_is_a_clear_400(api, leads, query, field):
    response = api.get(f"/api/leads/?{query}")
    assert response.status_code == 400
    assert field in response.json() or field in str(response.json())


def test_api_search_covers_title(api, alice, north):
    LeadFactory(team=north, owner=alice, first_name="Zed", title="Head of Procurement")
    LeadFactory(team=north, owner=alice, first_name="Yan", title="CFO")
    assert [r["first_name"] for r in api.get("/api/leads/?q=procurement").json()["results"]] == ["Zed"]
