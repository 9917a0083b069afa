from django.urls import path

from . import views

app_name = "scoring"
urlpatterns = [
    path("leads/<int:lead_id>/score/", views.breakdown, name="breakdown"),
    path("scoring/runs/<int:run_id>/progress/", views.run_progress, name="run-progress"),
]
