"""REST endpoints: event ingestion and score explanations (the same functions the pages use)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from qualify.api.throttling import IngestThrottle
from qualify.leads.access import access_lead

from .explain import explain
from .ingest import MAX_BATCH, BatchError, ingest_events


class EventInSerializer(serializers.Serializer):
    """Schema only: items are validated one by one in ingest.py so one bad item never sinks the batch."""

    client_id = serializers.CharField(max_length=100, help_text="Your id for this event; retries dedupe on it.")
    type = serializers.CharField()
    occurred_at = serializers.DateTimeField()
    properties = serializers.DictField(required=False)
    lead_id = serializers.IntegerField(required=False)
    external_id = serializers.CharField(required=False)
    email = serializers.EmailField(required=False)
    account_domain = serializers.CharField(required=False, help_text="Narrows an external_id or email lookup.")


class EventResultSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    client_id = serializers.CharField()
    status = serializers.ChoiceField(choices=["created", "duplicate", "error"])
    id = serializers.IntegerField(required=False)
    lead = serializers.IntegerField(required=False)
    errors = serializers.DictField(required=False)


class BatchResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    errors = serializers.IntegerField()
    results = EventResultSerializer(many=True)


class ScoreLineSerializer(serializers.Serializer):
    label = serializers.CharField()
    points = serializers.FloatField(help_text="What the rule adds now, after caps and decay.")
    kind = serializers.ChoiceField(choices=["fit", "engagement"])
    group = serializers.CharField()
    earned = serializers.FloatField(required=False, help_text="Engagement: points counted before decay.")
    decayed = serializers.FloatField(required=False)
    occurrences = serializers.IntegerField(required=False)
    hard_trigger = serializers.BooleanField(required=False)


class ScoreSerializer(serializers.Serializer):
    lead = serializers.IntegerField()
    score = serializers.IntegerField()
    version = serializers.CharField(allow_null=True)
    mql_threshold = serializers.FloatField(allow_null=True)
    grade = serializers.CharField()
    fit = serializers.FloatField()
    engagement = serializers.FloatField()
    decayed = serializers.FloatField()
    lines = ScoreLineSerializer(many=True)
    notes = serializers.ListField(child=serializers.CharField())
    signals = serializers.ListField(child=serializers.CharField(), help_text="Not points: e.g. the account is an MQA.")


class EventViewSet(viewsets.ViewSet):
    serializer_class = BatchResultSerializer
    throttle_classes = [IngestThrottle]

    @extend_schema(
        request=EventInSerializer(many=True),
        responses={200: BatchResultSerializer},
        summary=f"Ingest up to {MAX_BATCH} behavioural events",
        description="Per-item results: `created`, `duplicate` (client id already stored) or `error` with "
        "field errors. Good items land even when others fail. Scores update within seconds.",
        examples=[OpenApiExample("One event", value=[{
            "client_id": "web-123", "type": "page_view", "occurred_at": "2026-06-01T10:00:00Z",
            "email": "dana@acme.example", "properties": {"page_category": "pricing"},
        }])],
    )
    def create(self, request: Request) -> Response:
        try:
            body = ingest_events(request.user, request.data)
        except BatchError as exc:
            return Response({"non_field_errors": [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)
        return Response(body, status=status.HTTP_200_OK)


class ScoreViewSet(viewsets.ViewSet):
    lookup_value_regex = r"\d+"

    serializer_class = ScoreSerializer

    @extend_schema(summary="Why a lead has its score: fit and engagement lines, decay, version", responses=ScoreSerializer)
    def retrieve(self, request: Request, pk: str) -> Response:
        lead = access_lead(request.user, pk)
        ex = explain(lead)
        return Response(
            {
                "lead": lead.pk,
                "score": ex.total,
                "version": ex.spec.label if ex.spec else None,
                "mql_threshold": ex.threshold,
                "grade": ex.grade,
                "fit": round(ex.fit, 2),
                "engagement": round(ex.engagement_counted, 2),
                "decayed": round(ex.decayed, 2),
                "lines": ex.items(),
                "notes": ex.notes,
                "signals": ex.signals,
            }
        )


def register(router) -> None:
    """Add this app's viewsets to the API router."""
    router.register("events", EventViewSet, basename="events")
    router.register("scores", ScoreViewSet, basename="scores")
