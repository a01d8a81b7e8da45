"""The Celery application: settings come from Django's (CELERY_ prefix)."""

from __future__ import annotations

import os
from pathlib import Path

from celery import Celery
from celery.signals import beat_init, celeryd_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dtiplan.settings")

app = Celery("dtiplan")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _ensure_filesystem_broker_folders(**_: object) -> None:
    """kombu's filesystem transport does not create its folders; do it before first use."""
    options = app.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if options.get(key):
            Path(options[key]).mkdir(parents=True, exist_ok=True)


celeryd_init.connect(_ensure_filesystem_broker_folders)
beat_init.connect(_ensure_filesystem_broker_folders)
