"""The Celery application: workers and beat load Django settings prefixed CELERY_."""

import os

from celery import Celery

from qualify import broker

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qualify.settings")

broker.install()  # before any channel exists: see qualify/broker.py
app = Celery("qualify")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
