"""Start-up checks for a production configuration."""

from pathlib import Path

from django.conf import settings
from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured

MISSING_MANIFEST = (
    "Static files are not collected: with DEBUG off every page needs {manifest}, which "
    "`python manage.py collectstatic --noinput` writes. Run it when building the release."
)


def static_manifest_problem() -> str | None:
    """Why pages would fail to render their static URLs, or None. With DEBUG off the hashed
    (manifest) storage serves static files, and without the manifest every page is a 500."""
    backend = settings.STORAGES["staticfiles"]["BACKEND"]
    if "Manifest" not in backend:
        return None
    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    return None if manifest.exists() else MISSING_MANIFEST.format(manifest=manifest)


@register()
def static_manifest_check(app_configs=None, **kwargs) -> list[Error]:
    """`runserver`, `migrate` and `check` refuse to go on (collectstatic itself runs only the
    staticfiles-tagged checks, so it still works)."""
    problem = static_manifest_problem()
    return [Error(problem, id="qualify.E001")] if problem else []


def require_static_manifest() -> None:
    """The same for app servers, which run no system checks: called from wsgi.py."""
    if problem := static_manifest_problem():
        raise ImproperlyConfigured(problem)
