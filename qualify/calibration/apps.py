from django.apps import AppConfig


class CalibrationConfig(AppConfig):
    name = "qualify.calibration"
    label = "calibration"
    verbose_name = "Calibration"
