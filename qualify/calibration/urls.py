from django.urls import path

from . import views

app_name = "calibration"
urlpatterns = [
    path("calibration/", views.report, name="report"),
    path("calibration/leads/", views.leads, name="leads"),
    path("calibration/accept/", views.accept, name="accept"),
]
