"""SLA through the API: policies (read-only), clocks per lead, escalations."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets

from qualify.api.pagination import IdCursor
from qualify.leads.access import access_lead

from .access import visible_clocks, visible_escalations, visible_policies
from .models import Clock, Escalation, EscalationStep, SlaPolicy


class StepSerializer(serializers.ModelSerializer):
    class Meta:
        model = EscalationStep
        fields = ["after_minutes", "action"]


class PolicySerializer(serializers.ModelSerializer):
    steps = StepSerializer(many=True, read_only=True)

    class Meta:
        model = SlaPolicy
        fields = [
            "id", "name", "kind", "position", "active", "is_default", "team", "segment", "source", "grade", "calendar",
            "target_minutes", "warn_at_percent", "on_reassign", "steps",
        ]
        read_only_fields = fields
        # Blank means "any": keep "" in the schema's enums (read-only fields drop allow_blank).
        extra_kwargs = {f: {"allow_blank": True} for f in ("segment", "source", "grade")}


class ClockSerializer(serializers.ModelSerializer):
    class Meta:
        model = Clock
        fields = [
            "id", "lead", "kind", "policy", "handoff", "owner", "started_at", "warn_at", "due_at", "status",
            "breached_at", "closed_at", "closed_by", "closed_note",
        ]
        read_only_fields = fields


class EscalationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Escalation
        fields = ["id", "clock", "step", "kind", "lead", "team", "owner", "scheduled_at", "at", "detail", "superseded_by"]
        read_only_fields = fields


class PolicyViewSet(viewsets.ReadOnlyModelViewSet):
    """SLA policies with their escalation ladders: those for every team and the caller's teams'
    (another team's is a 404). Edited in admin only."""

    serializer_class = PolicySerializer
    pagination_class = None
    filterset_fields = ["kind", "active"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return SlaPolicy.objects.none()
        return visible_policies(self.request.user).prefetch_related("steps").order_by("kind", "is_default", "position", "id")


class ClockViewSet(viewsets.ReadOnlyModelViewSet):
    """SLA clocks of the leads the caller can see; `?lead=` gives one lead's clocks (404 if hidden)."""

    serializer_class = ClockSerializer
    pagination_class = IdCursor
    filterset_fields = ["kind", "status"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Clock.objects.none()
        qs = visible_clocks(self.request.user)
        if lead_id := self.request.query_params.get("lead"):
            lead = access_lead(self.request.user, lead_id)
            qs = Clock.objects.filter(lead=lead)
        return qs

    @extend_schema(parameters=[OpenApiParameter("lead", OpenApiTypes.INT, description="Only this lead's clocks.")])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)


class EscalationViewSet(viewsets.ReadOnlyModelViewSet):
    """Warnings, breaches and escalations of the caller's managed teams (managers, RevOps)."""

    serializer_class = EscalationSerializer
    pagination_class = IdCursor
    filterset_fields = ["kind", "team", "lead", "clock"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Escalation.objects.none()
        return visible_escalations(self.request.user)


def register(router) -> None:
    """Add this app's viewsets to the API router."""
    router.register(r"sla-policies", PolicyViewSet, basename="sla-policy")
    router.register(r"sla-clocks", ClockViewSet, basename="sla-clock")
    router.register(r"sla-escalations", EscalationViewSet, basename="sla-escalation")
