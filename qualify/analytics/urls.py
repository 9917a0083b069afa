from django.urls import path

from . import views

app_name = "analytics"
urlpatterns = [
    path("metrics/", views.funnel, name="funnel"),
    path("metrics/velocity/", views.velocity, name="velocity"),
    path("metrics/handoffs/", views.handoffs, name="handoffs"),
    path("metrics/quality/", views.quality, name="quality"),
    path("metrics/marketing/", views.marketing, name="marketing"),
    path("metrics/refresh/", views.refresh_now, name="refresh"),
]
