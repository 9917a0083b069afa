"""Map domain errors to 400s with the same message the pages show."""

from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from qualify.errors import DomainError


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        body = {exc.field or "non_field_errors": [exc.message]}
        if exc.details:
            body["details"] = exc.details
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)
