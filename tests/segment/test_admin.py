"""Admin: a source's write key is shown once, stored hashed, and rotated by an action."""

import re

import pytest

from qualify.segment.models import Source, hash_key


@pytest.fixture
def admin_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", "root@x.example", "pw"))
    return client


def shown_key(response) -> str:
    text = " ".join(str(m) for m in response.context["messages"])
    return re.search(r"(qk_\S+) — copy it now", text).group(1)


@pytest.mark.django_db
def test_a_new_source_shows_its_key_once_and_stores_only_its_hash(admin_client, north):
    response = admin_client.post("/admin/segment/source/add/", {"name": "Website", "team": north.pk, "active": "on"}, follow=True)
    key = shown_key(response)
    source = Source.objects.get()
    assert source.key_hash == hash_key(key) and key not in source.key_hash and source.key_hint == key[:8]
    page = admin_client.get(f"/admin/segment/source/{source.pk}/change/").content.decode()
    assert key not in page


@pytest.mark.django_db
def test_rotating_gives_a_new_key_and_the_old_one_stops_working(admin_client, north_source):
    response = admin_client.post("/admin/segment/source/", {"action": "rotate_keys", "_selected_action": [north_source.pk]},
                                 follow=True)
    new = shown_key(response)
    north_source.refresh_from_db()
    assert new != north_source.key and north_source.key_hash == hash_key(new) and north_source.key_rotated_at


@pytest.mark.django_db
def test_page_rules_are_editable_in_admin(admin_client):
    response = admin_client.post("/admin/segment/pagerule/add/", {
        "position": 10, "field": "path", "op": "regex", "value": "([", "category": "pricing"})
    assert response.status_code == 200 and "Not a regular expression" in response.content.decode()
    admin_client.post("/admin/segment/pagerule/add/", {"position": 10, "field": "path", "op": "prefix", "value": "/pricing",
                                                        "category": "pricing"})
    from qualify.segment.models import PageRule

    assert PageRule.objects.get().matches("", "/pricing/team")
