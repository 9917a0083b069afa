"""Metrics tables through the API: the same tables as the pages' CSV export."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from . import metrics as m
from .access import filters_from
from .tables import TABLES


class MetricsIndexSerializer(serializers.Serializer):
    tables = serializers.ListField(child=serializers.CharField())
    dimensions = serializers.DictField(child=serializers.CharField())


class MetricsTableSerializer(serializers.Serializer):
    table = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    teams = serializers.ListField(child=serializers.IntegerField())
    columns = serializers.ListField(child=serializers.CharField())
    rows = serializers.ListField(child=serializers.ListField(child=serializers.JSONField()))


class _OneObjectSchema(AutoSchema):
    """The index is one object ({"tables", "dimensions"}), though the router names it `list`."""

    def _is_list_view(self, serializer=None) -> bool:
        return False


class MetricsViewSet(viewsets.ViewSet):
    """GET /api/metrics/ lists the tables; GET /api/metrics/{name}/?start=&end=&team=&dim= returns
    one as {"columns": [...], "rows": [[...]]} (the same table the page's CSV export gives)."""

    lookup_value_regex = "[a-z_]+"
    schema = _OneObjectSchema()

    @extend_schema(operation_id="metrics_list", responses={200: MetricsIndexSerializer})
    def list(self, request):
        filters_from(request)  # 403 for SDRs and AEs
        return Response({"tables": sorted(TABLES), "dimensions": m.DIMENSIONS})

    @extend_schema(
        parameters=[OpenApiParameter("id", str, OpenApiParameter.PATH, enum=sorted(TABLES), description="The table."),
                    *[OpenApiParameter(p, str, required=False) for p in ("start", "end", "team", "dim")]],
        responses={200: MetricsTableSerializer},
    )
    def retrieve(self, request, pk=None):
        f, _, _ = filters_from(request)
        if pk not in TABLES:
            return Response({"detail": f"Unknown table; one of {', '.join(sorted(TABLES))}."}, status=404)
        dim = request.query_params.get("dim", "source")
        if dim not in m.DIMENSIONS:
            raise ValidationError({"dim": [f"One of {', '.join(m.DIMENSIONS)}."]})
        columns, rows = TABLES[pk](f, dim)
        return Response({"table": pk, "start": f.start, "end": f.end, "teams": list(f.team_ids), "columns": columns, "rows": rows})


def register(router) -> None:
    router.register(r"metrics", MetricsViewSet, basename="metrics")
