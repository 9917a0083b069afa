"""The REST API: each concept registers its own viewsets; the schema and docs live here."""

from django.contrib.auth.decorators import login_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from accounts.api import ObtainTokenView
from accounts.api import register as register_accounts
from qualify.frameworks.api import register as register_frameworks
from qualify.handoff.api import register as register_handoff
from qualify.leads.api import register as register_leads
from qualify.reviews.api import register as register_reviews
from qualify.pipeline.api import register as register_pipeline
from qualify.routing.api import register as register_routing
from qualify.scoring.api import register as register_scoring
from qualify.notifications.api import register as register_notifications
from qualify.sla.api import register as register_sla
from qualify.analytics.api import register as register_analytics
from qualify.dedupe.api import register as register_dedupe
from qualify.calibration.api import register as register_calibration
from qualify.imports.api import register as register_imports
from qualify.predictions.api import register as register_predictions
from qualify.webhooks.api import register as register_webhooks

router = DefaultRouter()
register_leads(router)
register_frameworks(router)
register_handoff(router)
register_scoring(router)
register_sla(router)
register_notifications(router)
register_routing(router)
register_reviews(router)
register_pipeline(router)
register_analytics(router)
register_calibration(router)
register_imports(router)
register_predictions(router)
register_accounts(router)
register_webhooks(router)
register_dedupe(router)

urlpatterns = [
    path("", include(router.urls)),
    path("token/", ObtainTokenView.as_view(), name="api-token"),
    # The schema and docs describe every endpoint and filter: signed-in users only (SERVE_PERMISSIONS).
    # The pages send a browser to the sign-in form; the schema answers 401 like the rest of the API.
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # Split view: Swagger UI's start-up script is its own request, so the CSP needs no inline script.
    path("docs/", login_required(SpectacularSwaggerSplitView.as_view(url_name="schema")), name="api-docs"),
    path("redoc/", login_required(SpectacularRedocView.as_view(url_name="schema")), name="api-redoc"),
]
