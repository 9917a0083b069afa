from django.urls import path

from . import views

app_name = "leads"
urlpatterns = [
    path("queue/", views.queue, name="queue"),
    path("queue/export/", views.export, name="export"),
    path("queue/properties/", views.property_filters, name="property_filters"),
    path("leads/<int:lead_id>/", views.detail, name="detail"),
    path("leads/<int:lead_id>/touch/", views.touch, name="touch"),
    path("leads/<int:lead_id>/move/", views.move, name="move"),
    path("leads/<int:lead_id>/claim/", views.claim, name="claim"),
    path("leads/<int:lead_id>/nurture/", views.nurture, name="nurture"),
    path("leads/<int:lead_id>/disqualify/", views.disqualify, name="disqualify"),
]
