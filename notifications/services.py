"""The public actions of notifications: what the schedule, the commands and the admin call.

- Reminders: ``reminders_send_due`` (the sweep: ``notifications_create_due`` records what
  ``sweep.reminders_due`` derives, ``notifications_deliver`` sends it through the outbox).
- The monthly report pack: ``monthly_report_send_due`` (the daily job), ``report_send`` (one
  period: ``report_deliveries_create`` then ``report_deliveries_deliver``).

Delivery is at-least-once for a sender that dies mid-send and exactly-once otherwise: see
``notifications.outbox`` and docs/reminders.md.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.utils import timezone

from notifications.models import Notification, ReportDelivery
from notifications.outbox import outbox_deliver
from notifications.recipients import committee_recipients
from notifications.reminder_outbox import ReminderOutbox
from notifications.report_outbox import ReportOutbox, ReportSendResult
from notifications.report_schedule import period_due
from notifications.sweep import (
    DueReminder,
    SweepReport,
    recorded_keys,
    reminders_due,
    work_calendar,
)

logger = logging.getLogger(__name__)


def notifications_create_due(
    *, now: dt.datetime, report: SweepReport | None = None
) -> list[DueReminder]:
    """Record the due reminders that have no row yet. A concurrent sweep inserting the same
    keys is harmless: the unique constraint keeps one row and the other insert is ignored."""
    report = report or SweepReport()
    due = reminders_due(now=now)
    existing = recorded_keys(due)
    new = [d for d in due if d.key not in existing]
    Notification.objects.bulk_create(
        [
            Notification(
                task=d.task,
                rule=d.step.rule,
                step=d.step.step,
                anchor_date=d.step.anchor,
                recipient_email=d.recipient.email,
                recipient=d.recipient.user,
                unit=d.recipient.unit,
                created_at=now,
            )
            for d in new
        ],
        ignore_conflicts=True,
        batch_size=500,
    )
    report.due += len(due)
    report.created += len(new)
    return new


def notifications_deliver(*, now: dt.datetime, report: SweepReport | None = None) -> SweepReport:
    """Send every deliverable reminder, one e-mail per recipient listing all their rows.
    Nothing is sent on a weekend, a public holiday or an announced day off."""
    report = report or SweepReport()
    if not work_calendar(timezone.localdate(now)).is_working_day(timezone.localdate(now)):
        return report
    outbox_deliver(ReminderOutbox(), now=now, report=report)
    return report


def reminders_send_due(*, now: dt.datetime | None = None) -> SweepReport:
    """The scheduled sweep: record what is due at ``now``, then deliver everything deliverable.
    Safe to run twice, concurrently, or again after a crash."""
    now = now or timezone.now()
    report = SweepReport()
    notifications_create_due(now=now, report=report)
    notifications_deliver(now=now, report=report)
    logger.info("Reminder sweep at %s: %s", now.isoformat(), report.as_dict())
    return report


def report_deliveries_create(*, period: dt.date, now: dt.datetime) -> ReportSendResult:
    """One row per committee member for ``period``; a row that exists is left as it is."""
    result = ReportSendResult(period=period)
    recipients = {r.email: r for r in committee_recipients()}
    result.recipients = sorted(recipients)
    existing = set(
        ReportDelivery.objects.filter(period=period, recipient_email__in=recipients).values_list(
            "recipient_email", flat=True
        )
    )
    new = [
        ReportDelivery(period=period, recipient_email=email, recipient=r.user, created_at=now)
        for email, r in recipients.items()
        if email not in existing
    ]
    # ignore_conflicts: a concurrent run that inserted the same row first wins, silently.
    ReportDelivery.objects.bulk_create(new, ignore_conflicts=True)
    result.created = len(new)
    return result


def report_deliveries_deliver(
    *, now: dt.datetime, result: ReportSendResult | None = None
) -> ReportSendResult:
    """Send each deliverable row its period's pack, a bounded batch of people at a time."""
    result = result or ReportSendResult()
    outbox_deliver(ReportOutbox(), now=now, report=result)
    return result


def report_send(*, period: dt.date, now: dt.datetime | None = None) -> ReportSendResult:
    """Record the period's rows and send what is deliverable: what the schedule and
    ``manage.py send_report`` run. A second run for the same period sends nothing new."""
    now = now or timezone.now()
    result = report_deliveries_create(period=period, now=now)
    report_deliveries_deliver(now=now, result=result)
    logger.info("Monthly report %s: %s", period.isoformat(), result.as_dict())
    return result


def monthly_report_send_due(*, now: dt.datetime | None = None) -> dict[str, object]:
    """The scheduled job (daily at 08:00): on the sending day, the previous month's pack;
    every day, retries of packs that failed."""
    now = now or timezone.now()
    period = period_due(now)
    if period is not None:
        return report_send(period=period, now=now).as_dict()
    return report_deliveries_deliver(now=now).as_dict()
