from django.urls import path

from . import views

app_name = "sla"
urlpatterns = [
    path("sla/breaches/", views.breaches, name="breaches"),
]
