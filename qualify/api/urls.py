"""The REST API: each concept registers its own viewsets; the schema and docs live here."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework.routers import DefaultRouter

from qualify.frameworks.api import register as register_frameworks
from qualify.handoff.api import register as register_handoff
from qualify.leads.api import register as register_leads
from qualify.reviews.api import register as register_reviews
from qualify.routing.api import register as register_routing
from qualify.scoring.api import register as register_scoring
from qualify.sla.api import register as register_sla
from qualify.analytics.api import register as register_analytics
from qualify.webhooks.api import register as register_webhooks

router = DefaultRouter()
register_leads(router)
register_frameworks(router)
register_handoff(router)
register_scoring(router)
register_sla(router)
register_routing(router)
register_reviews(router)
register_analytics(router)
register_webhooks(router)

urlpatterns = [
    path("", include(router.urls)),
    path("token/", obtain_auth_token, name="api-token"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
]
