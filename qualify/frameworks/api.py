"""REST API for frameworks (read-only) and qualification answers. Thin: access helper, the same
record_answer() and completeness() the browser uses, serializers for the shapes."""

from __future__ import annotations

import django_filters
from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response

from qualify.api.filters import IdFilter
from qualify.errors import DomainError
from qualify.leads.access import access_lead
from qualify.leads.models import Lead

from .answers import record_answer
from .completeness import completeness
from .models import Answer, AnswerStatus, Criterion, Framework
from .selection import visible_criterion, visible_frameworks


class CriterionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Criterion
        fields = [
            "id", "key", "position", "dimension", "question", "guidance", "answer_type", "choices", "weight",
            "required_for_handoff", "active", "version",
        ]


class FrameworkSerializer(serializers.ModelSerializer):
    criteria = CriterionSerializer(many=True, read_only=True)
    teams = serializers.SerializerMethodField(help_text="The teams it applies to (of the caller's); empty: every team.")

    def get_teams(self, framework: Framework) -> list[int]:
        # A framework shared with another team lists only the caller's: the rest are none of theirs.
        request = self.context.get("request")
        mine = None if request is None or request.user.is_admin else request.user.team_ids()
        return [t.pk for t in framework.teams.all() if mine is None or t.pk in mine]

    class Meta:
        model = Framework
        fields = ["id", "name", "slug", "description", "teams", "segments", "is_default", "active", "position", "criteria"]


@extend_schema_view(
    list=extend_schema(summary="Qualification frameworks with their criteria"),
    retrieve=extend_schema(summary="One framework with its criteria"),
)
class FrameworkViewSet(viewsets.ReadOnlyModelViewSet):
    """Frameworks are few; listed whole, in the order they are tried."""

    serializer_class = FrameworkSerializer
    pagination_class = None
    lookup_value_regex = "[0-9]+"  # "١" is not framework 1 (qualify/ids.py)
    filterset_fields = ["active", "is_default"]

    def get_queryset(self) -> QuerySet[Framework]:
        if getattr(self, "swagger_fake_view", False):
            return Framework.objects.none()
        return visible_frameworks(self.request.user).prefetch_related(
            "teams", Prefetch("criteria", queryset=Criterion.objects.order_by("position", "id"))
        ).order_by("position", "id")


class AnswerFilter(django_filters.FilterSet):
    lead = IdFilter(field_name="lead_id", help_text="Only this lead's answers.")
    criterion = IdFilter(field_name="criterion_id")

    class Meta:
        model = Answer
        fields = ["lead", "criterion"]


class AnswerPagination(CursorPagination):
    ordering = ("-created_at", "-id")


class AnswerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Answers on leads the user can see. Append-only: create a new answer to change one."""

    class InputSerializer(serializers.Serializer):
        lead = serializers.IntegerField()
        criterion = serializers.IntegerField()
        status = serializers.ChoiceField(choices=AnswerStatus.choices, required=False, allow_blank=True)
        value = serializers.CharField(required=False, allow_blank=True, default="")
        evidence = serializers.CharField(required=False, allow_blank=True, default="")

    class OutputSerializer(serializers.ModelSerializer):
        author_name = serializers.StringRelatedField(source="author")
        is_stale = serializers.BooleanField(read_only=True)

        class Meta:
            model = Answer
            fields = [
                "id", "lead", "criterion", "criterion_version", "question_text", "status", "value", "evidence",
                "author", "author_name", "created_at", "is_stale", "disputed",
            ]
            read_only_fields = ["disputed"]

    class CompletenessSerializer(serializers.Serializer):
        class ItemSerializer(serializers.Serializer):
            criterion = serializers.IntegerField(source="criterion.pk")
            dimension = serializers.CharField(source="criterion.dimension")
            required_for_handoff = serializers.BooleanField(source="criterion.required_for_handoff")
            weight = serializers.IntegerField(source="criterion.weight")
            credit = serializers.FloatField()
            is_stale = serializers.BooleanField()
            is_disputed = serializers.BooleanField()
            answer = serializers.SerializerMethodField()

            def get_answer(self, item) -> int | None:
                return item.answer.pk if item.answer else None

        framework = serializers.IntegerField(source="framework.pk", allow_null=True, default=None)
        percent = serializers.IntegerField()
        missing_required = serializers.ListField(child=serializers.CharField())
        items = ItemSerializer(many=True)

    serializer_class = OutputSerializer
    filterset_class = AnswerFilter
    lookup_value_regex = "[0-9]+"  # "١" is not answer 1 (qualify/ids.py)
    pagination_class = AnswerPagination

    def get_queryset(self) -> QuerySet[Answer]:
        visible = Lead.objects.visible_to(self.request.user).values("pk")
        return Answer.objects.filter(lead__in=visible).select_related("criterion", "author")

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer}, summary="Record an answer")
    def create(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        lead = access_lead(request.user, data.validated_data["lead"], for_write=True)
        # Only criteria of frameworks the caller reads: another team's answered "not part of the
        # framework" where a missing id answered "No such criterion", telling which ids exist.
        criterion = visible_criterion(request.user, data.validated_data["criterion"])
        if criterion is None:
            raise ValidationError({"criterion": ["No such criterion."]})
        try:
            answer = record_answer(
                lead,
                criterion=criterion,
                by=request.user,
                status=data.validated_data.get("status", ""),
                value=data.validated_data["value"],
                evidence=data.validated_data["evidence"],
            )
        except DomainError as error:
            raise ValidationError({error.field or "non_field_errors": [error.message]})
        return Response(self.OutputSerializer(answer).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[OpenApiParameter("lead", int, required=True, description="The lead to measure.")],
        responses={200: CompletenessSerializer},
        summary="Completeness of a lead's qualification and what is missing before handoff",
        filters=False,
    )
    @action(detail=False, methods=["get"], filterset_class=None, pagination_class=None)
    def completeness(self, request: Request) -> Response:
        lead = access_lead(request.user, request.query_params.get("lead", ""))
        result = completeness(lead)
        payload = {
            "framework": result.framework,
            "percent": result.percent,
            "missing_required": [str(m) for m in result.missing_required],
            "items": result.items,
        }
        return Response(self.CompletenessSerializer(payload).data)


def register(router) -> None:
    """Add this app's viewsets to the API router."""
    router.register(r"frameworks", FrameworkViewSet, basename="framework")
    router.register(r"answers", AnswerViewSet, basename="answer")
