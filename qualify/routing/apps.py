from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "qualify.routing"
    label = "routing"
