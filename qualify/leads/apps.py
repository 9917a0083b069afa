from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "qualify.leads"
    label = "leads"
    verbose_name = "Leads and accounts"

    def ready(self) -> None:
        # The apps around the core register what follows a change (settings.QUALIFY_LISTENERS).
        from .changes import load_listeners

        load_listeners()
