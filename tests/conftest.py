"""The cast every test can use, named so tests read like sentences.

Team North: alice (SDR), bob (SDR, alice's teammate), erin (AE), maria (manager), mark (marketing).
Team South: charlie (SDR, the outsider), sam (AE).
rita is the RevOps admin and sees everything.
"""

import pytest
from django.core.cache import cache

from accounts.models import Role
from tests.factories import LeadFactory, TeamFactory, UserFactory


@pytest.fixture(autouse=True)
def _fast_tests(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.CELERY_TASK_ALWAYS_EAGER = False
    # A failing listener is a failing test, not a log line (qualify/leads/changes.py).
    settings.LISTENER_ERRORS_RAISE = True
    # The suite makes many requests from one address: no API throttling unless a test sets a rate
    # (tests/api/test_throttling.py), and no counters left over from another test.
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {scope: None for scope in settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]},
    }
    cache.clear()


@pytest.fixture
def north(db):
    return TeamFactory(name="North")


@pytest.fixture
def south(db):
    return TeamFactory(name="South")


@pytest.fixture
def alice(north):
    return UserFactory.with_role(Role.SDR, north, username="alice", first_name="Alice", last_name="Adams")


@pytest.fixture
def bob(north):
    return UserFactory.with_role(Role.SDR, north, username="bob", first_name="Bob", last_name="Brown")


@pytest.fixture
def erin(north):
    return UserFactory.with_role(Role.AE, north, username="erin", first_name="Erin", last_name="Evans")


@pytest.fixture
def maria(north):
    return UserFactory.with_role(Role.MANAGER, north, username="maria", first_name="Maria", last_name="Moreno")


@pytest.fixture
def mark(north):
    return UserFactory.with_role(Role.MARKETING, north, username="mark", first_name="Mark", last_name="Miller")


@pytest.fixture
def charlie(south):
    return UserFactory.with_role(Role.SDR, south, username="charlie", first_name="Charlie", last_name="Chen")


@pytest.fixture
def sam(south):
    return UserFactory.with_role(Role.AE, south, username="sam", first_name="Sam", last_name="Scott")


@pytest.fixture
def rita(north):
    return UserFactory.with_role(Role.REVOPS, north, username="rita", first_name="Rita", last_name="Ross", is_staff=True)


@pytest.fixture
def alices_lead(alice, north):
    return LeadFactory(team=north, owner=alice, first_name="Dana", last_name="Diaz", email="dana@acme.example")


@pytest.fixture
def pool_lead(north):
    return LeadFactory(team=north, owner=None, first_name="Paul", last_name="Pool")


@pytest.fixture
def south_lead(charlie, south):
    return LeadFactory(team=south, owner=charlie, first_name="Sofia", last_name="South")


def login(client, user):
    client.force_login(user)
    return client


def pytest_collection_modifyitems(items):
    """Every transactional test restores the rows data migrations ship (disqualify reasons,
    default frameworks, scoring model, beat entries): the flush that ends a transactional test
    would otherwise leave them empty for whatever runs next."""
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker and marker.kwargs.get("transaction") and not marker.kwargs.get("serialized_rollback"):
            item.add_marker(pytest.mark.django_db(*marker.args, **{**marker.kwargs, "serialized_rollback": True}), append=False)
