"""Notifications through the API: one's own, mark read, mark all read, unread count."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from qualify.api.pagination import IdCursor

from . import delivery
from .access import access_notification, own_notifications
from .models import Notification


class NotificationSerializer(serializers.ModelSerializer):
    headline = serializers.CharField(read_only=True, help_text="The title with the lead's name in front.")
    clock = serializers.IntegerField(source="clock_id", read_only=True, allow_null=True,
                                     help_text="The SLA clock a warning or breach came from.")

    class Meta:
        model = Notification
        fields = ["id", "kind", "headline", "title", "body", "url", "lead", "clock", "created_at", "read_at"]
        read_only_fields = fields


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
        delivery.mark_read(Notification.objects.filter(pk=note.pk))
        note.refresh_from_db(fields=["read_at"])
        return Response(NotificationSerializer(note).data)

    @extend_schema(request=None, responses=inline_serializer("MarkedRead", {"marked": serializers.IntegerField()}))
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request: Request) -> Response:
        return Response({"marked": delivery.mark_read(own_notifications(request.user))})

    @extend_schema(responses=inline_serializer("UnreadCount", {"unread": serializers.IntegerField()}))
    @action(detail=False, methods=["get"], url_path="unread-count")
    def unread_count(self, request: Request) -> Response:
        return Response({"unread": delivery.unread_count(request.user)})


def register(router) -> None:
    """Add this app's viewsets to the API router."""
    router.register(r"notifications", NotificationViewSet, basename="notification")
