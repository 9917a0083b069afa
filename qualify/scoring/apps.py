from django.apps import AppConfig


class ScoringConfig(AppConfig):
    name = "qualify.scoring"
    label = "scoring"
