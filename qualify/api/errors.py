"""Map domain errors to 400s with the same message the pages show, and a database outage to a
JSON 503 with Retry-After, so API clients back off and retry instead of reading an HTML 500."""

import logging

from django.db import InterfaceError, OperationalError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from qualify.errors import DomainError

log = logging.getLogger(__name__)

# Seconds a client should wait before retrying during a database outage (a restart or failover).
DATABASE_RETRY_AFTER = 30


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        body = {exc.field or "non_field_errors": [exc.message]}
        if exc.details:
            body["details"] = exc.details
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, (OperationalError, InterfaceError)):
        # Not set_rollback(): the connection is what failed. Django discards it at the request's end.
        log.error("Database unavailable: %s", exc, exc_info=exc)
        return Response(
            {"detail": "The database is unavailable; retry shortly.", "code": "database_unavailable"},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(DATABASE_RETRY_AFTER)},
        )
    return drf_exception_handler(exc, context)
