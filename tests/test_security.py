"""Secure defaults: DEBUG off unless asked, no production start with the development key, HTTPS,
a Content-Security-Policy without inline script, static files collected, API docs behind login."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from qualify.checks import require_static_manifest, static_manifest_check
from tests.conftest import login

ROOT = Path(__file__).resolve().parent.parent
PRINT_SETTINGS = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps([s.DEBUG, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE]))"
)


def _settings_in_subprocess(**env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS")}
    return subprocess.run(
        [sys.executable, "-c", PRINT_SETTINGS], cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**base, "DJANGO_SETTINGS_MODULE": "qualify.settings", **env},
    )


def test_without_debug_set_the_development_secret_key_refuses_to_start():
    result = _settings_in_subprocess()
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "SECRET_KEY is the development key" in result.stderr


def test_debug_defaults_off_with_https_redirect_hsts_and_secure_cookies():
    result = _settings_in_subprocess(SECRET_KEY="a-real-secret-" + "z" * 40)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == [False, True, 31_536_000, True]


def test_https_settings_follow_the_environment():
    result = _settings_in_subprocess(SECRET_KEY="s" * 50, SECURE_SSL_REDIRECT="false", SECURE_HSTS_SECONDS="60")
    assert json.loads(result.stdout.splitlines()[-1])[1:3] == [False, 60]
    result = _settings_in_subprocess(DEBUG="true")
    assert json.loads(result.stdout.splitlines()[-1]) == [True, False, 0, False]


def test_make_run_turns_debug_on():
    run_target = (ROOT / "Makefile").read_text().split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert 'export DEBUG="$${DEBUG:-true}"' in run_target


def test_plain_http_is_redirected_to_https_with_hsts(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31_536_000
    response = client.get("/login/")
    assert response.status_code == 301 and response["Location"] == "https://testserver/login/"
    secure = client.get("/login/", secure=True)
    assert secure.status_code == 200 and secure["Strict-Transport-Security"] == "max-age=31536000"


def test_every_page_carries_a_csp_that_allows_no_inline_script(client, alice):
    for response in (client.get("/login/"), login(client, alice).get("/queue/"), client.get("/nope/")):
        csp = response["Content-Security-Policy"]
        script_src = re.search(r"script-src ([^;]*)", csp).group(1)
        assert script_src.split() == ["'self'"]
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"\s(on[a-z]+|hx-on(?::|-)[\w:-]*)\s*=", re.I)


@pytest.mark.parametrize("path", sorted(str(p.relative_to(ROOT)) for p in (ROOT / "templates").rglob("*.html")))
def test_templates_have_no_inline_script_or_event_handler(path):
    text = (ROOT / path).read_text()
    assert not INLINE_SCRIPT.search(text), "move the script to static/js/"
    assert not INLINE_HANDLER.search(text), "move the handler to static/js/app.js"


def test_pages_render_no_inline_script(client, alice, alices_lead):
    login(client, alice)
    for url in ("/queue/", f"/leads/{alices_lead.pk}/", "/definition/", "/account/tokens/", "/api/docs/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert not INLINE_SCRIPT.search(response.content.decode()), url


def test_api_docs_and_schema_require_sign_in(client, alice):
    assert client.get("/api/docs/").url.startswith("/login/?next=")
    assert client.get("/api/redoc/").url.startswith("/login/?next=")
    assert client.get("/api/schema/").status_code == 401
    login(client, alice)
    assert client.get("/api/docs/").status_code == 200
    assert client.get("/api/redoc/").status_code == 200
    assert client.get("/api/schema/").status_code == 200


def test_manifest_storage_without_collectstatic_fails_the_checks_and_the_app_server(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}}
    [error] = static_manifest_check()
    assert error.id == "qualify.E001" and "collectstatic --noinput" in error.msg
    with pytest.raises(ImproperlyConfigured, match="Run it when building the release"):
        require_static_manifest()
    (tmp_path / "staticfiles.json").write_text("{}")
    assert static_manifest_check() == []
    require_static_manifest()

