from django.urls import path

from . import views

app_name = "handoff"
urlpatterns = [
    path("handoffs/", views.inbox, name="inbox"),
    path("handoffs/feedback/", views.feedback, name="feedback"),
    path("handoffs/sent/", views.sent, name="sent"),
    path("handoffs/<int:handoff_id>/", views.detail, name="detail"),
    path("handoffs/<int:handoff_id>/accept/", views.accept_view, name="accept"),
    path("handoffs/<int:handoff_id>/reject/", views.reject_view, name="reject"),
    path("handoffs/<int:handoff_id>/reassign/", views.reassign_view, name="reassign"),
    path("leads/<int:lead_id>/hand-off/", views.hand_off_view, name="hand_off"),
]
