"""Calibration through the API: the same figures as the page, its drill-down, and accepting a
suggestion. GET /api/calibration/?model=&days=&team=, GET /api/calibration/leads/?...&band=|rule=|
reason=|outcome=, POST /api/calibration/accept/ {"model", "key", "days", "team"} (RevOps)."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from . import figures
from .access import check_can_accept, read_request
from .service import accept_by_key, drill_params, suggestion_states


class CalibrationBandSerializer(serializers.Serializer):
    decile = serializers.IntegerField(source="number")
    low = serializers.IntegerField()
    high = serializers.IntegerField()
    leads = serializers.IntegerField()
    won = serializers.IntegerField()
    conversion = serializers.FloatField(allow_null=True)
    interval = serializers.ListField(child=serializers.FloatField())


class CalibrationRuleSerializer(serializers.Serializer):
    rule_id = serializers.IntegerField()
    label = serializers.CharField()
    kind = serializers.CharField()
    points = serializers.IntegerField(allow_null=True, help_text="In the published version; null when no longer there.")
    eligible = serializers.IntegerField(source="counts.eligible", help_text="Closed leads scored by a version with this rule.")
    fired = serializers.IntegerField(source="counts.fired")
    fired_won = serializers.IntegerField(source="counts.fired_won")
    conversion_fired = serializers.FloatField(source="counts.fired_rate", allow_null=True)
    interval_fired = serializers.ListField(source="counts.interval", child=serializers.FloatField())
    conversion_not_fired = serializers.FloatField(source="counts.not_fired_rate", allow_null=True)
    base = serializers.FloatField(source="counts.base", allow_null=True)
    lift = serializers.FloatField(source="counts.lift", allow_null=True)
    below_floor = serializers.BooleanField()


class CalibrationReasonRuleSerializer(serializers.Serializer):
    rule_id = serializers.IntegerField()
    label = serializers.CharField()
    fired = serializers.IntegerField()


class CalibrationReasonSerializer(serializers.Serializer):
    reason_id = serializers.IntegerField()
    name = serializers.CharField()
    leads = serializers.IntegerField()
    top_rules = CalibrationReasonRuleSerializer(many=True)


class CalibrationThresholdSerializer(serializers.Serializer):
    threshold = serializers.IntegerField()
    leads = serializers.IntegerField(source="mqls")
    won = serializers.IntegerField()
    won_share = serializers.FloatField(allow_null=True)
    conversion = serializers.FloatField(allow_null=True)
    current = serializers.BooleanField()


class CalibrationSuggestionSerializer(serializers.Serializer):
    key = serializers.CharField()
    kind = serializers.CharField()
    label = serializers.CharField()
    current = serializers.IntegerField()
    suggested = serializers.IntegerField()
    headline = serializers.CharField()
    evidence = serializers.CharField()
    sample = serializers.IntegerField()
    rule_id = serializers.IntegerField(allow_null=True)
    state = serializers.CharField(help_text="open, in_draft (the draft holds the suggested value) or changed.")


class CalibrationReportSerializer(serializers.Serializer):
    model = serializers.IntegerField()
    model_name = serializers.CharField()
    version = serializers.IntegerField(allow_null=True, help_text="The published version number.")
    teams = serializers.ListField(child=serializers.IntegerField())
    days = serializers.IntegerField()
    closed = serializers.IntegerField()
    won = serializers.IntegerField()
    lost = serializers.IntegerField()
    disqualified = serializers.IntegerField()
    base = serializers.FloatField(allow_null=True)
    explained_now = serializers.IntegerField(help_text="Closed leads with no score recorded at close, explained in their current state.")
    min_sample = serializers.IntegerField()
    seconds = serializers.FloatField()
    bands = CalibrationBandSerializer(many=True)
    rules = CalibrationRuleSerializer(many=True)
    thresholds = CalibrationThresholdSerializer(many=True)
    reasons = CalibrationReasonSerializer(many=True)
    suggestions = CalibrationSuggestionSerializer(many=True)


class CalibrationDrillLeadSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    team = serializers.IntegerField(source="team_id")
    stage = serializers.CharField()
    disqualify_reason = serializers.IntegerField(source="disqualify_reason_id", allow_null=True)
    score_at_close = serializers.IntegerField()
    explained_now = serializers.BooleanField()
    closed_at = serializers.DateTimeField(source="stage_changed_at")


class CalibrationDrillSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    leads = CalibrationDrillLeadSerializer(many=True)


class CalibrationAcceptInputSerializer(serializers.Serializer):
    model = serializers.IntegerField(min_value=1)
    key = serializers.CharField(max_length=100)
    days = serializers.IntegerField(required=False, min_value=1)
    team = serializers.IntegerField(required=False, min_value=1)


class CalibrationAcceptedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    model = serializers.IntegerField(source="model_id")
    version = serializers.IntegerField(source="version_id", allow_null=True)
    key = serializers.CharField()
    kind = serializers.CharField()
    label = serializers.CharField()
    from_value = serializers.IntegerField()
    to_value = serializers.IntegerField()
    headline = serializers.CharField()
    evidence = serializers.CharField()
    sample = serializers.IntegerField()


def report_data(report: figures.Report) -> dict:
    states = suggestion_states(report)
    scope = report.scope
    return {
        "model": scope.model.pk, "model_name": scope.model.name,
        "version": report.version.number if report.version else None, "teams": list(scope.team_ids),
        "days": scope.days, "closed": report.closed, "won": report.won, "lost": report.lost,
        "disqualified": report.disqualified, "base": report.base, "explained_now": report.current_state,
        "min_sample": report.min_sample, "seconds": round(report.seconds, 3), "bands": report.bands,
        "rules": report.rules, "thresholds": report.thresholds,
        "reasons": [{"reason_id": r.reason_id, "name": r.name, "leads": r.leads,
                     "top_rules": [{"rule_id": rule.rule_id, "label": rule.label, "fired": n} for rule, n in r.top]}
                    for r in report.reasons],
        "suggestions": [{**s.__dict__, "state": states[s.key]} for s in report.suggestions],
    }


SCOPE_PARAMS = [
    OpenApiParameter("model", int, required=False, description="A published scoring model (default: the default model)."),
    OpenApiParameter("days", int, required=False, description="Leads closed in the last N days (default 365)."),
    OpenApiParameter("team", int, required=False, description="One of your teams (default: all of them)."),
]


class _OneObjectSchema(AutoSchema):
    """The report is one object, though the router names it `list`."""

    def _is_list_view(self, serializer=None) -> bool:
        return False


class CalibrationViewSet(viewsets.ViewSet):
    schema = _OneObjectSchema()

    @extend_schema(operation_id="calibration_report", parameters=SCOPE_PARAMS, responses={200: CalibrationReportSerializer})
    def list(self, request):
        req = read_request(request.user, request.query_params)
        return Response(CalibrationReportSerializer(report_data(figures.compute(req.scope))).data)

    @extend_schema(
        parameters=[*SCOPE_PARAMS,
                    OpenApiParameter("band", str, required=False, description="Scores low-high at close, e.g. 60-69."),
                    OpenApiParameter("rule", int, required=False, description="Leads this rule fired on."),
                    OpenApiParameter("reason", int, required=False, description="Leads disqualified with this reason."),
                    OpenApiParameter("outcome", str, required=False, enum=["won", "lost", "disqualified"])],
        responses={200: CalibrationDrillSerializer},
    )
    @action(detail=False, methods=["get"])
    def leads(self, request):
        """The closed leads behind a figure (at most 200, newest first) and how many there are."""
        req = read_request(request.user, request.query_params)
        rows, total = figures.drill_down(req.scope, **drill_params(request.query_params))
        for lead in rows:
            lead.name = f"{lead.first_name} {lead.last_name}".strip()
        return Response(CalibrationDrillSerializer({"total": total, "leads": rows}).data)

    @extend_schema(request=CalibrationAcceptInputSerializer, responses={201: CalibrationAcceptedSerializer})
    @action(detail=False, methods=["post"])
    def accept(self, request):
        """Put one suggestion into the model's draft (RevOps). 400 when it is no longer suggested,
        already in the draft, or the draft changed; nothing is changed then."""
        check_can_accept(request.user)
        data = CalibrationAcceptInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        params = {k: str(v) for k, v in data.validated_data.items() if k != "key"}
        req = read_request(request.user, params)
        record = accept_by_key(req, data.validated_data["key"], by=request.user)
        return Response(CalibrationAcceptedSerializer(record).data, status=201)


def register(router) -> None:
    router.register(r"calibration", CalibrationViewSet, basename="calibration")
