"""Routing through the API: rules (read-only), assignment history, and a manager's reassign."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import Membership, Role, User
from qualify.api.pagination import IdCursor
from qualify.leads.access import access_lead, active_people
from qualify.leads.api import NamesOnlyVisible, lead_in_body
from qualify.leads.assignment import can_reassign
from qualify.leads.models import Lead

from .engine import reassign
from .models import Assignment, RoutingRule


class RuleSerializer(serializers.ModelSerializer):
    """A rule as the caller may see it: members and the named user only where they are on one of the
    caller's teams (a rule for all teams may name other teams' people)."""

    members = serializers.SerializerMethodField()
    user = serializers.SerializerMethodField()

    def _visible(self, user_id: int | None) -> bool:
        people = self.context.get("people")
        return user_id is not None and (people is None or user_id in people)

    def get_members(self, rule: RoutingRule) -> list[int]:
        return [m.pk for m in rule.members.all() if self._visible(m.pk)]

    def get_user(self, rule: RoutingRule) -> int | None:
        return rule.user_id if self._visible(rule.user_id) else None

    class Meta:
        model = RoutingRule
        fields = [
            "id", "name", "position", "active", "team", "segment", "region", "industry", "source", "account_owned",
            "override_owner", "method", "user", "role", "members", "capacity",
        ]
        read_only_fields = fields
        # Blank means "any": keep "" in the schema's enums (read-only fields drop allow_blank).
        extra_kwargs = {f: {"allow_blank": True} for f in ("segment", "source", "account_owned")}


class AssignmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Assignment
        fields = ["id", "lead", "from_user", "to_user", "rule", "rule_name", "by", "at", "why"]
        read_only_fields = fields


class ReassignInput(NamesOnlyVisible, serializers.Serializer):
    visible = {"to": active_people}

    lead = serializers.IntegerField()
    mode = serializers.ChoiceField(
        choices=[("user", "to a named rep"), ("route", "by the routing rules"), ("pool", "to the team pool")],
        help_text="user: give it to `to`; route: the rules pick someone other than the owner; pool: unassign.",
    )
    to = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True), required=False, allow_null=True)
    why = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


class RuleViewSet(viewsets.ReadOnlyModelViewSet):
    """Routing rules in the order they are tried. Edited in admin; managers and RevOps read them."""

    serializer_class = RuleSerializer
    pagination_class = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return RoutingRule.objects.none()
        user = self.request.user
        rules = RoutingRule.objects.prefetch_related("members").order_by("position", "id")
        if user.is_admin:
            return rules
        teams = user.team_ids(Role.MANAGER)
        if not teams:
            raise PermissionDenied("Routing rules are for managers and RevOps.")
        # A manager sees the rules of their teams and the rules for every team, never another team's.
        return rules.filter(Q(team_id__in=teams) | Q(team__isnull=True))

    def get_serializer_context(self):
        context = super().get_serializer_context()
        user = self.request.user
        if not getattr(self, "swagger_fake_view", False) and user.is_authenticated and not user.is_admin:
            teams = user.team_ids(Role.MANAGER)
            context["people"] = set(Membership.objects.filter(team_id__in=teams).values_list("user_id", flat=True))
        return context


class AssignmentViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Who owned which lead when, by which rule. POST reassigns a lead (managers and RevOps)."""

    serializer_class = AssignmentSerializer
    pagination_class = IdCursor
    filterset_fields = ["to_user", "rule"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Assignment.objects.none()
        if lead_id := self.request.query_params.get("lead"):
            return Assignment.objects.filter(lead=access_lead(self.request.user, lead_id))
        return Assignment.objects.filter(lead__in=Lead.objects.visible_to(self.request.user))

    @extend_schema(parameters=[OpenApiParameter("lead", OpenApiTypes.INT, description="Only this lead's history (404 if hidden).")])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=ReassignInput, responses={201: AssignmentSerializer})
    def create(self, request: Request) -> Response:
        """Reassign a lead: the same function as the lead page's Reassign action. 404 for a lead you
        cannot see, 403 unless you manage its team, 400 (nothing changed) for bad input."""
        lead = lead_in_body(request)
        if not can_reassign(request.user, lead):
            raise PermissionDenied("Only the team's managers can reassign leads.")
        s = ReassignInput(data=request.data, context={"request": request})
        s.is_valid(raise_exception=True)
        result = reassign(lead, by=request.user, mode=s.validated_data["mode"], to=s.validated_data.get("to"),
                          why=s.validated_data["why"])
        if not result.changed:
            return Response({"non_field_errors": [f"Nobody else is available: {result.why}"]}, status=status.HTTP_400_BAD_REQUEST)
        latest = Assignment.objects.filter(lead=lead).order_by("-id").first()
        return Response(AssignmentSerializer(latest).data, status=status.HTTP_201_CREATED)


def register(router) -> None:
    """Add this app's viewsets to the API router."""
    router.register(r"routing-rules", RuleViewSet, basename="routing-rule")
    router.register(r"assignments", AssignmentViewSet, basename="assignment")
