"""Input no door should ever see, refused once for every door before any view runs.

- NUL characters: PostgreSQL text cannot store them, so one in a form field or a JSON body used to
  end as a 500 deep inside a write (handoff accept, review verdict, reassign, the API). Refused
  here with a 400 that names the problem; uploaded files are not inspected (the CSV importer
  judges its own files), nor are the batch endpoints, which judge each item alone so that one bad
  item never sinks the others (`POST /api/events/`, the Segment-compatible `/v1/`, whose bodies
  may also be gzip).
- Bodies over DATA_UPLOAD_MAX_MEMORY_SIZE: Django answered an HTML 400 with no message; the API
  now answers a JSON 413 that states the limit, and pages a sentence in the app's layout.

Costs a scan of the query string, the parsed form fields, or the raw JSON body: microseconds for
ordinary requests, about a millisecond for a 4 MB event batch.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

NUL_MESSAGE = "The request contains a NUL character (\\u0000), which no field can store. Remove it and send it again."


# Paths whose views refuse NUL (and lone surrogates, qualify/api/parsers.py) item by item
# (qualify/scoring/ingest.py, qualify/segment).
PER_ITEM_PATHS = ("/api/events/", "/v1/")


def _api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") or request.path.startswith("/v1/")


def _refuse(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    if _api(request) or "json" in request.headers.get("Accept", "") or "json" in request.content_type:
        return JsonResponse({"detail": message}, status=status)
    return render(request, "errors/bad_input.html", {"title": title, "message": message}, status=status)


def _has_nul(querydict) -> bool:
    return any("\x00" in key or any("\x00" in v for v in values) for key, values in querydict.lists())


class InputGuardMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if limit is not None and length > limit and not request.content_type.startswith("multipart/"):
            return _refuse(request, 413, "Too large",
                           f"The request body is {length:,} bytes; the limit is {limit:,} bytes.")
        if _has_nul(request.GET):
            return _refuse(request, 400, "Bad input", NUL_MESSAGE)
        if request.method in ("POST", "PUT", "PATCH") and not request.path.startswith(PER_ITEM_PATHS):
            if "json" in request.content_type:
                body = request.body
                if b"\x00" in body or b"\\u0000" in body:
                    return _refuse(request, 400, "Bad input", NUL_MESSAGE)
            elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data") and _has_nul(request.POST):
                return _refuse(request, 400, "Bad input", NUL_MESSAGE)
        return self.get_response(request)
