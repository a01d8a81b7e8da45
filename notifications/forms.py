"""The public password-reset page's form: the e-mail is left to the background sender."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.forms import PasswordResetForm
from django.db import transaction

from notifications.services import password_reset_request

logger = logging.getLogger(__name__)


class BackgroundPasswordResetForm(PasswordResetForm):
    """Django's reset form, recording the request instead of sending in the request (see
    ``notifications.password_reset``); both reset pages (the portal's and the admin's) use it."""

    def save(self, *args: Any, **kwargs: Any) -> None:
        if password_reset_request(email=self.cleaned_data["email"]):
            transaction.on_commit(wake_sender)


def wake_sender() -> None:
    """Ask a worker to send now. If the queue cannot be reached the row waits for the
    15-minute delivery job instead: the page must answer the same either way."""
    from notifications.tasks import send_password_resets

    try:
        send_password_resets.apply_async(retry=False)
    except Exception:  # the broker's client raises its own connection errors
        logger.exception("Task queue unavailable; the password reset waits for the next run")
