"""The sign-in lockout page, the API tokens page, and pages running under the Content-Security-Policy."""

import re

from playwright.sync_api import expect

from tests.e2e.conftest import login_as, open_account_menu, url_path


def test_too_many_wrong_passwords_show_the_lockout_page(page, live_server, e2e_cast, settings):
    settings.AXES_FAILURE_LIMIT = 3
    page.goto(f"{live_server.url}/login/")
    for _ in range(3):
        page.get_by_label("Username").fill("alice")
        page.get_by_label("Password").fill("not-her-password")
        with page.expect_response(re.compile(r"/login/$")) as answer:
            page.get_by_role("button", name="Sign in").click()
    assert answer.value.status == 429
    assert answer.value.headers["retry-after"] == "900"
    expect(page.get_by_role("heading", name="Sign-in paused")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("Try again in 15 minutes")
    page.get_by_role("link", name="Reset your password by e-mail").click()
    expect(page.get_by_role("heading", name="Reset your password")).to_be_visible()


def test_create_copy_and_revoke_a_token(page, live_server, e2e_cast):
    from accounts.models import ApiToken

    violations = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    login_as(page, live_server, "alice")
    open_account_menu(page).get_by_role("link", name="API tokens").click()
    assert url_path(page) == "/account/tokens/"
    expect(page.get_by_text("No active tokens.")).to_be_visible()

    page.get_by_label("Name").fill("crm sync")
    page.get_by_role("button", name="Create token").click()
    key = page.get_by_label("New token key").input_value()
    assert key.startswith("qfy_")
    token = ApiToken.objects.get(user__username="alice")
    expect(page.locator("#tokens")).to_contain_text(f"{token.prefix}…")

    page.reload()  # the key is shown once
    expect(page.get_by_label("New token key")).to_have_count(0)
    page.once("dialog", lambda dialog: dialog.accept())  # static/js/app.js asks before revoking
    page.locator(f"#token-{token.pk}").get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("status")).to_contain_text("Revoked “crm sync”")
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert violations == []


def test_a_dismissed_confirmation_revokes_nothing(page, live_server, e2e_cast):
    from accounts.models import ApiToken, User
    from accounts.tokens import issue_token

    token, _ = issue_token(user=User.objects.get(username="alice"), name="keep me")
    login_as(page, live_server, "alice")
    page.goto(f"{live_server.url}/account/tokens/")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Revoke all my tokens").click()
    expect(page.locator("#tokens")).to_contain_text("keep me")
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None
