from django.apps import AppConfig


class DedupeConfig(AppConfig):
    name = "qualify.dedupe"
    label = "dedupe"
    verbose_name = "Duplicates"
