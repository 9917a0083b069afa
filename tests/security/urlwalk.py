"""Every URL of the project, read from the URL configuration, with the names the matrix keys on."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver

# Django's own admin and the documentation pages' static assets are not ours to test here.
SKIPPED_PREFIXES = ("admin/",)
# Under api/ but for browsers: signed out, they are sent to the sign-in page.
BROWSER_PAGES = ("api-docs", "api-redoc")


@dataclass(frozen=True)
class Route:
    name: str  # "leads:detail", "api:lead-move"
    route: str  # "leads/<int:lead_id>/" or "api/^leads/(?P<pk>[^/.]+)/move/$"
    kwargs: tuple[str, ...]
    callback: object
    is_api: bool  # answers 401/403 when signed out (the docs pages send a browser to sign in instead)
    url_name: str  # what reverse() takes: the API's names are not namespaced


    @property
    def basename(self) -> str | None:
        return getattr(self.callback, "initkwargs", {}).get("basename")

    @property
    def drf_methods(self) -> set[str] | None:
        """The methods a DRF view answers (viewset actions or APIView handlers); None for a function view."""
        if actions := getattr(self.callback, "actions", None):
            return {m.upper() for m in actions} - {"HEAD"}  # HEAD rides along with GET
        cls = getattr(self.callback, "cls", None) or getattr(self.callback, "view_class", None)
        if cls is None:
            return None
        return {m.upper() for m in ("get", "post", "put", "patch", "delete") if hasattr(cls, m)}


def _walk(patterns, prefix: str, namespace: str, regex: str):
    for p in patterns:
        if isinstance(p, URLResolver):
            route = str(p.pattern)
            if (prefix + route).startswith(SKIPPED_PREFIXES):
                continue
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from _walk(p.url_patterns, prefix + route, ns, regex + p.pattern.regex.pattern)
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), namespace, p, regex + p.pattern.regex.pattern


def all_routes() -> list[Route]:
    """One Route per URL name; DRF's format-suffix twins (`.json`) share the name and the view, so
    the plain pattern stands for both."""
    routes: dict[str, Route] = {}
    for route, namespace, pattern, regex in _walk(get_resolver().url_patterns, "", "", ""):
        if not pattern.name or "format" in pattern.pattern.regex.groupindex:
            assert pattern.name or "format" in pattern.pattern.regex.groupindex, f"{route} has no name: the matrix needs one"
            continue
        url_name = f"{namespace}{pattern.name}"
        is_api = route.startswith("api/") and pattern.name not in BROWSER_PAGES
        name = f"api:{url_name}" if route.startswith("api/") and not namespace else url_name
        routes.setdefault(name, Route(name, route, tuple(pattern.pattern.regex.groupindex), pattern.callback, is_api, url_name))
    return list(routes.values())
