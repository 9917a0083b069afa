"""Opportunity sub-stages and re-qualification through the API: the same domain functions as the pages."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from qualify.api.pagination import IdCursor
from qualify.leads.access import access_lead, visible_leads_filter
from qualify.leads.api import LeadIdField
from qualify.leads.models import Lead

from .models import OpportunityStage, Requalification
from .requalification import resolve
from .substages import move_opportunity_stage


class OpportunityStageSerializer(serializers.ModelSerializer):
    class Meta:
        model = OpportunityStage
        fields = ["id", "name", "position", "checkpoint", "active"]
        read_only_fields = fields


class OpportunityStageViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = OpportunityStageSerializer
    pagination_class = None
    lookup_value_regex = "[0-9]+"  # "١" is not sub-stage 1 (qualify/ids.py)
    queryset = OpportunityStage.objects.all()


class RequalificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Requalification
        fields = ["id", "lead", "trigger", "kind", "reason", "status", "created_at", "resolved_at", "resolved_by",
                  "resolution_note", "checkpoint"]
        read_only_fields = fields


class MoveSubStageInput(serializers.Serializer):
    lead = LeadIdField()
    stage = serializers.PrimaryKeyRelatedField(queryset=OpportunityStage.objects.all())


class ResolveInput(serializers.Serializer):
    note = serializers.CharField(allow_blank=True)


class RequalificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Re-qualification requests on leads the caller may see. POST /move-sub-stage/ moves an
    opportunity's sub-stage (a checkpoint opens a request); POST /{id}/resolve/ re-confirms."""

    serializer_class = RequalificationSerializer
    pagination_class = IdCursor
    # ASCII digits only: int("١٢") is 12, and /requalifications/١٢/ must not be request 12 (qualify/ids.py).
    lookup_value_regex = "[0-9]+"
    filterset_fields = ["lead", "kind", "status"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Requalification.objects.none()
        return Requalification.objects.filter(lead__in=Lead.objects.filter(visible_leads_filter(self.request.user)).values("pk"))

    @extend_schema(request=MoveSubStageInput, responses=RequalificationSerializer(many=True))
    @action(detail=False, methods=["post"], url_path="move-sub-stage")
    def move_sub_stage(self, request):
        s = MoveSubStageInput(data=request.data)
        s.is_valid(raise_exception=True)
        lead = access_lead(request.user, s.validated_data["lead"], for_write=True)
        move_opportunity_stage(lead, to=s.validated_data["stage"], by=request.user)
        open_reqs = lead.requalifications.filter(status="open")
        return Response(RequalificationSerializer(open_reqs, many=True).data)

    @extend_schema(request=ResolveInput, responses=RequalificationSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        req = self.get_object()
        access_lead(request.user, req.lead_id, for_write=True)
        s = ResolveInput(data=request.data)
        s.is_valid(raise_exception=True)
        return Response(RequalificationSerializer(resolve(req, by=request.user, note=s.validated_data["note"])).data)


def register(router) -> None:
    router.register(r"opportunity-stages", OpportunityStageViewSet, basename="opportunity-stage")
    router.register(r"requalifications", RequalificationViewSet, basename="requalification")
