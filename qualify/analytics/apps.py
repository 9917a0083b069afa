from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "qualify.analytics"
    label = "analytics"
