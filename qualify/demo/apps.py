from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo data generator and its `seed_demo` command; no models."""

    name = "qualify.demo"
    label = "demo"
