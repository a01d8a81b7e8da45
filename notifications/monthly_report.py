"""The monthly report pack, e-mailed to the steering committee.

Kept apart from ``services`` (the reminder sweep) because it has its own rows
(``ReportDelivery``) and its own schedule, but the same outbox: a row per (period, recipient) is
recorded first and delivered by ``notifications.outbox``'s loop; so the schedule firing twice,
two workers, or ``manage.py send_report`` on the same day send one pack per person and month.
The pack itself (figures, XLSX, DOCX) is ``plans.reports``' business.

Schedule: beat runs ``monthly_report_send_due`` every day at 08:00; it acts only on the
``REPORTS_MONTHLY_WORKING_DAY``-th working day of the month (1: the first), counted with the
reminders' ``WorkCalendar`` (weekends, public holidays and the coordinators' calendar
exceptions), and sends the pack for the month before.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import timezone, translation

from notifications.models import ReportDelivery
from notifications.outbox import DeliveryReport, Outbox, outbox_deliver
from notifications.recipients import Recipient, RecipientDirectory
from notifications.workdays import WorkCalendar
from plans import roles
from plans.reports.exports import Pack, pack_files

logger = logging.getLogger(__name__)


@dataclass
class ReportSendResult(DeliveryReport):
    period: dt.date | None = None  # None: a run that only retried earlier periods' packs
    recipients: list[str] = field(default_factory=list)
    created: int = 0

    @property
    def sent(self) -> int:
        return self.emails_sent

    @property
    def failed(self) -> int:
        return self.rows_failed

    def as_dict(self) -> dict[str, object]:
        return {
            "period": self.period.isoformat() if self.period else None,
            "created": self.created,
            "sent": self.sent,
            "failed": self.failed,
            "skipped": self.rows_skipped,
        }


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def previous_month(day: dt.date) -> dt.date:
    return month_start(month_start(day) - dt.timedelta(days=1))


def sending_day(month: dt.date) -> dt.date:
    """The day the pack goes out in ``month``: its N-th working day (N from settings)."""
    first = month_start(month)
    calendar = WorkCalendar(first, first + dt.timedelta(days=45))
    day = first if calendar.is_working_day(first) else calendar.add_working_days(first, 1)
    return calendar.add_working_days(day, settings.REPORTS_MONTHLY_WORKING_DAY - 1)


def period_due(now: dt.datetime) -> dt.date | None:
    """The period whose pack is due today, or None on any other day."""
    today = timezone.localdate(now)
    return previous_month(today) if sending_day(today) == today else None


def committee_recipients() -> list[Recipient]:
    """The steering committee's members with an e-mail address (inactive ones are skipped)."""
    return RecipientDirectory([]).groups[roles.STEERING_COMMITTEE]


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


class ReportOutbox(Outbox[ReportDelivery]):
    """Report packs: one e-mail per row (a period's pack to one person), the pack built once
    per period and run; a row whose recipient has left the steering committee (or was switched
    off, or lost their address) is skipped."""

    model = ReportDelivery
    noun = "the report pack"

    def __init__(self) -> None:
        self.packs: dict[dt.date, tuple[Pack, list[tuple[str, bytes, str]]]] = {}

    def claimed(self, rows: QuerySet[ReportDelivery]) -> QuerySet[ReportDelivery]:
        return rows.select_related("recipient").order_by("recipient_email", "period")

    def still_due(self, rows: list[ReportDelivery], now: dt.datetime) -> list[ReportDelivery]:
        committee = {r.email for r in committee_recipients()}
        return [row for row in rows if row.recipient_email in committee]

    def groups(self, rows: list[ReportDelivery]) -> list[list[ReportDelivery]]:
        return [[row] for row in rows]

    def message(self, group: list[ReportDelivery], now: dt.datetime) -> EmailMultiAlternatives:
        (row,) = group
        if row.period not in self.packs:
            with translation.override(settings.LANGUAGE_CODE):
                self.packs[row.period] = pack_files(period=row.period, now=now)
        return _message(row, *self.packs[row.period])


def report_deliveries_deliver(
    *, now: dt.datetime, result: ReportSendResult | None = None
) -> ReportSendResult:
    """Send each deliverable row its period's pack, a bounded batch of people at a time."""
    result = result or ReportSendResult()
    outbox_deliver(ReportOutbox(), now=now, report=result)
    return result


def _message(
    row: ReportDelivery, pack: Pack, files: list[tuple[str, bytes, str]]
) -> EmailMultiAlternatives:
    language = row.recipient.language if row.recipient else settings.LANGUAGE_CODE
    context = {
        "recipient": row.recipient,
        "pack": pack,
        "month": f"{pack.period.month:02d}/{pack.period.year}",
        "url": f"{settings.SITE_URL}/admin/reports/",
    }
    with translation.override(language):
        subject = render_to_string("notifications/email/report_subject.txt", context)
        text = render_to_string("notifications/email/report.txt", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()), body=text, to=[row.recipient_email]
    )
    for name, content, mime in files:
        message.attach(name, content, mime)
    return message


def report_send(*, period: dt.date, now: dt.datetime | None = None) -> ReportSendResult:
    """Record the period's rows and send what is deliverable: what the schedule and
    ``manage.py send_report`` run. A second run for the same period sends nothing new."""
    now = now or timezone.now()
    result = report_deliveries_create(period=period, now=now)
    report_deliveries_deliver(now=now, result=result)
    logger.info("Monthly report %s: %s", period.isoformat(), result.as_dict())
    return result


def report_preview(*, period: dt.date) -> tuple[list[str], list[str]]:
    """(committee members who would receive the period's pack, those it was already sent to)."""
    emails = sorted(r.email for r in committee_recipients())
    sent = set(
        ReportDelivery.objects.filter(period=period, status=ReportDelivery.Status.SENT).values_list(
            "recipient_email", flat=True
        )
    )
    return [e for e in emails if e not in sent], sorted(sent)


def monthly_report_send_due(*, now: dt.datetime | None = None) -> dict[str, object]:
    """The scheduled job (daily at 08:00): on the sending day, the previous month's pack;
    every day, retries of packs that failed."""
    now = now or timezone.now()
    period = period_due(now)
    if period is not None:
        return report_send(period=period, now=now).as_dict()
    return report_deliveries_deliver(now=now).as_dict()
