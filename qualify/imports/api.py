"""CSV imports through the API: the same jobs as the Import page."""

from __future__ import annotations

import json

from django.core.exceptions import PermissionDenied
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from qualify.api.pagination import IdCursor
from qualify.api.parsers import JSONParser
from qualify.storable import has_surrogate

from .access import KIND_REFUSED, access_job, can_import_kind, import_teams, require_run, visible_jobs
from .jobs import create_job, read_upload, start
from .models import ImportJob, ImportKind, ImportMode


class ImportJobSerializer(serializers.ModelSerializer):
    class Meta:
        model = ImportJob
        fields = ["id", "kind", "team", "created_by", "created_at", "filename", "header", "mapping", "new_properties", "value_maps",
                  "defaults", "dry_run", "mode",
                  "status", "total_rows", "processed_rows", "good_rows", "bad_rows", "errors", "warnings", "created", "message",
                  "started_at", "finished_at", "imported_at", "heartbeat_at", "attempts"]
        read_only_fields = fields


class ImportInput(serializers.Serializer):
    file = serializers.FileField()
    kind = serializers.ChoiceField(choices=ImportKind.choices)
    team = serializers.IntegerField()
    mapping = serializers.CharField(required=False, help_text='JSON {"CSV column": "field"}; recognised headers when omitted.')
    defaults = serializers.CharField(required=False, help_text='JSON {"source": "inbound", "stage": "mql"} for empty cells.')
    properties = serializers.CharField(
        required=False, help_text='JSON {"key": {"label", "kind", "choices", "known_after_contact"}}: properties to define, '
                                  'for columns mapped to "prop:<key>" (existing properties need no definition).')
    value_maps = serializers.CharField(required=False, help_text='JSON {"stage": {"1": "won", "0": "lost"}, "source": {...}}.')
    dry_run = serializers.BooleanField(default=True)
    mode = serializers.ChoiceField(choices=ImportMode.choices, default=ImportMode.ALL_OR_NOTHING)


class RunInput(serializers.Serializer):
    dry_run = serializers.BooleanField(default=True)
    mode = serializers.ChoiceField(choices=ImportMode.choices, default=ImportMode.ALL_OR_NOTHING)
    mapping = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False)
    properties = serializers.DictField(required=False, help_text="New properties, as on upload (with a mapping).")
    value_maps = serializers.DictField(required=False, help_text="Value maps, as on upload (with a mapping).")


def _json(value: str | None, field: str) -> dict | None:
    if not value:
        return None
    try:
        data = json.loads(value)
    except (ValueError, RecursionError):
        raise ValidationError({field: ["Not valid JSON."]})
    if not isinstance(data, dict):
        raise ValidationError({field: ["Expected a JSON object."]})
    # A multipart field skips the API's JSON parser: its check for half a surrogate pair, here.
    if has_surrogate(data):
        raise ValidationError({field: ["Not valid JSON: a lone surrogate (half of a \\ud800-\\udfff pair)."]})
    return data


class ImportJobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """CSV imports. POST a multipart file to start one (202: poll GET /api/imports/{id}/ for
    progress and bad rows); POST /{id}/run/ to run a dry-run job for real."""

    serializer_class = ImportJobSerializer
    pagination_class = IdCursor
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ImportJob.objects.none()
        import_teams(self.request.user)
        return visible_jobs(self.request.user).defer("content")

    def get_object(self):
        return access_job(self.request.user, self.kwargs["pk"])

    @extend_schema(request={"multipart/form-data": ImportInput}, responses={202: ImportJobSerializer})
    def create(self, request):
        teams = {t.pk: t for t in import_teams(request.user)}
        s = ImportInput(data=request.data)
        s.is_valid(raise_exception=True)
        d = s.validated_data
        if d["team"] not in teams:
            raise ValidationError({"team": ["You cannot import into this team."]})
        if not can_import_kind(request.user, d["team"], d["kind"]):
            raise PermissionDenied(KIND_REFUSED)
        upload = d["file"]
        job = create_job(kind=d["kind"], team=teams[d["team"]], by=request.user, content=read_upload(upload), filename=upload.name,
                         mapping=_json(d.get("mapping"), "mapping"), defaults=_json(d.get("defaults"), "defaults"),
                         new_properties=_json(d.get("properties"), "properties"), value_maps=_json(d.get("value_maps"), "value_maps"))
        job = start(job, dry_run=d["dry_run"], mode=d["mode"])
        return Response(ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=RunInput, responses={202: ImportJobSerializer})
    @action(detail=True, methods=["post"])
    def run(self, request, pk=None):
        job = self.get_object()
        require_run(request.user, job)
        s = RunInput(data=request.data)
        s.is_valid(raise_exception=True)
        v = s.validated_data
        job = start(job, dry_run=v["dry_run"], mode=v["mode"], mapping=v.get("mapping"), new_properties=v.get("properties"),
                    value_maps=v.get("value_maps"))
        return Response(ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


def register(router) -> None:
    router.register(r"imports", ImportJobViewSet, basename="import")
