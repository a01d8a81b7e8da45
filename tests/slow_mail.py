"""A file e-mail backend that takes its time, like a slow SMTP server: used by the test that
kills a Celery worker in the middle of a run (it has to be importable by the worker process)."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence

from django.core.mail import EmailMessage

from dtiplan.mail import FilePerMessageBackend


class SlowFilePerMessageBackend(FilePerMessageBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        time.sleep(float(os.environ.get("SLOW_MAIL_SECONDS", "0.5")))
        return super().send_messages(email_messages)
