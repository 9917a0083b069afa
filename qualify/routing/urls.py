from django.urls import path

from . import views

app_name = "routing"
urlpatterns = [
    path("leads/<int:lead_id>/reassign/", views.reassign_view, name="reassign"),
]
