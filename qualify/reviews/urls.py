from django.urls import path

from . import views

app_name = "reviews"
urlpatterns = [
    path("reviews/", views.queues, name="queues"),
    path("reviews/<int:queue_id>/", views.queue_detail, name="queue"),
    path("reviews/items/<int:item_id>/", views.item_detail, name="item"),
    path("reviews/items/<int:item_id>/verdict/", views.verdict, name="verdict"),
    path("tasks/", views.tasks, name="tasks"),
    path("tasks/<int:task_id>/done/", views.task_done, name="task_done"),
]
