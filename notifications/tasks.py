"""Celery tasks: thin wrappers that own scheduling and retries; the work is in services."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.utils import timezone

from notifications.clock import parse_now
from notifications.services import (
    monthly_report_send_due,
    notifications_deliver,
    reminders_send_due,
    report_deliveries_deliver,
)


def _now(value: str | None) -> dt.datetime | None:
    return parse_now(value) if value is not None else None


@shared_task(name="notifications.tasks.send_reminders")
def send_reminders(now: str | None = None) -> dict[str, object]:
    """The scheduled sweep. ``now`` (ISO, read as ``--now`` is) is for operators replaying a
    day; the default is now."""
    return reminders_send_due(now=_now(now)).as_dict()


@shared_task(name="notifications.tasks.deliver_notifications")
def deliver_notifications() -> dict[str, object]:
    """Retries failed sends between sweeps (after a mail-server outage), creating nothing new:
    reminders, and report packs whose sending failed."""
    now = timezone.now()
    report_deliveries_deliver(now=now)
    return notifications_deliver(now=now).as_dict()


@shared_task(name="notifications.tasks.send_monthly_report")
def send_monthly_report(now: str | None = None) -> dict[str, object]:
    """Daily at 08:00; sends the previous month's pack only on the configured working day."""
    return monthly_report_send_due(now=_now(now))
