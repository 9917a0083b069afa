"""schemathesis against the live schema: every API operation, signed in as a manager, with generated
input. No server error, and every response the schema documents matches it.

The schema is the app's own (`GET /api/schema/` through WSGI, with a token); requests go through
WSGI in this process, so they see the test's data (the world of tests/security/world.py) and each
one runs in a savepoint rolled back after it. Detail operations are pinned to an object maria can
see (random ids would only ever meet 404s); everything else is generated. Bounded: a few examples
per operation, derandomized, so CI time stays flat.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from accounts.tokens import issue_token
from tests.security.world import build_world

EXAMPLES = 8
# The first path segment of a detail operation → the world's id for it.
DETAIL_IDS = {
    "accounts": "pk:account", "leads": "pk:lead", "answers": "pk:answer", "handoffs": "pk:handoff", "scores": "pk:scores",
    "sla-clocks": "pk:sla-clock", "sla-escalations": "pk:sla-escalation", "routing-rules": "pk:routing-rule",
    "review-plans": "pk:review-plan", "review-queues": "pk:review-queue", "review-items": "pk:review-item",
    "follow-up-tasks": "pk:follow-up-task", "requalifications": "pk:requalification", "imports": "pk:import",
    "sla-policies": "pk:sla-policy", "frameworks": "pk:framework", "disqualify-reasons": "pk:disqualify-reason",
    "opportunity-stages": "pk:opportunity-stage",
}
CHECKS = [not_a_server_error, response_schema_conformance]


@pytest.fixture
def wsgi_app():
    """The real WSGI handler, minus the end-of-request connection check that would close the test's
    transaction (Django's test client does the same)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def _pinned(operation, ids: dict[str, int]) -> dict[str, int] | None:
    segment = operation.path.strip("/").split("/")[1]
    names = {p.name for p in operation.iter_parameters() if p.location == "path"}
    if "id" in names and DETAIL_IDS.get(segment) in ids:
        return {"id": ids[DETAIL_IDS[segment]]}
    return None


def test_every_operation_answers_as_documented(db, wsgi_app):
    world = build_world()
    _, key = issue_token(user=world.users["maria"], name="schemathesis")
    headers = {"Authorization": f"Token {key}"}
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_app, headers=headers)
    failures: list[str] = []
    requests = 0
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 50

    for operation in operations:
        strategy = operation.as_strategy(path_parameters=_pinned(operation, world.north.ids))

        @given(case=strategy)
        @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case):
            nonlocal requests
            requests += 1
            with transaction.atomic():
                response = case.call(headers=headers)
                transaction.set_rollback(True)
            case.validate_response(response, checks=CHECKS)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # hypothesis's failure group; its message reproduces it
            failures.append(f"{operation.label}: {str(exc).strip()[:1500]}")
    print(f"schemathesis: {len(operations)} operations, {requests} requests")
    assert not failures, f"{len(failures)} operations failed:\n\n" + "\n\n".join(failures)
