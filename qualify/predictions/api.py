"""Prediction versions through the API: the same report the quality page draws, read-only, for
managers and RevOps. The held-out leads' ids are left out (they name leads of every team)."""

from __future__ import annotations

from rest_framework import serializers, viewsets

from qualify.api.pagination import IdCursor

from .access import require_quality_reader
from .evaluation import described_features, verdict
from .models import PredictionVersion


class PredictionVersionSerializer(serializers.ModelSerializer):
    report = serializers.SerializerMethodField()

    class Meta:
        model = PredictionVersion
        fields = ["id", "number", "status", "window_days", "created_at", "trained_at", "activated_at", "progress",
                  "progress_note", "error", "report", "baseline"]

    def get_report(self, version: PredictionVersion) -> dict:
        """The stored report, with the page's words: the weak-model headline and what each
        feature's AUC alone says."""
        report = {k: v for k, v in version.report.items() if k != "held_out"}
        if "overall" in report:
            report["verdict"] = verdict(report["overall"])
            report["single_feature_auc"] = described_features(report)
        return report


class PredictionVersionViewSet(viewsets.ReadOnlyModelViewSet):
    """GET /api/prediction-versions/ and /{id}/: every version with its held-out evaluation (AUC,
    Brier, 10-bin reliability, ECE, capture), segments, features and leaks."""

    serializer_class = PredictionVersionSerializer
    pagination_class = IdCursor
    queryset = PredictionVersion.objects.defer("artifact").order_by("-number")

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        require_quality_reader(request.user)


def register(router) -> None:
    router.register(r"prediction-versions", PredictionVersionViewSet, basename="prediction-version")
