from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "qualify.sla"
    label = "sla"
