"""Claims on outbox rows: a live sender keeps its claim fresh (a heartbeat), a dead sender's
rows are taken over minutes later, and a stalled sender does not send what was taken over.

The outbox loop is the same for every kind of row; these tests drive it with password-reset
rows and a test ``Outbox`` whose e-mails take their time."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections import Counter
from collections.abc import Callable
from unittest.mock import patch

import pytest
from django.core import mail
from django.core.mail import EmailMessage
from django.utils import timezone

from notifications.models import DeliveryStatus, PasswordResetMail
from notifications.outbox import DeliveryReport, Outbox, outbox_deliver
from notifications.services import outbox_claims_stale_at
from notifications.tasks import send_reminders

pytestmark = pytest.mark.django_db


class SlowOutbox(Outbox[PasswordResetMail]):
    """Each e-mail takes ``seconds``; ``during`` runs before the n-th e-mail (1-based)."""

    model = PasswordResetMail

    def __init__(self, seconds: float, during: dict[int, Callable[[], None]] | None = None):
        self.seconds = seconds
        self.during = during or {}
        self.built = 0

    def message(self, group: list[PasswordResetMail], now: dt.datetime) -> EmailMessage:
        self.built += 1
        if self.built in self.during:
            self.during[self.built]()
        time.sleep(self.seconds)
        return EmailMessage("x", "x", to=[group[0].recipient_email])


def rows(count: int) -> list[str]:
    emails = [f"person{n}@tinh.example" for n in range(count)]
    PasswordResetMail.objects.bulk_create(
        PasswordResetMail(recipient_email=email, created_at=timezone.now()) for email in emails
    )
    return emails


def delivered() -> Counter[str]:
    return Counter(address for message in mail.outbox for address in message.to)


def test_a_live_senders_claim_stays_fresh_so_nobody_takes_its_rows(settings):
    """The run takes 2 s, twice the stale window: without the heartbeat, a second sender
    starting midway would find the first one's remaining claims stale and send them again."""
    settings.NOTIFICATIONS_STALE_CLAIM_SECONDS = 1
    emails = rows(5)
    second = DeliveryReport()

    def another_sender() -> None:
        outbox_deliver(SlowOutbox(0), now=timezone.now(), report=second)

    first = outbox_deliver(
        SlowOutbox(0.4, during={4: another_sender}), now=timezone.now(), report=DeliveryReport()
    )

    assert first.emails_sent == 5 and second.emails_sent == 0
    assert delivered() == Counter(emails)


def test_a_dead_senders_rows_are_taken_over_once_its_claim_is_stale(settings):
    settings.NOTIFICATIONS_STALE_CLAIM_SECONDS = 300
    emails = rows(3)
    claimed_at = timezone.now() - dt.timedelta(seconds=200)
    PasswordResetMail.objects.update(
        status=DeliveryStatus.SENDING, claim_token=uuid.uuid4(), claimed_at=claimed_at
    )

    early = outbox_deliver(SlowOutbox(0), now=timezone.now(), report=DeliveryReport())
    assert early.emails_sent == 0, "a claim younger than the window is left alone"
    assert outbox_claims_stale_at() == claimed_at + dt.timedelta(seconds=300)

    PasswordResetMail.objects.update(claimed_at=claimed_at - dt.timedelta(seconds=101))
    late = outbox_deliver(SlowOutbox(0), now=timezone.now(), report=DeliveryReport())
    assert late.emails_sent == 3
    assert delivered() == Counter(emails)
    assert outbox_claims_stale_at() is None


def test_a_run_that_leaves_claims_behind_schedules_the_take_over(settings):
    """A worker killed mid-send leaves claims; the next run (the redelivered message) cannot
    take them yet, so it schedules a delivery for when they go stale."""
    settings.NOTIFICATIONS_STALE_CLAIM_SECONDS = 300
    rows(1)
    claimed_at = timezone.now() - dt.timedelta(seconds=60)
    PasswordResetMail.objects.update(
        status=DeliveryStatus.SENDING, claim_token=uuid.uuid4(), claimed_at=claimed_at
    )
    with patch("notifications.tasks.deliver_notifications.apply_async") as schedule:
        send_reminders(now="2026-07-01T08:00:00+07:00")
    (call,) = schedule.call_args_list
    assert call.kwargs["kwargs"] == {"now": "2026-07-01T08:00:00+07:00"}
    assert 230 <= call.kwargs["countdown"] <= 242


def test_a_stalled_sender_does_not_send_rows_another_sender_took_over(settings):
    """The first e-mail stalls past the stale window and another sender takes over the rest:
    the heartbeat notices and the stalled sender leaves those rows to it."""
    settings.NOTIFICATIONS_STALE_CLAIM_SECONDS = 1
    emails = rows(4)

    def taken_over() -> None:
        PasswordResetMail.objects.filter(recipient_email__in=emails[1:]).update(
            claim_token=uuid.uuid4(), claimed_at=timezone.now()
        )

    report = outbox_deliver(
        SlowOutbox(0.3, during={1: taken_over}), now=timezone.now(), report=DeliveryReport()
    )
    assert report.emails_sent == 1
    assert delivered() == Counter(emails[:1])
