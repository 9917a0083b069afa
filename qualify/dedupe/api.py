"""REST endpoints for duplicate pairs: list them (open by default) and say one is not a duplicate.
The same access as the page (managers of their teams, RevOps; another team's pair is a 404) and
the same decision function. Merging goes through `POST /api/leads/{id}/merge/` (or accounts')."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from qualify.api.pagination import IdCursor
from qualify.errors import DomainError

from . import decisions
from .access import access_candidate, require_duplicates, visible_candidates
from .models import DuplicateCandidate, Kind, Status


class ReasonSerializer(serializers.Serializer):
    rule = serializers.CharField()
    detail = serializers.CharField(required=False)
    confidence = serializers.FloatField(required=False)


class DuplicateSerializer(serializers.ModelSerializer):
    reasons = ReasonSerializer(many=True, read_only=True)
    records = serializers.SerializerMethodField()

    class Meta:
        model = DuplicateCandidate
        fields = ["id", "kind", "team", "low_id", "high_id", "new_id", "records", "confidence", "reasons", "status",
                  "found_at", "decided_at", "decided_by"]

    def get_records(self, pair: DuplicateCandidate) -> list[str]:
        """The two records' API paths (lead or account), lower id first."""
        base = "/api/leads/" if pair.kind == Kind.LEAD else "/api/accounts/"
        return [f"{base}{pair.low_id}/", f"{base}{pair.high_id}/"]


@extend_schema(parameters=[
    OpenApiParameter("kind", enum=Kind.values, description="lead (default: both) or account"),
    OpenApiParameter("status", enum=Status.values, description="Default: open"),
])
class DuplicateViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Candidate pairs of the caller's teams (managers) or of every team (RevOps)."""

    serializer_class = DuplicateSerializer
    pagination_class = IdCursor

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return DuplicateCandidate.objects.none()
        require_duplicates(self.request.user)
        qs = visible_candidates(self.request.user)
        params = self.request.query_params
        status = params.get("status") or Status.OPEN
        if status not in Status.values:
            raise ValidationError({"status": [f"Use one of: {', '.join(Status.values)}."]})
        qs = qs.filter(status=status)
        if kind := params.get("kind"):
            if kind not in Kind.values:
                raise ValidationError({"kind": [f"Use one of: {', '.join(Kind.values)}."]})
            qs = qs.filter(kind=kind)
        return qs

    def get_object(self) -> DuplicateCandidate:
        return access_candidate(self.request.user, self.kwargs["pk"])

    @extend_schema(request=None, responses=DuplicateSerializer)
    @action(detail=True, methods=["post"])
    def dismiss(self, request: Request, pk=None) -> Response:
        """Not a duplicate: the pair is closed and never flagged again. A decided pair is a 400."""
        try:
            pair = decisions.dismiss(self.get_object(), by=request.user)
        except DomainError as e:
            raise ValidationError({"non_field_errors": [e.message]})
        return Response(DuplicateSerializer(pair).data)


def register(router) -> None:
    router.register("duplicates", DuplicateViewSet, basename="duplicate")
