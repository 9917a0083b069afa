"""REST endpoints for accounts and leads: the same access rules and verbs as the pages."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import transaction
from drf_spectacular.utils import extend_schema
from django.db.models import F
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.pagination import BasePagination
from rest_framework.utils.urls import replace_query_param
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import Team
from qualify.api.pagination import IdCursor
from qualify.errors import DomainError
from qualify.ids import given_id

from . import lifecycle, merge, records
from .access import (
    NO_ACCOUNT_OWNER, access_account, access_lead, can_change_accounts_of, can_create_in_team, require_merge,
    visible_accounts, visible_people, visible_teams,
)
from .assignment import assign, can_reassign, can_reassign_in, eligible_owners
from .filters import LeadFilter
from .models import Account, DisqualifyReason, Lead, Stage, StageChange, Touch, TouchKind, TouchOutcome
from .queue import SORTS, cursor_of, parse_cursor, sorted_leads
from .panels import account_api_detail
from .panels import predicted_factors
from .touches import log_touch

# Said of any user who cannot own the lead, whichever team they are on, so the answer names nobody.
NOT_A_REP = "Choose an active SDR, AE or manager of this team."

# --- serializers -------------------------------------------------------------------------------


class NamesOnlyVisible:
    """Serializer mixin: each related field named in `visible` accepts only the ids its function
    gives the requester (access.py); any other id gets DRF's one answer for an id that does not
    exist ('Invalid pk "7" - object does not exist.'), so another team's person, team or account
    cannot be told apart from nothing. Without a request, nothing is accepted."""

    visible: dict = {"account": visible_accounts, "owner": visible_people, "team": visible_teams}

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        for name, visible in self.visible.items():
            field = fields.get(name)
            if field is None or field.read_only:
                continue
            if request is not None and request.user.is_authenticated:
                field.queryset = visible(request.user)
            else:
                field.queryset = field.queryset.none()
        return fields


class LeadIdField(serializers.IntegerField):
    """An id as a JSON number or in ASCII digits: DRF's IntegerField read "١٢" as 12 (qualify/ids.py)."""

    def to_internal_value(self, data) -> int:
        if given_id(data) is None:
            self.fail("invalid")
        return super().to_internal_value(data)


class _LeadId(serializers.Serializer):
    lead = LeadIdField()


def lead_in_body(request: Request, *, for_write: bool = True) -> Lead:
    """The lead a request body names (`lead`), looked up before the rest of the body is read: who
    may not change it gets its 404 or 403 whatever else the body says (people they cannot see
    included), so a body never tells an outsider more than the lead's own answer does."""
    s = _LeadId(data=request.data)
    s.is_valid(raise_exception=True)
    return access_lead(request.user, s.validated_data["lead"], for_write=for_write)


PROPERTIES_HELP = (
    "Custom property values by key. On write, a partial change: the keys given are set (null or '' "
    "removes one), the others are kept; an unknown key, a wrong type or an unknown choice is a 400 "
    "and changes nothing."
)


class AccountSerializer(NamesOnlyVisible, serializers.ModelSerializer):
    properties = serializers.JSONField(required=False, help_text=PROPERTIES_HELP)

    class Meta:
        model = Account
        fields = [
            "id", "name", "domain", "industry", "employee_count", "revenue_band", "country", "region",
            "segment", "team", "owner", "properties", "created_at",
        ]
        read_only_fields = ["id", "created_at"]
        # The team's domain is checked in validate() with a readable message (and the race by records).
        validators: list = []

    def validate_domain(self, value: str) -> str:
        try:
            return records.clean_domain(value)  # the bare host: "https://www.acme.com/" is acme.com
        except DomainError as e:
            raise serializers.ValidationError(e.message) from e

    def validate_team(self, team: Team) -> Team:
        user = self.context["request"].user
        if not can_create_in_team(user, team.pk):
            raise serializers.ValidationError("You are not a member of this team.")
        return team

    def validate(self, attrs):
        owner, team = attrs.get("owner"), attrs.get("team") or getattr(self.instance, "team", None)
        # Giving an account an owner changes it: on create, only who may change the team's accounts
        # (marketing creates accounts, and changes none), as on update (access_account for_write).
        if self.instance is None and owner and team and not can_change_accounts_of(self.context["request"].user, team.pk):
            raise serializers.ValidationError({"owner": [NO_ACCOUNT_OWNER]})
        if owner and team and not eligible_owners(team.pk).filter(pk=owner.pk).exists():
            raise serializers.ValidationError({"owner": [NOT_A_REP]})
        domain = attrs.get("domain")
        if domain and team:
            # Only this team's accounts count: another team's customers are none of its business.
            clash = Account.objects.filter(team=team, domain=domain).exclude(pk=getattr(self.instance, "pk", None))
            if other := clash.order_by("pk").first():
                raise serializers.ValidationError({"domain": [records.domain_taken(other).message]})
        return attrs

    def create(self, validated_data):
        return _written(records.create_account, by=self.context["request"].user, **validated_data)

    def update(self, instance: Account, validated_data):
        _written(records.edit_account, instance, by=self.context["request"].user, **validated_data)
        return instance


def _written(verb, *args, **kwargs):
    """Call a records verb; a clash it found (a concurrent create) is a 400 on its field."""
    try:
        return verb(*args, **kwargs)
    except DomainError as e:
        raise ValidationError({e.field or "non_field_errors": [e.message]})


class AccountDetailSerializer(AccountSerializer):
    """One account with what other concepts add (panels.ACCOUNT_API_DETAIL): its engagement now by
    department and persona, buying-committee coverage, account score and MQA."""

    qualification = serializers.DictField(read_only=True, required=False)

    class Meta(AccountSerializer.Meta):
        fields = [*AccountSerializer.Meta.fields, "qualification"]


class AccountSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Account
        fields = ["id", "name", "domain", "industry", "segment", "region", "properties"]


class _LeadList(serializers.ListSerializer):
    """Explains a page's predicted conversions at once (panels.predicted_factors), not per row."""

    def to_representation(self, data):
        items = list(data.all() if hasattr(data, "all") else data)
        self.child.context["predicted_factors"] = predicted_factors(items)
        return super().to_representation(items)


class LeadSerializer(NamesOnlyVisible, serializers.ModelSerializer):
    account_detail = AccountSummarySerializer(source="account", read_only=True)
    properties = serializers.JSONField(required=False, help_text=PROPERTIES_HELP)
    predicted_factors = serializers.SerializerMethodField(
        help_text="What moves this lead's predicted conversion most from a typical lead's: feature, value, "
                  "effect (change in probability)."
    )

    class Meta:
        model = Lead
        fields = [
            "id", "first_name", "last_name", "email", "phone", "title", "seniority", "department", "persona",
            "source", "campaign", "partner_name", "partner_contact", "external_id", "account", "account_detail",
            "team", "owner", "ae", "stage", "stage_changed_at", "recycle_on", "disqualify_reason", "score",
            "properties", "predicted", "predicted_version", "predicted_factors", "last_touch_at", "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id", "ae", "stage", "stage_changed_at", "recycle_on", "disqualify_reason", "score", "predicted",
            "predicted_version", "last_touch_at", "created_at", "updated_at",
        ]
        list_serializer_class = _LeadList
        extra_kwargs = {"team": {"required": False}}
        # external_id uniqueness per team is checked in validate() with a readable message.
        validators: list = []

    def get_predicted_factors(self, lead: Lead) -> list[dict]:
        known = self.context.get("predicted_factors")
        if known is None:
            known = predicted_factors([lead])
        return known.get(lead.pk, [])

    def validate(self, attrs):
        user = self.context["request"].user
        account = attrs.get("account") or getattr(self.instance, "account", None)
        team = attrs.get("team") or getattr(self.instance, "team", None) or (account.team if account else None)
        if self.instance is None:
            attrs["team"] = team
            if team is None or not can_create_in_team(user, team.pk):
                raise serializers.ValidationError({"team": ["You cannot create leads in this team."]})
        elif "team" in attrs and attrs["team"] != self.instance.team and not user.is_admin:
            raise serializers.ValidationError({"team": ["Only an admin can move a lead to another team."]})
        if account and team and account.team_id != team.pk:
            raise serializers.ValidationError({"account": ["This account belongs to another team."]})
        owner = attrs.get("owner")
        if self.instance is not None and "owner" in attrs and owner != self.instance.owner and not can_reassign(user, self.instance):
            raise serializers.ValidationError({"owner": ["Only the team's managers can reassign a lead."]})
        # A new lead's owner is a reassign too (else routing decides), but for taking it yourself,
        # as the page's "Make me the owner" does: reps and marketing cannot give leads to others.
        if self.instance is None and owner is not None and owner != user and not can_reassign_in(user, team.pk):
            raise serializers.ValidationError({"owner": ["Only the team's managers can give a new lead to someone else: "
                                                         "leave the owner empty or name yourself."]})
        if owner and team and not eligible_owners(team.pk).filter(pk=owner.pk).exists():
            raise serializers.ValidationError({"owner": [NOT_A_REP]})
        external_id = attrs.get("external_id")
        if external_id and team:
            clash = Lead.objects.filter(team=team, external_id=external_id).exclude(pk=getattr(self.instance, "pk", None))
            if clash.exists():
                raise serializers.ValidationError({"external_id": ["A lead with this external id already exists."]})
        return attrs

    def create(self, validated_data):
        return _written(records.create_lead, by=self.context["request"].user, **validated_data)

    def update(self, instance: Lead, validated_data):
        """Fields through records.edit_lead, a new owner through assignment.assign (recorded)."""
        by = self.context["request"].user
        owner_given = "owner" in validated_data
        owner = validated_data.pop("owner", None)
        with transaction.atomic():
            _written(records.edit_lead, instance, by=by, **validated_data)
            if owner_given and owner != instance.owner:
                assign(instance, owner=owner, by=by, why=f"Reassigned by {by} through the API")
        return instance


class MoveSerializer(serializers.Serializer):
    to = serializers.ChoiceField(choices=Stage.choices)
    expect = serializers.ChoiceField(choices=Stage.choices, required=False, help_text="Refuse if the stage changed meanwhile.")
    why = serializers.CharField(required=False, allow_blank=True, default="")


class ReasonSerializer(serializers.Serializer):
    reason = serializers.PrimaryKeyRelatedField(queryset=DisqualifyReason.objects.all())
    note = serializers.CharField(required=False, allow_blank=True, default="")
    recycle_on = serializers.DateField(required=False, allow_null=True, default=None)


class TouchSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=TouchKind.choices)
    outcome = serializers.ChoiceField(choices=TouchOutcome.choices)

    class Meta:
        model = Touch
        fields = ["id", "kind", "outcome", "note", "occurred_at", "author"]
        read_only_fields = ["id", "author"]
        extra_kwargs = {"occurred_at": {"required": False}}


class StageChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = StageChange
        fields = ["id", "from_stage", "to_stage", "by", "at", "why", "reason"]


class ReasonOutSerializer(serializers.ModelSerializer):
    class Meta:
        model = DisqualifyReason
        fields = ["id", "name", "description", "action", "recycle_days", "note_required", "min_note_length", "dimension", "active"]


class MergeSerializer(serializers.Serializer):
    other = serializers.IntegerField(help_text="The id of the lead (or account) merged into this one; it stops existing.")
    fields = serializers.DictField(
        child=serializers.ChoiceField(choices=[merge.SURVIVOR, merge.OTHER]), required=False, default=dict,
        help_text="Per field, whose value to keep; unnamed fields keep the non-empty, more recently changed value.",
    )


def _merged(verb, request: Request, survivor, model_access, serializer_class):
    """The shared body of the two merge endpoints: both records writable by the caller (an
    outsider's id is a 404), then the one merge verb, which holds every door to who may merge
    (access.can_merge); its refusals are a 400, its PermissionDenied a 403. The same rule is asked
    first, so a caller who may not merge gets the 403 whatever the body says."""
    try:
        require_merge(request.user, survivor.team_id)
        s = MergeSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        other = model_access(request.user, s.validated_data["other"], for_write=True)
        if other.pk == survivor.pk:
            raise ValidationError({"other": ["This is the same record (or it was already merged into it)."]})
        kept = verb(survivor, other, by=request.user, fields=s.validated_data["fields"])
    except DjangoPermissionDenied as e:
        raise PermissionDenied(str(e)) from e  # DRF would answer its generic sentence instead
    except DomainError as e:
        raise ValidationError({e.field or "non_field_errors": [e.message]})
    return Response(serializer_class(kept, context={"request": request}).data)


# --- viewsets ----------------------------------------------------------------------------------


class AccountViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet
):
    serializer_class = AccountSerializer
    pagination_class = IdCursor
    filterset_fields = ["team", "segment", "region", "industry", "domain", "owner"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Account.objects.none()
        return visible_accounts(self.request.user)

    def get_object(self):
        return access_account(self.request.user, self.kwargs["pk"], for_write=self.request.method not in ("GET", "HEAD", "OPTIONS"))

    @extend_schema(responses=AccountDetailSerializer)
    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        account = self.get_object()
        data = dict(AccountSerializer(account, context={"request": request}).data)
        data.update(account_api_detail(account, request.user))
        return Response(data)

    @extend_schema(request=MergeSerializer, responses=AccountSerializer)
    @action(detail=True, methods=["post"])
    def merge(self, request: Request, pk=None) -> Response:
        """Merge account `other` into this one (its leads move here; its id keeps resolving here)."""
        return _merged(merge.merge_accounts, request, self.get_object(), access_account, AccountSerializer)


class QueueCursor(BasePagination):
    """Keyset pages in any of the queue's sorts (queue.SORTS), the same cursor as the page:
    `?ordering=-created` (a leading minus: descending; none given: score, highest first) and
    `?cursor=<key>:<id>` from the previous answer's `next`. Constant cost at any depth."""

    page_size = 50
    max_page_size = 500

    def paginate_queryset(self, queryset, request, view=None):
        ordering = request.query_params.get("ordering", "-score")
        name = ordering.removeprefix("-")
        if name not in SORTS:
            raise ValidationError({"ordering": [f"Order by one of {', '.join(SORTS)}, with a leading '-' for descending."]})
        descending = ordering.startswith("-")
        after = request.query_params.get("cursor", "")
        if after and not parse_cursor(after, name):
            raise ValidationError({"cursor": ["This cursor does not belong to this ordering; follow the `next` link."]})
        try:
            size = max(1, min(int(request.query_params.get("page_size", self.page_size)), self.max_page_size))
        except ValueError:
            raise ValidationError({"page_size": [f"A page size is a number from 1 to {self.max_page_size}."]})
        rows = list(sorted_leads(queryset, name, descending, after)[: size + 1])
        self.next_cursor = cursor_of(rows[size - 1]) if len(rows) > size else None
        self.request = request
        return rows[:size]

    def get_paginated_response(self, data):
        next_url = None
        if self.next_cursor:
            next_url = replace_query_param(self.request.build_absolute_uri(), "cursor", self.next_cursor)
        return Response({"next": next_url, "previous": None, "results": data})

    def get_paginated_response_schema(self, schema):
        return {"type": "object", "required": ["results"], "properties": {
            "next": {"type": "string", "nullable": True, "format": "uri"},
            "previous": {"type": "string", "nullable": True, "format": "uri"}, "results": schema}}

    def get_schema_operation_parameters(self, view):
        return [
            {"name": "ordering", "required": False, "in": "query", "schema": {"type": "string", "enum": [
                f"{sign}{name}" for name in SORTS for sign in ("", "-")]},
             "description": "Sort (a leading '-' for descending); ties break by id. Default: -score."},
            {"name": "cursor", "required": False, "in": "query", "schema": {"type": "string"},
             "description": "From the previous page's `next`."},
            {"name": "page_size", "required": False, "in": "query", "schema": {"type": "integer"}},
        ]


class LeadViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet
):
    serializer_class = LeadSerializer
    pagination_class = QueueCursor
    filterset_class = LeadFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Lead.objects.none()
        return Lead.objects.visible_to(self.request.user).select_related("account")

    def get_object(self) -> Lead:
        write = self.request.method not in ("GET", "HEAD", "OPTIONS")
        return access_lead(self.request.user, self.kwargs["pk"], for_write=write)

    @extend_schema(request=MoveSerializer, responses=LeadSerializer)
    @action(detail=True, methods=["post"])
    def move(self, request: Request, pk=None) -> Response:
        """Move the lead to another stage; illegal moves are a 400 and change nothing."""
        lead = self.get_object()
        s = MoveSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        to = s.validated_data["to"]
        if to not in lifecycle.manual_next(lead.stage) and to in lifecycle.ALLOWED[lead.stage]:
            raise ValidationError({"to": [f"Use the dedicated endpoint to move this lead to {Stage(to).label}."]})
        lifecycle.move_stage(lead, to=to, by=request.user, why=s.validated_data["why"], expect=s.validated_data.get("expect"))
        return Response(LeadSerializer(lead, context={"request": request}).data)

    @extend_schema(request=MergeSerializer, responses=LeadSerializer)
    @action(detail=True, methods=["post"])
    def merge(self, request: Request, pk=None) -> Response:
        """Merge lead `other` into this one, keeping all of both histories; `other`'s id then
        resolves to this lead (GET answers this lead's record, with its own id)."""
        return _merged(merge.merge_leads, request, self.get_object(), access_lead, LeadSerializer)

    @extend_schema(request=ReasonSerializer, responses=LeadSerializer)
    @action(detail=True, methods=["post"])
    def nurture(self, request: Request, pk=None) -> Response:
        lead = self.get_object()
        s = ReasonSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        d = s.validated_data
        lifecycle.nurture(lead, reason=d["reason"], note=d["note"], by=request.user, recycle_on=d["recycle_on"])
        return Response(LeadSerializer(lead, context={"request": request}).data)

    @extend_schema(request=ReasonSerializer, responses=LeadSerializer)
    @action(detail=True, methods=["post"])
    def disqualify(self, request: Request, pk=None) -> Response:
        lead = self.get_object()
        s = ReasonSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        lifecycle.disqualify(lead, reason=s.validated_data["reason"], note=s.validated_data["note"], by=request.user)
        return Response(LeadSerializer(lead, context={"request": request}).data)

    @extend_schema(methods=["GET"], responses=TouchSerializer(many=True))
    @extend_schema(methods=["POST"], request=TouchSerializer, responses={200: TouchSerializer, 201: TouchSerializer})
    @action(detail=True, methods=["get", "post"], pagination_class=None)  # a plain list, newest 200
    def touches(self, request: Request, pk=None) -> Response:
        """GET the lead's touches, newest first; POST logs one (201), or answers the touch already
        logged when the same one came within seconds (200: a retried request or a double click)."""
        if request.method == "GET":
            lead = access_lead(request.user, pk)
            return Response(TouchSerializer(lead.touches.order_by("-occurred_at")[:200], many=True).data)
        lead = self.get_object()
        s = TouchSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        touch = log_touch(lead, by=request.user, **s.validated_data)
        repeated = getattr(touch, "repeated", False)
        return Response(TouchSerializer(touch).data, status=status.HTTP_200_OK if repeated else status.HTTP_201_CREATED)

    @extend_schema(responses=StageChangeSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)  # a plain list, newest 500
    def history(self, request: Request, pk=None) -> Response:
        """The lead's stage history, newest first."""
        lead = access_lead(request.user, pk)
        return Response(StageChangeSerializer(lead.stage_changes.all()[:500], many=True).data)


class DisqualifyReasonViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ReasonOutSerializer
    pagination_class = None
    queryset = DisqualifyReason.objects.all()


def register(router) -> None:
    router.register(r"accounts", AccountViewSet, basename="account")
    router.register(r"leads", LeadViewSet, basename="lead")
    router.register(r"disqualify-reasons", DisqualifyReasonViewSet, basename="disqualify-reason")

