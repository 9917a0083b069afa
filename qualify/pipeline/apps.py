from django.apps import AppConfig


class PipelineConfig(AppConfig):
    name = "qualify.pipeline"
    label = "pipeline"
