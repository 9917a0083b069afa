from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("qualify.api.urls")),
    path("", include("qualify.segment.urls")),  # /v1/: the Segment-compatible tracking API
    path("", include("accounts.urls")),
    path("", include("qualify.leads.urls")),
    path("", include("qualify.frameworks.urls")),
    path("", include("qualify.handoff.urls")),
    path("", include("qualify.scoring.urls")),
    path("", include("qualify.notifications.urls")),
    path("", include("qualify.sla.urls")),
    path("", include("qualify.routing.urls")),
    path("", include("qualify.reviews.urls")),
    path("", include("qualify.dedupe.urls")),
    path("", include("qualify.analytics.urls")),
    path("", include("qualify.predictions.urls")),
    path("", include("qualify.imports.urls")),
    path("", include("qualify.calibration.urls")),
]
