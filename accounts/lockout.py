"""What a locked-out sign-in gets (django-axes calls this through AXES_LOCKOUT_CALLABLE)."""

from __future__ import annotations

import math

from axes.helpers import get_cool_off
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render


def lockout_message(minutes: int) -> str:
    return (
        f"Too many failed sign-in attempts for this user name from your address. "
        f"Try again in {minutes} minute{'s' if minutes != 1 else ''}, or reset your password."
    )


def lockout_response(request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict | None = None) -> HttpResponse:
    """429 with Retry-After: JSON `{"detail": ...}` for the API, the sign-in layout's page otherwise.

    Retry-After is the whole cool-off: every further failure while locked out starts it again
    (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT), so waiting less is never enough."""
    cool_off = get_cool_off(request)
    seconds = int(cool_off.total_seconds()) if cool_off else 0
    detail = lockout_message(max(1, math.ceil(seconds / 60)))
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"detail": detail}, status=429)
    else:
        response = render(request, "registration/locked_out.html", {"detail": detail}, status=429)
    if seconds:
        response["Retry-After"] = str(seconds)
    return response
