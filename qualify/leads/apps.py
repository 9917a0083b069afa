from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "qualify.leads"
    label = "leads"
    verbose_name = "Leads and accounts"
