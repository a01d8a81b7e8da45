"""The reminder sweep: derive what is due from the plan's state, record it, then deliver it.

Delivery is at-least-once for a sender that dies mid-send (its claimed rows are retried after
``STALE_CLAIM``) and exactly-once otherwise: see docs/reminders.md for why and what an operator
sees.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone, translation

from notifications.models import Notification
from notifications.recipients import Recipient, responsible_units, unit_recipients
from plans.models import Task

logger = logging.getLogger(__name__)

# A claim older than this belongs to a sender that died; its rows are sent again.
STALE_CLAIM = dt.timedelta(hours=1)
# Recipients claimed at a time: bounded so one batch always finishes well within STALE_CLAIM
# (BATCH * EMAIL_TIMEOUT), and so a sweep's queries grow with batches, not with rows.
BATCH_RECIPIENTS = 25
RETRY_FIRST = dt.timedelta(minutes=15)
RETRY_MAX = dt.timedelta(hours=6)


@dataclass(frozen=True)
class DueReminder:
    task: Task
    rule: str
    step: int
    recipient: Recipient

    @property
    def key(self) -> tuple[int, str, int, dt.date, str]:
        return (self.task.pk, self.rule, self.step, self.task.deadline, self.recipient.email)


@dataclass
class SweepReport:
    due: int = 0
    created: int = 0
    emails_sent: int = 0
    rows_sent: int = 0
    rows_failed: int = 0
    rows_skipped: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "due": self.due,
            "created": self.created,
            "emails_sent": self.emails_sent,
            "rows_sent": self.rows_sent,
            "rows_failed": self.rows_failed,
            "rows_skipped": self.rows_skipped,
        }


def reminders_due(*, now: dt.datetime) -> list[DueReminder]:
    """Every reminder that should exist at ``now``: for each overdue task, one per focal point
    of its lead and monitoring units (a person who is both gets one). Three queries."""
    tasks = list(Task.objects.overdue(now).with_list_columns())
    units_by_task = responsible_units(tasks)
    all_units = {unit.pk: unit for units in units_by_task.values() for unit in units}
    recipients = unit_recipients(list(all_units.values()), settings.LANGUAGE_CODE)
    due: list[DueReminder] = []
    for task in tasks:
        seen: set[str] = set()
        for unit in units_by_task[task.pk]:
            for recipient in recipients[unit.pk]:
                if recipient.email not in seen:
                    seen.add(recipient.email)
                    due.append(DueReminder(task, Notification.Rule.OVERDUE, 1, recipient))
    return due


def _existing_keys(due: list[DueReminder]) -> set[tuple[int, str, int, dt.date, str]]:
    rows = Notification.objects.filter(task__in={d.task.pk for d in due}).values_list(
        "task_id", "rule", "step", "deadline", "recipient_email"
    )
    return set(rows)


def notifications_create_due(
    *, now: dt.datetime, report: SweepReport | None = None
) -> list[DueReminder]:
    """Record the due reminders that have no row yet. A concurrent sweep inserting the same
    keys is harmless: the unique constraint keeps one row and the other insert is ignored."""
    report = report or SweepReport()
    due = reminders_due(now=now)
    existing = _existing_keys(due) if due else set()
    new = [d for d in due if d.key not in existing]
    Notification.objects.bulk_create(
        [
            Notification(
                task=d.task,
                rule=d.rule,
                step=d.step,
                deadline=d.task.deadline,
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


def _still_due(notification: Notification, now: dt.datetime) -> bool:
    task = notification.task
    if notification.rule == Notification.Rule.OVERDUE:
        return task.is_overdue(now) and task.deadline == notification.deadline
    return True


def _retry_at(now: dt.datetime, attempts: int) -> dt.datetime:
    return now + min(RETRY_FIRST * (2 ** max(attempts - 1, 0)), RETRY_MAX)


def _message(
    recipient_email: str, rows: list[Notification], now: dt.datetime
) -> EmailMultiAlternatives:
    first = rows[0]
    language = first.recipient.language if first.recipient else settings.LANGUAGE_CODE
    items = sorted(
        (
            {
                "task": row.task,
                "days_overdue": row.task.days_overdue(now),
                "url": settings.SITE_URL + row.task.get_absolute_url(),
            }
            for row in rows
        ),
        key=lambda item: (-item["days_overdue"], item["task"].pk),
    )
    context = {
        "items": items,
        "count": len(items),
        "recipient": first.recipient,
        "unit": first.unit,
        "site_url": settings.SITE_URL,
    }
    with translation.override(language):
        subject = render_to_string("notifications/email/overdue_subject.txt", context)
        text = render_to_string("notifications/email/overdue.txt", context)
        html = render_to_string("notifications/email/overdue.html", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()), body=text, to=[recipient_email]
    )
    message.attach_alternative(html, "text/html")
    return message


def notifications_deliver(*, now: dt.datetime, report: SweepReport | None = None) -> SweepReport:
    """Send every deliverable row, one e-mail per recipient listing all their rows.

    Each batch is claimed with one conditional UPDATE, so two senders never hold the same row;
    the outcome (sent, failed with its error and next attempt, or skipped when the task is no
    longer due) is written back per recipient.
    """
    report = report or SweepReport()
    stale_before = now - STALE_CLAIM
    while True:
        emails = list(
            Notification.objects.deliverable(now, stale_before)
            .order_by("recipient_email")
            .values_list("recipient_email", flat=True)
            .distinct()[:BATCH_RECIPIENTS]
        )
        if not emails:
            return report
        token = Notification.new_claim_token()
        claimed = (
            Notification.objects.deliverable(now, stale_before)
            .filter(recipient_email__in=emails)
            .update(status=Notification.Status.SENDING, claim_token=token, claimed_at=now)
        )
        if claimed:
            _deliver_claimed(token, now, report)


def _deliver_claimed(token: object, now: dt.datetime, report: SweepReport) -> None:
    rows = Notification.objects.filter(claim_token=token, status=Notification.Status.SENDING)
    rows = rows.select_related(
        "recipient", "unit", "task__plan", "task__indicator__parent", "task__lead_unit"
    )
    by_email: dict[str, list[Notification]] = defaultdict(list)
    skipped: list[int] = []
    for row in rows:
        if _still_due(row, now):
            by_email[row.recipient_email].append(row)
        else:
            skipped.append(row.pk)
    if skipped:
        Notification.objects.filter(pk__in=skipped).update(
            status=Notification.Status.SKIPPED, claim_token=None
        )
        report.rows_skipped += len(skipped)
    if not by_email:
        return

    sent: list[int] = []
    try:
        connection = get_connection()
        connection.open()
    except Exception as exc:  # any failure to reach the mail server fails the whole batch
        for group in by_email.values():
            _mark_failed(group, exc, now, report)
        return
    try:
        for email, group in by_email.items():
            try:
                if connection.send_messages([_message(email, group, now)]) != 1:
                    raise RuntimeError("the mail backend accepted no message")
            except Exception as exc:  # recorded on the rows and retried later
                _mark_failed(group, exc, now, report)
                continue
            sent.extend(row.pk for row in group)
            report.emails_sent += 1
    finally:
        connection.close()
    if sent:
        Notification.objects.filter(pk__in=sent).update(
            status=Notification.Status.SENT,
            sent_at=now,
            attempts=F("attempts") + 1,
            last_error="",
            claim_token=None,
        )
        report.rows_sent += len(sent)


def _mark_failed(
    group: list[Notification], exc: BaseException, now: dt.datetime, report: SweepReport
) -> None:
    error = f"{type(exc).__name__}: {exc}"[:2000]
    attempts = max(row.attempts for row in group) + 1
    logger.warning(
        "Sending to %s failed (attempt %d): %s", group[0].recipient_email, attempts, error
    )
    Notification.objects.filter(pk__in=[row.pk for row in group]).update(
        status=Notification.Status.FAILED,
        attempts=F("attempts") + 1,
        last_error=error,
        next_attempt_at=_retry_at(now, attempts),
        claim_token=None,
    )
    report.rows_failed += len(group)
    report.errors.append(f"{group[0].recipient_email}: {error}")


def reminders_send_due(*, now: dt.datetime | None = None) -> SweepReport:
    """The scheduled sweep: record what is due at ``now``, then deliver everything deliverable.
    Safe to run twice, concurrently, or again after a crash."""
    now = now or timezone.now()
    report = SweepReport()
    notifications_create_due(now=now, report=report)
    notifications_deliver(now=now, report=report)
    logger.info("Reminder sweep at %s: %s", now.isoformat(), report.as_dict())
    return report
