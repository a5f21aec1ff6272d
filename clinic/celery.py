"""The Celery application. Settings come from Django's, under the CELERY_ prefix."""

import os

from celery import Celery

# Celery's command line imports this module before Django is set up.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")

app = Celery("clinic")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
