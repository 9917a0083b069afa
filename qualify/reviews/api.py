"""Reviews and follow-up tasks through the API: the same domain functions as the pages."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from qualify.api.pagination import IdCursor

from .access import access_item, access_queue, access_task, can_see_reviews, require_reviews, visible_queues, visible_tasks
from .models import FollowUpTask, RedFlag, ReviewItem, ReviewPlan, ReviewQueue, Verdict
from .verdicts import ABOUT, complete_task, record_verdict


class ReviewItemSerializer(serializers.ModelSerializer):
    flags = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = ReviewItem
        fields = ["id", "queue", "lead", "position", "stratum", "rep", "source", "verdict", "flags", "note",
                  "reviewed_by", "reviewed_at"]
        read_only_fields = fields
        # Blank until reviewed / when unknown. Read-only fields drop the model's allow_blank, and the
        # schema would then refuse "" (drf-spectacular adds it to the enum when allow_blank is set).
        extra_kwargs = {"source": {"allow_blank": True}, "verdict": {"allow_blank": True}}


class ReviewQueueSerializer(serializers.ModelSerializer):
    plan_name = serializers.CharField(source="plan.name", read_only=True)
    total = serializers.IntegerField(read_only=True)
    reviewed = serializers.IntegerField(read_only=True)

    class Meta:
        model = ReviewQueue
        fields = ["id", "plan", "plan_name", "team", "reviewer", "period_start", "population_kind", "window_start",
                  "window_end", "sample_size", "seed", "population_size", "built_at", "completed_at", "total", "reviewed"]
        read_only_fields = fields


class ReviewQueueDetailSerializer(ReviewQueueSerializer):
    items = ReviewItemSerializer(many=True, read_only=True)
    population = serializers.JSONField(read_only=True)

    class Meta(ReviewQueueSerializer.Meta):
        fields = [*ReviewQueueSerializer.Meta.fields, "population", "items"]
        read_only_fields = fields


class VerdictInput(serializers.Serializer):
    verdict = serializers.ChoiceField(choices=Verdict.choices)
    flags = serializers.PrimaryKeyRelatedField(queryset=RedFlag.objects.all(), many=True, required=False, default=list)
    note = serializers.CharField(required=False, allow_blank=True, default="")
    follow_up = serializers.CharField(required=False, allow_blank=True, default="")
    due_on = serializers.DateField(required=False, allow_null=True, default=None)
    about = serializers.ChoiceField(
        choices=list(ABOUT.items()), required=False, default="qualification",
        help_text="Who follows up: the SDR who qualified the lead (qualification) or its owner (deal).",
    )


class ReviewQueueViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Review queues the caller may see, with progress; the detail lists the items and the
    recorded seed and population."""

    pagination_class = IdCursor
    filterset_fields = ["team", "reviewer", "plan"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ReviewQueue.objects.none()
        require_reviews(self.request.user)
        return visible_queues(self.request.user).select_related("plan").annotate(
            total=Count("items"), reviewed=Count("items", filter=~Q(items__verdict=""))
        )

    def get_serializer_class(self):
        return ReviewQueueDetailSerializer if self.action == "retrieve" else ReviewQueueSerializer

    def get_object(self):
        queue = access_queue(self.request.user, self.kwargs["pk"])
        return self.get_queryset().prefetch_related("items__flags").get(pk=queue.pk)


class ReviewItemViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ReviewItemSerializer
    queryset = ReviewItem.objects.none()

    def get_object(self) -> ReviewItem:
        return access_item(self.request.user, self.kwargs["pk"])

    @extend_schema(request=VerdictInput, responses=ReviewItemSerializer)
    @action(detail=True, methods=["post"])
    def verdict(self, request, pk=None):
        """Give or revise the verdict; needs_follow_up opens a task (follow_up + due_on) for the SDR who
        qualified the lead (about=qualification) or its owner (about=deal)."""
        item = access_item(request.user, pk, for_write=True)
        s = VerdictInput(data=request.data)
        s.is_valid(raise_exception=True)
        record_verdict(item, by=request.user, **s.validated_data)
        return Response(ReviewItemSerializer(access_item(request.user, pk)).data)


class FollowUpTaskSerializer(serializers.ModelSerializer):
    class Meta:
        model = FollowUpTask
        fields = ["id", "kind", "lead", "assignee", "created_by", "title", "detail", "due_on", "status", "created_at",
                  "closed_at", "closed_by", "closing_note", "review_item", "requalification"]
        read_only_fields = fields


class DoneInput(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")


class FollowUpTaskViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The caller's tasks (managers and admins also see their teams')."""

    serializer_class = FollowUpTaskSerializer
    pagination_class = IdCursor
    filterset_fields = ["status", "kind", "assignee", "lead"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return FollowUpTask.objects.none()
        return visible_tasks(self.request.user)

    def get_object(self):
        return access_task(self.request.user, self.kwargs["pk"])

    @extend_schema(request=DoneInput, responses=FollowUpTaskSerializer)
    @action(detail=True, methods=["post"])
    def done(self, request, pk=None):
        task = access_task(request.user, pk, for_write=True)
        s = DoneInput(data=request.data)
        s.is_valid(raise_exception=True)
        return Response(FollowUpTaskSerializer(complete_task(task, by=request.user, note=s.validated_data["note"])).data)


class ReviewPlanSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReviewPlan
        fields = ["id", "name", "team", "cadence", "population", "lookback_days", "sample_size", "reviewer",
                  "red_flags", "active"]
        read_only_fields = fields


class ReviewPlanViewSet(viewsets.ReadOnlyModelViewSet):
    """Review plans (edited by RevOps in admin)."""

    serializer_class = ReviewPlanSerializer
    pagination_class = None
    lookup_value_regex = "[0-9]+"  # "١" is not plan 1 (qualify/ids.py)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ReviewPlan.objects.none()
        user = self.request.user
        if not can_see_reviews(user):
            raise PermissionDenied("Review plans are for managers, marketing and RevOps.")
        qs = ReviewPlan.objects.prefetch_related("red_flags")
        return qs if user.is_admin else qs.filter(Q(team_id__in=user.team_ids()) | Q(reviewer=user))


def register(router) -> None:
    router.register(r"review-plans", ReviewPlanViewSet, basename="review-plan")
    router.register(r"review-queues", ReviewQueueViewSet, basename="review-queue")
    router.register(r"review-items", ReviewItemViewSet, basename="review-item")
    router.register(r"follow-up-tasks", FollowUpTaskViewSet, basename="follow-up-task")
