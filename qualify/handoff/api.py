"""Handoffs through the API: the same hand_off / accept / reject / reassign as the pages."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from django.core.exceptions import PermissionDenied
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.models import User
from qualify.api.pagination import IdCursor
from qualify.leads.access import active_people
from qualify.leads.api import NamesOnlyVisible, lead_in_body
from qualify.leads.models import DisqualifyReason

from .access import access_handoff, can_reassign, visible_handoffs
from .models import Handoff
from .workflow import accept, hand_off, reassign, reject


class HandoffSerializer(serializers.ModelSerializer):
    class Meta:
        model = Handoff
        fields = [
            "id", "lead", "team", "from_user", "to_user", "created_at", "next_step", "note", "packet", "source",
            "status", "decided_at", "decided_by", "reason", "decision_note",
        ]
        read_only_fields = fields


class HandOffInput(NamesOnlyVisible, serializers.Serializer):
    visible = {"to_user": active_people}

    lead = serializers.IntegerField()
    to_user = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True))
    next_step = serializers.CharField(allow_blank=True)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class AcceptInput(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")


class RejectInput(serializers.Serializer):
    reason = serializers.PrimaryKeyRelatedField(queryset=DisqualifyReason.objects.all())
    note = serializers.CharField(required=False, allow_blank=True, default="")


class HandoffReassignInput(NamesOnlyVisible, serializers.Serializer):
    visible = {"to_user": active_people}

    to_user = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True),
                                                 help_text="An active AE of the lead's team.")
    note = serializers.CharField(required=False, allow_blank=True, default="", help_text="Why; the new AE reads it.")


class HandoffViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = HandoffSerializer
    pagination_class = IdCursor
    filterset_fields = ["status", "to_user", "from_user", "lead", "team"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Handoff.objects.none()
        return visible_handoffs(self.request.user)

    def get_object(self) -> Handoff:
        return access_handoff(self.request.user, self.kwargs["pk"], for_write=self.request.method == "POST")

    @extend_schema(request=HandOffInput, responses={201: HandoffSerializer})
    def create(self, request):
        """Hand a lead off to an AE. 400 lists the missing required criteria, if any."""
        lead = lead_in_body(request)
        s = HandOffInput(data=request.data, context={"request": request})
        s.is_valid(raise_exception=True)
        handoff = hand_off(
            lead, to=s.validated_data["to_user"], by=request.user,
            next_step=s.validated_data["next_step"], note=s.validated_data["note"],
        )
        return Response(HandoffSerializer(handoff).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=AcceptInput, responses=HandoffSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        handoff = self.get_object()  # 404 or 403 before the body is read: an outsider learns nothing
        s = AcceptInput(data=request.data)
        s.is_valid(raise_exception=True)
        handoff = accept(handoff, by=request.user, note=s.validated_data["note"])
        return Response(HandoffSerializer(handoff).data)

    @extend_schema(request=RejectInput, responses=HandoffSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        handoff = self.get_object()  # 404 or 403 before the body is read: an outsider learns nothing
        s = RejectInput(data=request.data)
        s.is_valid(raise_exception=True)
        handoff = reject(handoff, by=request.user, reason=s.validated_data["reason"], note=s.validated_data["note"])
        return Response(HandoffSerializer(handoff).data)

    @extend_schema(request=HandoffReassignInput, responses=HandoffSerializer)
    @action(detail=True, methods=["post"])
    def reassign(self, request, pk=None):
        """Give a pending handoff to another active AE of the team: the team's managers and admins."""
        handoff = access_handoff(request.user, self.kwargs["pk"])  # 404 before the body is read
        if not can_reassign(request.user, handoff):
            raise PermissionDenied("Only the team's managers can reassign a handoff.")
        s = HandoffReassignInput(data=request.data, context={"request": request})
        s.is_valid(raise_exception=True)
        handoff = reassign(handoff, to=s.validated_data["to_user"], by=request.user, note=s.validated_data["note"])
        return Response(HandoffSerializer(handoff).data)


def register(router) -> None:
    router.register(r"handoffs", HandoffViewSet, basename="handoff")


