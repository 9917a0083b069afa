"""Smoke: the login page loads, a user signs in through the form and lands on their queue."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import login_as, url_path


def test_alice_signs_in_through_the_form_and_lands_on_her_queue(page, live_server, e2e_cast):
    page.goto(f"{live_server.url}/queue/")
    assert url_path(page) == "/login/"  # signed out: sent to the form
    expect(page.get_by_role("heading", name="Sign in to Qualify")).to_be_visible()

    login_as(page, live_server, "alice")

    assert url_path(page) == "/queue/"
    expect(page.get_by_role("heading", name="My queue")).to_be_visible()
    expect(page.locator(".topbar .me")).to_contain_text("Alice Adams · SDR")


def test_a_wrong_password_is_refused_with_a_message(page, live_server, e2e_cast):
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("not-her-password")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("alert")).to_contain_text("didn't match")
    assert url_path(page) == "/login/"
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)


@pytest.mark.parametrize("run", [1, 2])
def test_data_migration_rows_survive_earlier_transactional_tests(run, transactional_db):
    """Runs twice: the second run comes after a flush, and still sees the shipped rows."""
    from qualify.frameworks.models import Framework
    from qualify.leads.models import DisqualifyReason

    assert DisqualifyReason.objects.filter(name="No authority", action="back_to_sdr").exists()
    assert Framework.objects.filter(slug="bant", is_default=True).exists()
