from django.apps import AppConfig


class SegmentConfig(AppConfig):
    name = "qualify.segment"
    label = "segment"
    verbose_name = "Segment-compatible tracking API"
