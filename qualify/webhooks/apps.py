from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "qualify.webhooks"
    label = "webhooks"
