from django.apps import AppConfig


class AbmConfig(AppConfig):
    name = "qualify.abm"
    label = "abm"
    verbose_name = "Accounts: engagement, buying committee, MQA"
