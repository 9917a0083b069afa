"""The webhooks section of the OpenAPI schema (SPECTACULAR_SETTINGS["WEBHOOKS"] names WEBHOOKS by
import path): one entry per event, the version-1 envelope, and an example of each event's data."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiRequest, OpenApiResponse, OpenApiWebhook, extend_schema
from rest_framework import serializers

from .events import VERSION
from .models import EventType

LEAD = {"id": 42, "team_id": 1, "account_id": 7, "stage": "mql", "owner_id": 5, "ae_id": None, "first_name": "Dana",
        "last_name": "Diaz", "email": "dana@acme.example", "title": "CFO", "source": "inbound", "score": 71, "fit_grade": "A"}

# previous, current, details: what each event adds to the lead.
EXAMPLES: dict[str, tuple[dict | None, dict, dict]] = {
    EventType.LEAD_CREATED: (None, {"exists": True}, {"by_id": 5}),
    EventType.LEAD_MQL: ({"stage": "new"}, {"stage": "mql"}, {"by_id": None, "why": "Score 71 crossed 60", "reason_id": None, "imported": False}),
    EventType.LEAD_ASSIGNED: ({"owner_id": None}, {"owner_id": 5}, {"by_id": None, "rule_id": 3, "rule_name": "EMEA round robin", "why": "", "imported": False}),
    EventType.HANDOFF_CREATED: (None, {"status": "pending"}, {"handoff_id": 9, "from_user_id": 5, "to_user_id": 8, "by_id": 5, "next_step": "Demo Tue 10am with CFO"}),
    EventType.HANDOFF_ACCEPTED: ({"status": "pending"}, {"status": "accepted"}, {"handoff_id": 9, "from_user_id": 5, "to_user_id": 8, "by_id": 8, "note": ""}),
    EventType.HANDOFF_REJECTED: ({"status": "pending"}, {"status": "rejected", "reason": {"id": 2, "name": "No budget"}, "note": "No budget until Q3."},
                                 {"handoff_id": 9, "from_user_id": 5, "to_user_id": 8, "by_id": 8}),
    EventType.HANDOFF_REASSIGNED: ({"to_user_id": 8}, {"to_user_id": 11},
                                   {"handoff_id": 9, "from_user_id": 5, "to_user_id": 11, "by_id": 3, "note": "Erin is on leave"}),
    EventType.LEAD_NURTURED: ({"stage": "working"}, {"stage": "nurture"}, {"by_id": 5, "why": "Not now, revisit in Q3", "reason_id": 2, "imported": False}),
    EventType.LEAD_DISQUALIFIED: ({"stage": "working"}, {"stage": "disqualified"}, {"by_id": 5, "why": "Student", "reason_id": 4, "imported": False}),
    EventType.LEAD_RECYCLED: ({"stage": "nurture"}, {"stage": "working"}, {"by_id": None, "why": "Recycle date reached", "reason_id": None, "imported": False}),
    EventType.LEAD_WON: ({"stage": "opportunity"}, {"stage": "won"}, {"by_id": 8, "why": "", "reason_id": None, "imported": False}),
    EventType.LEAD_LOST: ({"stage": "opportunity"}, {"stage": "lost"}, {"by_id": 8, "why": "Went with a competitor", "reason_id": None, "imported": False}),
    EventType.SLA_WARNING: ({"sla": "running"}, {"sla": "warning"}, {"clock_id": 11, "clock_kind": "mql_first_touch", "step": 0,
                                                                      "due_at": "2026-12-04T15:00:00+00:00", "owner_id": 5}),
    EventType.SLA_BREACHED: ({"sla": "warning"}, {"sla": "breached"}, {"clock_id": 11, "clock_kind": "mql_first_touch", "step": 1,
                                                                        "due_at": "2026-12-04T15:00:00+00:00", "owner_id": 5}),
    EventType.REVIEW_VERDICT: ({"verdict": None}, {"verdict": "false_sql", "note": "No budget holder involved."}, {"review_item_id": 13, "by_id": 2}),
}


def example(event: str) -> dict:
    previous, current, details = EXAMPLES[event]
    return {"id": "msg_2f1c0b6e9a7d4c1f8e3b5a6d7c8e9f01", "type": str(event), "version": VERSION,
            "timestamp": "2026-12-04T16:52:17.123456Z",
            "data": {"lead": LEAD, "previous": previous, "current": current, **details}}


class WebhookData(serializers.Serializer):
    lead = serializers.DictField(help_text="The lead as it is after the change (id, team_id, stage, owner_id, name, email, score…).")
    previous = serializers.DictField(allow_null=True, help_text="The state before the change (null: there was none).")
    current = serializers.DictField(help_text="The state after the change.")


class WebhookPayload(serializers.Serializer):
    id = serializers.CharField(help_text="Equals the webhook-id header: the same on every retry and replay; deduplicate by it.")
    type = serializers.ChoiceField(choices=EventType.choices)
    version = serializers.IntegerField(help_text=f"Payload version, now {VERSION}. Fields are only ever added within a version.")
    timestamp = serializers.DateTimeField(help_text="When the change happened (UTC).")
    data = WebhookData(help_text="lead, previous, current, plus the event's own fields (see the example).")


def _webhook(event: EventType) -> OpenApiWebhook:
    return OpenApiWebhook(name=event.value, decorator=extend_schema(
        summary=event.label,
        description=(f"`{event.value}`, signed per the Standard Webhooks specification: headers `webhook-id`, "
                     "`webhook-timestamp`, `webhook-signature` (v1, HMAC-SHA256 with the endpoint's whsec_ secret). "
                     "Answer 2xx within 10 s; anything else is retried with exponential backoff for three days. "
                     "410 Gone disables the endpoint."),
        request=OpenApiRequest(WebhookPayload, examples=[OpenApiExample(event.value, value=example(event))]),
        responses={200: OpenApiResponse(description="Received; any 2xx will do.")},
    ))


WEBHOOKS = {event.value: _webhook(event) for event in EventType}
# Import paths for SPECTACULAR_SETTINGS["WEBHOOKS"], one module attribute per event.
for _event in EventType:
    globals()[_event.name] = WEBHOOKS[_event.value]

