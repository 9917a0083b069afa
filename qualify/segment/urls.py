from django.urls import path

from . import views

app_name = "segment"
urlpatterns = [
    path(f"v1/{kind}", views.receive, {"kind": kind}, name=kind)
    for kind in ("batch", "track", "identify", "page", "screen", "group", "alias")
]
