from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "qualify.imports"
    label = "imports"
