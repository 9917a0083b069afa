"""Where a form goes back to after its POST: the `next` it carried, when that stays on this site."""

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request: HttpRequest, fallback: str) -> str:
    """`next` from the POST (or the query string) if it is a same-site URL, else `fallback`.

    Anything else (another host, `//evil.example`, `javascript:`, `https:` from an `http:` page
    going the other way is fine, the reverse is not) would make our pages a trampoline for phishing."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback
