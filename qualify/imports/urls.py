from django.urls import path

from . import views

app_name = "imports"
urlpatterns = [
    path("imports/", views.upload, name="upload"),
    path("imports/<int:job_id>/", views.job_detail, name="job"),
    path("imports/<int:job_id>/run/", views.job_run, name="run"),
]
