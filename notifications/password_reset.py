"""Password-reset (and account activation) e-mails, sent from the background.

Sent in the request, the reset page took 90–156 ms for a known address and 5–47 ms for an
unknown one: anyone could tell which addresses have accounts. Now the page only records a
``PasswordResetMail`` row for the address typed and wakes the sender after the transaction
commits, the same work for any address; the sender (the one outbox loop,
``notifications.outbox``) looks the address up and sends the usual Django reset e-mail, or skips
the row when no active account has the address.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMultiAlternatives
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from notifications.models import PasswordResetMail
from notifications.outbox import Outbox
from plans.accounts import reset_recipients
from plans.models import User

# A request not sent within this long (mail server down all day) is dropped: the person has
# asked again or given up, and an old reset e-mail arriving out of the blue only confuses.
REQUEST_EXPIRES = dt.timedelta(days=1)
# Finished rows are removed after this long: they hold addresses people typed.
KEEP_ROWS = dt.timedelta(days=7)


class PasswordResetOutbox(Outbox[PasswordResetMail]):
    """One e-mail per address (several requests waiting for the same address make one e-mail),
    to the active account that has it; a row no active account has is skipped."""

    model = PasswordResetMail
    noun = "a password reset"

    def __init__(self) -> None:
        self.accounts: dict[str, User] = {}

    def claimed(self, rows: QuerySet[PasswordResetMail]) -> QuerySet[PasswordResetMail]:
        return rows.order_by("recipient_email", "pk")

    def still_due(self, rows: list[PasswordResetMail], now: dt.datetime) -> list[PasswordResetMail]:
        fresh = [row for row in rows if row.created_at >= now - REQUEST_EXPIRES]
        self.accounts = {
            user.email.lower(): user
            for user in reset_recipients({row.recipient_email for row in fresh})
        }
        return [row for row in fresh if row.recipient_email in self.accounts]

    def message(self, group: list[PasswordResetMail], now: dt.datetime) -> EmailMultiAlternatives:
        return reset_message(self.accounts[group[0].recipient_email])


def reset_message(user: User) -> EmailMultiAlternatives:
    """Django's reset e-mail (its templates, its token), with the link on ``SITE_URL``: there
    is no request to take the host from."""
    site = urlsplit(settings.SITE_URL)
    context = {
        "email": user.email,
        "domain": site.netloc,
        "site_name": site.netloc,
        "uid": urlsafe_base64_encode(force_bytes(user.pk)),
        "user": user,
        "token": default_token_generator.make_token(user),
        "protocol": site.scheme or "https",
    }
    with translation.override(user.language or settings.LANGUAGE_CODE):
        subject = render_to_string("registration/password_reset_subject.txt", context)
        body = render_to_string("registration/password_reset_email.html", context)
    return EmailMultiAlternatives(" ".join(subject.split()), body, to=[user.email])


def password_reset_rows_purge(*, now: dt.datetime) -> int:
    """Remove finished rows older than a week; the number removed."""
    deleted, _by_model = (
        PasswordResetMail.objects.filter(created_at__lt=now - KEEP_ROWS)
        .exclude(status=PasswordResetMail.Status.SENDING)
        .delete()
    )
    return deleted
