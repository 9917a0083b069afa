from django.urls import path

from . import views

app_name = "analytics"
urlpatterns = [
    path("metrics/", views.funnel, name="funnel"),
    path("metrics/velocity/", views.velocity, name="velocity"),
    path("metrics/handoffs/", views.handoffs, name="handoffs"),
    path("metrics/quality/", views.quality, name="quality"),
    path("metrics/refresh/", views.refresh_now, name="refresh"),
]

from . import imports_views  # noqa: E402

urlpatterns += [
    path("imports/", imports_views.upload, name="import_upload"),
    path("imports/<int:job_id>/", imports_views.job_detail, name="import_job"),
    path("imports/<int:job_id>/run/", imports_views.job_run, name="import_run"),
]
