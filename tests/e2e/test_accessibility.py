"""Every page of the app, opened in Chromium and checked with axe-core: no serious or critical
violation (tests/e2e/a11y.py).

The pages come from the permission matrix (tests/security/test_matrix.py): every URL name with a
GET that is not an API route, built with the ids of team North's objects (tests/security/world.py)
and opened by someone allowed to see it, so a new page is checked without anyone listing it here.
A few more states are checked too: forms refused with their errors, every <details> opened (the
queue's touch form, the lead page's nurture and disqualify forms).
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from tests.e2e.a11y import assert_accessible, require_axe
from tests.security.test_matrix import EXPECT, ROUTES, url_for
from tests.security.world import build_world

# Who opens a page: the first of these the matrix allows (public pages signed out).
VISITORS = ("anon", "maria", "alice", "erin", "mark", "rita")
# GET URLs that are not pages a person opens: fragments htmx swaps into a page (checked inside
# their page), or a redirect. Each says why.
NOT_PAGES = {
    "notifications:badge": "the notification count htmx swaps into the top bar",
    "notifications:open": "redirects to a notification's lead (its POST, from the list, marks it read)",
    "scoring:run-progress": "the progress bar fragment of the admin's recompute",
    "scoring:breakdown": "the score panel fragment of the lead page",
    "frameworks:answers": "the answers panel fragment of the lead page",
    "handoff:hand_off": "the hand-off section fragment of the lead page (its POST answers the whole page)",
    "password_reset_confirm": "an invalid token redirects to the set-password page (checked as its own state below)",
    "leads:property_filters": "the queue's property filter fields htmx loads into the filter bar",
    "predictions:progress": "the training progress fragment of the quality page",
    "leads:export": "the queue as a CSV download, not a page",
    "leads:queue_total": "the total fragment the queue page swaps in (checked on the queue page)",
    "api-docs": "drf-spectacular's Swagger UI, not our markup",
    "api-redoc": "ReDoc, not our markup",
}
PAGES = sorted(
    name for name, methods in EXPECT.items()
    if "GET" in methods and not ROUTES[name].is_api and ROUTES[name].url_name not in NOT_PAGES and name not in NOT_PAGES
)


def test_every_page_is_listed_or_excused():
    """A GET page is checked unless NOT_PAGES says why not; a stale excuse fails too."""
    assert len(PAGES) > 25
    stale = set(NOT_PAGES) - {r.url_name for r in ROUTES.values()} - set(ROUTES)
    assert not stale, f"NOT_PAGES names URLs that no longer exist: {sorted(stale)}"


@pytest.fixture
def world(transactional_db):
    return build_world()


@pytest.fixture
def browser_as(new_context, live_server, world):
    """A page signed in as one of the matrix's cast (its session cookie), or signed out."""

    def open_as(who: str):
        context = new_context()
        if who != "anon":
            client = Client()
            client.force_login(world.users[who])
            context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "url": live_server.url,
                                  "value": client.cookies[settings.SESSION_COOKIE_NAME].value}])
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    return open_as


def test_every_page_has_no_serious_violations(browser_as, live_server, world):
    require_axe()
    pages: dict[str, object] = {}
    failures = []
    for name in PAGES:
        allowed = EXPECT[name]["GET"].split()
        who = next(v for v in VISITORS if v in allowed)
        page = pages.get(who) or pages.setdefault(who, browser_as(who))
        url = live_server.url + url_for(ROUTES[name], world.north.ids)
        response = page.goto(url)
        assert response is not None and response.status < 400, f"{name} as {who}: {response and response.status}"
        try:
            assert_accessible(page, f"{name} ({url} as {who})")
        except AssertionError as e:
            failures.append(str(e))
    assert not failures, "\n\n".join(failures)


def test_opened_forms_and_refused_forms_have_no_serious_violations(browser_as, live_server, world):
    require_axe()
    page = browser_as("alice")
    lead_url = f"{live_server.url}/leads/{world.north.ids['lead_id']}/"
    page.goto(lead_url)
    page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
    assert_accessible(page, "the lead page with every form open")

    page.goto(f"{live_server.url}/queue/")
    page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
    assert_accessible(page, "the queue with every row's touch form open")

    for path, button in (("/leads/new/", "Create lead"), ("/accounts/new/", "Create account")):
        page.goto(live_server.url + path)
        page.get_by_role("button", name=button).click()
        page.locator(".error-summary").wait_for()
        assert_accessible(page, f"{path} refused")

    page.goto(f"{live_server.url}/reset/MQ/set-password/")
    assert_accessible(page, "the password reset with an invalid link")


def test_the_check_fails_on_a_page_with_a_violation(browser_as, live_server, world):
    """The checker itself: an unlabelled select and an image without text are reported."""
    require_axe()
    page = browser_as("anon")
    page.goto(f"{live_server.url}/login/")
    page.evaluate("""() => { const s = document.createElement('select'); document.querySelector('main').append(s);
                             const i = document.createElement('img'); i.src = 'x.png'; document.querySelector('main').append(i); }""")
    with pytest.raises(AssertionError) as failed:
        assert_accessible(page, "the sign-in page with a broken form")
    assert "select-name" in str(failed.value) and "image-alt" in str(failed.value)
