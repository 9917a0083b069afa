"""The Celery application: workers and beat load Django settings prefixed CELERY_."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qualify.settings")

app = Celery("qualify")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
