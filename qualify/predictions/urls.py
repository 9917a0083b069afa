from django.urls import path

from . import views

app_name = "predictions"

urlpatterns = [
    path("predictions/", views.quality, name="quality"),
    path("predictions/train/", views.train, name="train"),
    path("predictions/<int:version_id>/", views.version_detail, name="version"),
    path("predictions/<int:version_id>/progress/", views.progress, name="progress"),
    path("predictions/<int:version_id>/approve/", views.decide, {"decision": "approve"}, name="approve"),
    path("predictions/<int:version_id>/decline/", views.decide, {"decision": "decline"}, name="decline"),
]
