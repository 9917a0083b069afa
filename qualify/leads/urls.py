from django.urls import path

from . import record_views, views

app_name = "leads"
urlpatterns = [
    path("queue/", views.queue, name="queue"),
    path("leads/new/", record_views.lead_create, name="lead_create"),
    path("queue/total/", views.queue_total, name="queue_total"),
    path("queue/bulk/", views.bulk_action, name="bulk"),
    path("queue/views/", views.view_create, name="view_create"),
    path("queue/views/<int:view_id>/", views.view_update, name="view_update"),
    path("queue/views/<int:view_id>/delete/", views.view_delete, name="view_delete"),
    path("queue/export/", views.export, name="export"),
    path("queue/properties/", views.property_filters, name="property_filters"),
    path("leads/<int:lead_id>/", views.detail, name="detail"),
    path("leads/<int:lead_id>/edit/", record_views.lead_edit, name="lead_edit"),
    path("accounts/new/", record_views.account_create, name="account_create"),
    path("accounts/<int:account_id>/edit/", record_views.account_edit, name="account_edit"),
    path("leads/<int:lead_id>/touch/", views.touch, name="touch"),
    path("leads/<int:lead_id>/move/", views.move, name="move"),
    path("leads/<int:lead_id>/claim/", views.claim, name="claim"),
    path("leads/<int:lead_id>/nurture/", views.nurture, name="nurture"),
    path("leads/<int:lead_id>/disqualify/", views.disqualify, name="disqualify"),
    path("accounts/<int:account_id>/", views.account, name="account"),
]
