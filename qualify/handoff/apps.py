from django.apps import AppConfig


class HandoffConfig(AppConfig):
    name = "qualify.handoff"
    label = "handoff"
