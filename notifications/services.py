"""The public actions of notifications: what the schedule, the commands and the admin call.

- Reminders: ``reminders_send_due`` (the sweep: ``notifications_create_due`` records what
  ``sweep.reminders_due`` derives, ``notifications_deliver`` sends it through the outbox).
- The steering committee's report pack, monthly or quarterly: ``monthly_report_send_due`` (the
  daily job, named when the pack was only monthly), ``report_send`` (one period:
  ``report_deliveries_create`` then ``report_deliveries_deliver``).
- Password resets: ``password_reset_request`` (what the public page records),
  ``password_resets_deliver`` (what the worker sends).
- ``outbox_claims_stale_at``: when a (possibly dead) sender's claims can be taken over.

Delivery is at-least-once for a sender that dies mid-send and exactly-once otherwise: see
``notifications.outbox`` and docs/reminders.md.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from notifications.changes import SweepMarker
from notifications.events import events_due
from notifications.models import Notification, PasswordResetMail, ReportDelivery
from notifications.outbox import (
    DeliveryReport,
    claims_stale_at,
    outbox_deliver,
    rows_insert_counted,
)
from notifications.password_reset import PasswordResetOutbox, password_reset_rows_purge
from notifications.recipients import committee_recipients
from notifications.reminder_outbox import ReminderOutbox
from notifications.report_outbox import ReportOutbox, ReportSendResult
from notifications.report_schedule import period_due
from notifications.sweep import (
    Audiences,
    DueReminder,
    SweepReport,
    recorded_keys,
    reminders_due,
    work_calendar,
)
from plans.accounts import reset_request_allowed
from plans.periods import Period

logger = logging.getLogger(__name__)


def _record(due: list[DueReminder], now: dt.datetime, report: SweepReport) -> list[DueReminder]:
    """Record the rows of ``due`` that have none yet. A concurrent run inserting the same keys
    is harmless: the unique constraint keeps one row and the other insert is ignored; each row
    is counted as new (``report.created``) by the one run whose insert made it."""
    existing = recorded_keys(due)
    # Sorted (tasks' rows, then items'), so concurrent runs insert in the same order.
    new = sorted(
        (d for d in due if d.key not in existing),
        key=lambda d: (d.key[0] or 0, d.key[1] or 0, *d.key[2:]),
    )
    inserted = rows_insert_counted(
        Notification,
        [
            Notification(
                task=d.task,
                item=d.item,
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
    )
    report.due += len(due)
    report.created += inserted
    return new


def notifications_create_due(
    *, now: dt.datetime, report: SweepReport | None = None
) -> list[DueReminder]:
    """Record the due reminders that have no row yet: the steps not recorded, and every step of
    the units and groups whose people changed since the last sweep, which then remembers them
    (``sweep.Audiences``), and that it was complete (``changes.SweepMarker``): both only after
    the rows are in, in one transaction, so a sweep that fails looks again. Nothing is derived
    on the same day when nothing changed since the last complete sweep."""
    audiences = Audiences()
    mark = SweepMarker()
    due = reminders_due(now=now, audiences=audiences, mark=mark)
    new = _record(due, now, report or SweepReport())
    if audiences.changed() or mark.derived:
        with transaction.atomic():
            audiences.save()
            mark.complete()
    return new


def events_record(
    *,
    now: dt.datetime | None = None,
    task_ids: Iterable[int] | None = None,
    report: SweepReport | None = None,
) -> list[DueReminder]:
    """Record the events (decisions, new tasks) of the last days that have no row yet: they
    are in the people's inbox from then on. ``task_ids`` limits the look to some tasks (what
    just changed); without it, every task. Any day: news is not a reminder."""
    now = now or timezone.now()
    return _record(events_due(now=now, task_ids=task_ids), now, report or SweepReport())


def events_send_due(*, now: dt.datetime | None = None) -> SweepReport:
    """The short-interval run: record new events and e-mail them, except to people who want
    them only in the morning's e-mail. Any day, since it sends news, not reminders."""
    now = now or timezone.now()
    report = SweepReport()
    events_record(now=now, report=report)
    outbox_deliver(ReminderOutbox(between_sweeps=True, events_only=True), now=now, report=report)
    return report


def notifications_deliver(
    *, now: dt.datetime, report: SweepReport | None = None, between_sweeps: bool = False
) -> SweepReport:
    """Send every deliverable reminder, one e-mail per recipient listing all their rows.
    Nothing is sent on a weekend, a public holiday or an announced day off. ``between_sweeps``
    (the retry run) leaves alone the events of people who want them in the morning only."""
    report = report or SweepReport()
    if not work_calendar(timezone.localdate(now)).is_working_day(timezone.localdate(now)):
        return report
    outbox_deliver(ReminderOutbox(between_sweeps=between_sweeps), now=now, report=report)
    return report


def reminders_send_due(*, now: dt.datetime | None = None) -> SweepReport:
    """The scheduled sweep: record what is due at ``now``, then deliver everything deliverable,
    the events held for the morning's e-mail included (events are recorded by their own
    short-interval run, ``events_send_due``). Safe to run twice, concurrently, or again after
    a crash."""
    now = now or timezone.now()
    report = SweepReport()
    notifications_create_due(now=now, report=report)
    notifications_deliver(now=now, report=report)
    logger.info("Reminder sweep at %s: %s", now.isoformat(), report.as_dict())
    return report


def report_deliveries_create(*, period: Period, now: dt.datetime) -> ReportSendResult:
    """One row per committee member for ``period``; a row that exists is left as it is."""
    result = ReportSendResult(period=period)
    recipients = {r.email: r for r in committee_recipients()}
    result.recipients = sorted(recipients)
    rows = ReportDelivery.objects.filter(period=period.start, kind=period.kind)
    existing = set(
        rows.filter(recipient_email__in=recipients).values_list("recipient_email", flat=True)
    )
    new = [
        ReportDelivery(
            period=period.start,
            kind=period.kind,
            recipient_email=email,
            recipient=r.user,
            created_at=now,
        )
        for email, r in sorted(recipients.items())
        if email not in existing
    ]
    # A concurrent run that inserted the same row first wins, silently, and counts it.
    result.created = rows_insert_counted(ReportDelivery, new)
    return result


def report_deliveries_deliver(
    *, now: dt.datetime, result: ReportSendResult | None = None
) -> ReportSendResult:
    """Send each deliverable row its period's pack, a bounded batch of people at a time."""
    result = result or ReportSendResult()
    outbox_deliver(ReportOutbox(), now=now, report=result)
    return result


def report_send(*, period: Period, now: dt.datetime | None = None) -> ReportSendResult:
    """Record the period's rows and send what is deliverable: what the schedule and
    ``manage.py send_report`` run. A second run for the same period sends nothing new."""
    now = now or timezone.now()
    result = report_deliveries_create(period=period, now=now)
    report_deliveries_deliver(now=now, result=result)
    logger.info("Report pack %s: %s", period.slug, result.as_dict())
    return result


def monthly_report_send_due(*, now: dt.datetime | None = None) -> dict[str, object]:
    """The scheduled job (daily at 08:00): on the sending day, the pack of the period just
    ended (a month or a quarter, ``REPORTS_PERIOD``); every day, retries of packs that
    failed."""
    now = now or timezone.now()
    period = period_due(now)
    if period is not None:
        return report_send(period=period, now=now).as_dict()
    return report_deliveries_deliver(now=now).as_dict()


def password_reset_request(*, email: str, now: dt.datetime | None = None) -> bool:
    """Record a reset e-mail for ``email``, any address, known or not: the same work either way,
    so the page's answer and timing tell nothing. Nothing is recorded past the address's hourly
    limit. True when a row was recorded (the caller then wakes the sender)."""
    email = email.strip().lower()
    if not reset_request_allowed(email):
        return False
    PasswordResetMail.objects.create(recipient_email=email, created_at=now or timezone.now())
    return True


def password_resets_deliver(*, now: dt.datetime | None = None) -> DeliveryReport:
    """Send the waiting reset e-mails (skipping addresses no active account has), then remove
    finished rows older than a week."""
    now = now or timezone.now()
    report = outbox_deliver(PasswordResetOutbox(), now=now, report=DeliveryReport())
    password_reset_rows_purge(now=now)
    return report


def outbox_claims_stale_at() -> dt.datetime | None:
    """When the oldest claim any sender holds (reminders, packs, resets) goes stale, or None:
    the schedule runs a delivery then, so a dead sender's rows wait minutes, not until the next
    sweep (three queries)."""
    times = [
        at
        for model in (Notification, ReportDelivery, PasswordResetMail)
        if (at := claims_stale_at(model)) is not None
    ]
    return min(times, default=None)
