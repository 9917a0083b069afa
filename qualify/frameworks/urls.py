from django.urls import path

from . import views

app_name = "frameworks"
urlpatterns = [
    path("leads/<int:lead_id>/answers/", views.answers, name="answers"),
    path("definition/", views.definition, name="definition"),
]
