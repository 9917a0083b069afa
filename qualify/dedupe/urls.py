from django.urls import path

from . import views

app_name = "dedupe"
urlpatterns = [
    path("duplicates/", views.candidates, name="candidates"),
    path("duplicates/find/", views.find, name="find"),
    path("duplicates/<int:candidate_id>/", views.candidate, name="candidate"),
    path("duplicates/<int:candidate_id>/merge/", views.merge, name="merge"),
    path("duplicates/<int:candidate_id>/dismiss/", views.dismiss, name="dismiss"),
]
