"""Webhooks through the API, for RevOps admins only: endpoints and their delivery log (read-only),
and replay of one delivery or of an endpoint's deliveries in a time range. Endpoints are defined
in admin, where the URL is checked and the secret shown."""

from __future__ import annotations

import json

from django.core.exceptions import PermissionDenied
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from qualify.api.pagination import IdCursor

from . import delivery
from .models import Delivery, Endpoint


class EndpointSerializer(serializers.ModelSerializer):
    url = serializers.CharField(source="shown_url", help_text="Any password in it shows as ****.")

    class Meta:
        model = Endpoint
        fields = ["id", "team", "url", "events", "active", "description", "created_at", "failing_since", "disabled_at",
                  "disabled_reason"]
        read_only_fields = fields


class DeliverySerializer(serializers.ModelSerializer):
    payload = serializers.SerializerMethodField()

    class Meta:
        model = Delivery
        fields = ["id", "endpoint", "event", "msg_id", "lead_id", "created_at", "status", "attempts", "next_attempt_at",
                  "last_attempt_at", "response_code", "latency_ms", "last_error", "delivered_at", "replayed_at", "payload"]
        read_only_fields = fields

    def get_payload(self, obj: Delivery) -> dict:
        return json.loads(obj.body)


class RangeInput(serializers.Serializer):
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()

    def validate(self, data):
        if data["since"] >= data["until"]:
            raise serializers.ValidationError("'since' must be before 'until'.")
        return data


REPLAYED = inline_serializer("Replayed", {"replayed": serializers.ListField(child=serializers.IntegerField())})


def _admins_only(request: Request) -> None:
    if not request.user.is_admin:
        raise PermissionDenied("Webhooks are for RevOps admins.")


class EndpointViewSet(viewsets.ReadOnlyModelViewSet):
    """Webhook endpoints (RevOps admins). POST …/replay/ re-sends its deliveries made in a time range
    (at most delivery.REPLAY_LIMIT at once: a larger range is a 400 and replays nothing)."""

    serializer_class = EndpointSerializer
    pagination_class = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Endpoint.objects.none()
        _admins_only(self.request)
        return Endpoint.objects.order_by("id")

    @extend_schema(request=RangeInput, responses=REPLAYED)
    @action(detail=True, methods=["post"])
    def replay(self, request: Request, pk=None) -> Response:
        endpoint = self.get_object()
        data = RangeInput(data=request.data)
        data.is_valid(raise_exception=True)
        ids = delivery.replay(endpoint.deliveries.filter(
            created_at__gte=data.validated_data["since"], created_at__lt=data.validated_data["until"]))
        return Response({"replayed": ids})


class DeliveryViewSet(viewsets.ReadOnlyModelViewSet):
    """The delivery log, newest first (RevOps admins); `?endpoint=` and `?status=` filter it.
    POST …/replay/ re-sends one delivery with the same webhook-id."""

    serializer_class = DeliverySerializer
    pagination_class = IdCursor
    filterset_fields = ["endpoint", "status", "event"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Delivery.objects.none()
        _admins_only(self.request)
        return Delivery.objects.all()

    @extend_schema(request=None, responses=REPLAYED)
    @action(detail=True, methods=["post"])
    def replay(self, request: Request, pk=None) -> Response:
        row = self.get_object()  # DRF's lookup: an id that is not a number is a 404 too, not a 500
        return Response({"replayed": delivery.replay(Delivery.objects.filter(pk=row.pk))})


def register(router) -> None:
    """Add this app's viewsets to the API router."""
    router.register(r"webhook-endpoints", EndpointViewSet, basename="webhook-endpoint")
    router.register(r"webhook-deliveries", DeliveryViewSet, basename="webhook-delivery")
