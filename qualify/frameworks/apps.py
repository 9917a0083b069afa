from django.apps import AppConfig


class FrameworksConfig(AppConfig):
    name = "qualify.frameworks"
    label = "frameworks"
