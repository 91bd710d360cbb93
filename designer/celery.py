"""The Celery app of scaled deployments: workers run steps from their compute target's queue.

    celery -A designer worker -Q local,atelier.control --pool threads --concurrency 2
    celery -A designer beat

Threads, not forked pool processes: a worker keeps one warm step server (steps are still
processes of their own) and one registry of the steps it runs, which cancel requests reach.
"""
from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "designer.settings")

app = Celery("atelier")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["designer.runs"])
