"""SLA through the API: policies (read-only), clocks per lead, escalations, notifications."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from qualify.api.pagination import IdCursor
from qualify.leads.access import access_lead

from . import notify
from .access import access_notification, own_notifications, visible_clocks, visible_escalations
from .models import Clock, Escalation, EscalationStep, Notification, SlaPolicy


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
        fields = ["id", "clock", "step", "kind", "lead", "team", "owner", "scheduled_at", "at", "detail"]
        read_only_fields = fields


class NotificationSerializer(serializers.ModelSerializer):
    headline = serializers.CharField(read_only=True, help_text="The title with the lead's name in front.")

    class Meta:
        model = Notification
        fields = ["id", "kind", "headline", "title", "body", "url", "lead", "clock", "created_at", "read_at"]
        read_only_fields = fields


class PolicyViewSet(viewsets.ReadOnlyModelViewSet):
    """SLA policies with their escalation ladders. Edited in admin only."""

    serializer_class = PolicySerializer
    pagination_class = None
    queryset = SlaPolicy.objects.prefetch_related("steps").order_by("kind", "is_default", "position", "id")
    filterset_fields = ["kind", "active"]


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


class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The caller's own notifications, newest first; `?unread=true` for unread ones only."""

    serializer_class = NotificationSerializer
    pagination_class = IdCursor

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        qs = own_notifications(self.request.user).select_related("lead")
        if self.request.query_params.get("unread") in ("1", "true", "yes"):
            qs = qs.filter(read_at__isnull=True)
        return qs

    def get_object(self) -> Notification:
        return access_notification(self.request.user, self.kwargs["pk"])

    @extend_schema(parameters=[OpenApiParameter("unread", OpenApiTypes.BOOL)])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk=None) -> Response:
        """Mark one notification read (idempotent: the first read time is kept)."""
        note = self.get_object()
        notify.mark_read(Notification.objects.filter(pk=note.pk))
        note.refresh_from_db(fields=["read_at"])
        return Response(NotificationSerializer(note).data)

    @extend_schema(request=None, responses=inline_serializer("MarkedRead", {"marked": serializers.IntegerField()}))
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request: Request) -> Response:
        return Response({"marked": notify.mark_read(Notification.objects.filter(user=request.user))})

    @extend_schema(responses=inline_serializer("UnreadCount", {"unread": serializers.IntegerField()}))
    @action(detail=False, methods=["get"], url_path="unread-count")
    def unread_count(self, request: Request) -> Response:
        return Response({"unread": notify.unread_count(request.user)})


def register(router) -> None:
    """Add this app's viewsets to the API router."""
    router.register(r"sla-policies", PolicyViewSet, basename="sla-policy")
    router.register(r"sla-clocks", ClockViewSet, basename="sla-clock")
    router.register(r"sla-escalations", EscalationViewSet, basename="sla-escalation")
    router.register(r"notifications", NotificationViewSet, basename="notification")
