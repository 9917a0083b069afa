"""The top bar's account menu names the signed-in user and their role as people read it."""

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("who", "shown"), [
    ("alice", "Alice Adams · SDR"),
    ("maria", "Maria Moreno · Manager"),
    ("mark", "Mark Miller · Marketing"),
    ("rita", "Rita Ross · RevOps admin"),
])
def test_the_role_is_its_label_not_the_upper_cased_key(request, who, shown):
    client = Client()
    client.force_login(request.getfixturevalue(who))
    html = client.get(reverse("password_change")).content.decode()
    assert f'<p class="who">{shown}</p>' in html
    assert "MANAGER" not in html and "REVOPS" not in html


def test_a_user_without_a_team_shows_no_role(db):
    from tests.factories import UserFactory

    client = Client()
    client.force_login(UserFactory(username="nobody", first_name="No", last_name="Body"))
    assert '<p class="who">No Body</p>' in client.get(reverse("password_change")).content.decode()
