from django.urls import path

from . import views

app_name = "notifications"
urlpatterns = [
    path("notifications/", views.notifications, name="list"),
    path("notifications/badge/", views.badge, name="badge"),
    path("notifications/read-all/", views.mark_all_read, name="mark_all_read"),
    path("notifications/preferences/", views.preferences, name="preferences"),
    path("notifications/<int:notification_id>/read/", views.mark_read, name="mark_read"),
    path("notifications/<int:notification_id>/open/", views.open_notification, name="open"),
]
