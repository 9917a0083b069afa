"""Password change for a signed-in user, and reset by e-mail, with Django's views in our layout."""

import re

from django.core import mail

from tests.conftest import login


def test_login_page_links_to_password_reset(client):
    body = client.get("/login/").content.decode()
    assert 'href="/password-reset/"' in body


def test_change_password_needs_sign_in(client):
    assert client.get("/account/password/").url.startswith("/login/?next=")


def test_change_password(client, alice):
    login(client, alice)
    page = client.get("/account/password/")
    assert page.status_code == 200 and "Change your password" in page.content.decode() and 'class="topbar"' in page.content.decode()
    response = client.post("/account/password/", {"old_password": "pw", "new_password1": "a-long-new-pass-42", "new_password2": "a-long-new-pass-42"})
    assert response.url == "/account/password/done/"
    alice.refresh_from_db()
    assert alice.check_password("a-long-new-pass-42")
    assert "Password changed" in client.get(response.url).content.decode()  # still signed in


def test_change_password_with_the_wrong_old_one_changes_nothing(client, alice):
    login(client, alice)
    response = client.post("/account/password/", {"old_password": "nope", "new_password1": "a-long-new-pass-42", "new_password2": "a-long-new-pass-42"})
    assert response.status_code == 200 and 'role="alert"' in response.content.decode()
    alice.refresh_from_db()
    assert alice.check_password("pw")


def test_reset_by_email_end_to_end(client, alice):
    alice.email = "alice@north.example"
    alice.save()
    response = client.post("/password-reset/", {"email": "alice@north.example"})
    assert response.url == "/password-reset/sent/"
    [message] = mail.outbox
    assert message.subject == "Reset your Qualify password" and message.to == ["alice@north.example"]
    link = re.search(r"http://testserver(/reset/\S+/)", message.body).group(1)
    form = client.get(link, follow=True)
    assert "Choose a new password" in form.content.decode()
    done = client.post(form.redirect_chain[-1][0], {"new_password1": "a-long-new-pass-42", "new_password2": "a-long-new-pass-42"})
    assert done.url == "/reset/done/"
    alice.refresh_from_db()
    assert alice.check_password("a-long-new-pass-42")
    # The link works once.
    assert "This link no longer works" in client.get(link, follow=True).content.decode()


def test_reset_for_an_unknown_address_sends_nothing_and_says_the_same(client, alice):
    response = client.post("/password-reset/", {"email": "nobody@example.com"}, follow=True)
    assert "Check your e-mail" in response.content.decode()
    assert mail.outbox == []
