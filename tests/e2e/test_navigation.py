"""The top bar: one line at 1440 px for every role, nothing cut off at 1024 px, and an account
menu (Password, API tokens, API, Admin, Sign out) that works by keyboard and signs out with CSRF."""

import pytest
from playwright.sync_api import expect

from tests.e2e.a11y import assert_accessible
from tests.e2e.conftest import account_menu, login_as, open_account_menu, url_path

ROLES = ("alice", "erin", "maria", "mark", "rita")  # SDR, AE, manager, marketing, RevOps


def _items(page):
    """The top bar's visible items, left to right: the nav links, Notifications, the account menu."""
    return page.locator(".topbar nav a, .topbar .me > a, .topbar .account-menu > summary")


@pytest.mark.parametrize("who", ROLES)
def test_the_top_bar_is_one_line_at_1440_px(page, live_server, e2e_cast, who):
    page.set_viewport_size({"width": 1440, "height": 900})
    login_as(page, live_server, who)

    items = _items(page)
    first, last = items.first.bounding_box(), items.last.bounding_box()
    # The longest bars (the manager's, RevOps') used to wrap Import, Notifications, Breaches, Admin
    # and API onto a second line: first and last items now share one line.
    assert abs(first["y"] - last["y"]) < 2, (first, last)
    tops = {round(items.nth(i).bounding_box()["y"]) for i in range(items.count())}
    assert max(tops) - min(tops) < 2, tops
    assert last["x"] + last["width"] <= 1440


@pytest.mark.parametrize("who", ROLES)
def test_at_1024_px_every_top_bar_item_is_on_screen(page, live_server, e2e_cast, who):
    page.set_viewport_size({"width": 1024, "height": 800})
    login_as(page, live_server, who)

    items = _items(page)
    assert items.count() > 3
    for i in range(items.count()):
        box = items.nth(i).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 1024, (i, box)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024
    panel = open_account_menu(page)
    box = panel.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 1024


def test_the_account_menu_works_by_keyboard(page, live_server, e2e_cast):
    login_as(page, live_server, "rita")
    menu, panel = account_menu(page), page.locator(".topbar .account-panel")
    expect(menu).to_have_text("Account: Rita Ross")
    expect(panel).to_be_hidden()

    menu.focus()
    page.keyboard.press("Enter")
    expect(panel).to_be_visible()
    expect(panel).to_contain_text("Rita Ross · RevOps admin")
    assert_accessible(page, "the queue with the account menu open")
    page.keyboard.press("Tab")
    expect(panel.get_by_role("link", name="Password")).to_be_focused()

    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(menu).to_be_focused()

    page.keyboard.press("Space")
    expect(panel).to_be_visible()
    page.mouse.click(700, 600)  # a click elsewhere closes it
    expect(panel).to_be_hidden()


def test_sign_out_from_the_account_menu(page, live_server, e2e_cast):
    login_as(page, live_server, "maria")
    open_account_menu(page).get_by_role("button", name="Sign out").click()

    assert url_path(page) == "/login/"
    page.goto(f"{live_server.url}/queue/")
    assert url_path(page) == "/login/"  # signed out for real: the POST carried its CSRF token
