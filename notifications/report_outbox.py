"""The report pack's outbox (a month's or a quarter's): one e-mail per row, with the pack
attached.

The loop itself (claim, send, record, retry) is ``notifications.outbox``; this module holds what
is particular to the pack: a row goes only to someone still on the steering committee, and the
pack (figures, XLSX, DOCX: ``plans.reports``' business) is built once per period and run.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import translation

from notifications.models import ReportDelivery
from notifications.outbox import DeliveryReport, Outbox
from notifications.recipients import committee_recipients
from plans.periods import QUARTER, Period
from plans.reports.exports import Pack, pack_files


@dataclass
class ReportSendResult(DeliveryReport):
    period: Period | None = None  # None: a run that only retried earlier periods' packs
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
            "period": self.period.slug if self.period else None,
            "created": self.created,
            "sent": self.sent,
            "failed": self.failed,
            "skipped": self.rows_skipped,
        }


class ReportOutbox(Outbox[ReportDelivery]):
    """Report packs: one e-mail per row (a period's pack to one person), the pack built once
    per period and run; a row whose recipient has left the steering committee (or was switched
    off, or lost their address) is skipped."""

    model = ReportDelivery
    noun = "the report pack"

    def __init__(self) -> None:
        self.packs: dict[Period, tuple[Pack, list[tuple[str, bytes, str]]]] = {}

    def claimed(self, rows: QuerySet[ReportDelivery]) -> QuerySet[ReportDelivery]:
        return rows.select_related("recipient").order_by("recipient_email", "period", "kind")

    def still_due(self, rows: list[ReportDelivery], now: dt.datetime) -> list[ReportDelivery]:
        committee = {r.email for r in committee_recipients()}
        return [row for row in rows if row.recipient_email in committee]

    def groups(self, rows: list[ReportDelivery]) -> list[list[ReportDelivery]]:
        return [[row] for row in rows]

    def message(self, group: list[ReportDelivery], now: dt.datetime) -> EmailMultiAlternatives:
        (row,) = group
        period = row.report_period
        if period not in self.packs:
            with translation.override(settings.LANGUAGE_CODE):
                self.packs[period] = pack_files(period=period, now=now)
        return pack_message(row, *self.packs[period])


def pack_message(
    row: ReportDelivery, pack: Pack, files: list[tuple[str, bytes, str]]
) -> EmailMultiAlternatives:
    language = row.recipient.language if row.recipient else settings.LANGUAGE_CODE
    context = {
        "recipient": row.recipient,
        "pack": pack,
        "quarterly": pack.period.kind == QUARTER,
        "url": f"{settings.SITE_URL}/admin/reports/",
    }
    with translation.override(language):
        context["period"] = pack.period.phrase
        subject = render_to_string("notifications/email/report_subject.txt", context)
        text = render_to_string("notifications/email/report.txt", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()), body=text, to=[row.recipient_email]
    )
    for name, content, mime in files:
        message.attach(name, content, mime)
    return message
