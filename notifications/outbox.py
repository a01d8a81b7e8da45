"""The one delivery loop for every outbox row (reminders and the monthly report pack).

Claim, check the row is still due, send, record the outcome, retry with back-off: written once
here; what differs between kinds of row (which rows go in one e-mail, what "still due" means,
the message) is an ``Outbox`` subclass's hooks.

Exactly once, except for a sender killed mid-send: a batch is claimed with one conditional
UPDATE (only the sender whose UPDATE changed a row sends it), and each e-mail's outcome is
written right after it is sent. Rows claimed by a sender that died are claimed again after
``stale_claim()``: at-least-once for that window only (see docs/reminders.md).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db.models import F, QuerySet
from django.utils import timezone

from notifications.models import DeliveryStatus, OutboxRow

logger = logging.getLogger(__name__)

RowT = TypeVar("RowT", bound=OutboxRow)

RETRY_FIRST = dt.timedelta(minutes=15)
RETRY_MAX = dt.timedelta(hours=6)


@dataclass
class DeliveryReport:
    """What a delivery run did: e-mails sent, and rows sent, failed or skipped as moot."""

    emails_sent: int = 0
    rows_sent: int = 0
    rows_failed: int = 0
    rows_skipped: int = 0
    errors: list[str] = field(default_factory=list)


class Outbox(Generic[RowT]):
    """What one kind of row needs from the loop. Subclasses set ``model`` and ``noun`` and
    implement ``message``; the other hooks have defaults."""

    model: type[RowT]
    noun: str = "a message"  # for the log: "Sending <noun> to <address> failed"
    # Addresses claimed at a time: bounded so one batch always finishes well within the stale
    # claim time (batch * EMAIL_TIMEOUT), and so a run's queries grow with batches, not rows.
    batch_recipients: int = 25

    def claimed(self, rows: QuerySet[RowT]) -> QuerySet[RowT]:
        """The claimed rows as the other hooks need them (related objects, annotations)."""
        return rows.order_by("recipient_email", "pk")

    def still_due(self, rows: list[RowT], now: dt.datetime) -> list[RowT]:
        """The rows whose reason to send is still there; the others are skipped, not sent."""
        return rows

    def groups(self, rows: list[RowT]) -> list[list[RowT]]:
        """The rows in one e-mail each: by default, everything for one address."""
        by_email: dict[str, list[RowT]] = {}
        for row in rows:
            by_email.setdefault(row.recipient_email, []).append(row)
        return list(by_email.values())

    def message(self, group: list[RowT], now: dt.datetime) -> EmailMessage:
        raise NotImplementedError


def stale_claim() -> dt.timedelta:
    """A claim older than this (NOTIFICATIONS_STALE_CLAIM_SECONDS) belongs to a sender that
    died; its rows are sent again."""
    return dt.timedelta(seconds=settings.NOTIFICATIONS_STALE_CLAIM_SECONDS)


def retry_at(now: dt.datetime, attempts: int) -> dt.datetime:
    """15 minutes after the first failure, doubling, at most 6 hours apart."""
    return now + min(RETRY_FIRST * (2 ** max(attempts - 1, 0)), RETRY_MAX)


def outbox_deliver(
    outbox: Outbox[RowT], *, now: dt.datetime, report: DeliveryReport
) -> DeliveryReport:
    """Send every deliverable row of ``outbox``, a bounded batch of addresses at a time."""
    model = outbox.model
    # Claims are about live processes, so they use the wall clock, not the run's ``now``
    # (which an operator or a test may set to another day).
    stale_before = timezone.now() - stale_claim()
    while True:
        emails = list(
            model.objects.deliverable(now, stale_before)
            .order_by("recipient_email")
            .values_list("recipient_email", flat=True)
            .distinct()[: outbox.batch_recipients]
        )
        if not emails:
            return report
        token = model.new_claim_token()
        claimed = (
            model.objects.deliverable(now, stale_before)
            .filter(recipient_email__in=emails)
            .update(status=DeliveryStatus.SENDING, claim_token=token, claimed_at=timezone.now())
        )
        if claimed:
            _deliver_claimed(outbox, token, now, report)


def _deliver_claimed(
    outbox: Outbox[RowT], token: object, now: dt.datetime, report: DeliveryReport
) -> None:
    model = outbox.model
    rows = list(
        outbox.claimed(model.objects.filter(claim_token=token, status=DeliveryStatus.SENDING))
    )
    due = outbox.still_due(rows, now)
    kept = {row.pk for row in due}
    skipped = [row.pk for row in rows if row.pk not in kept]
    if skipped:
        model.objects.filter(pk__in=skipped).update(status=DeliveryStatus.SKIPPED, claim_token=None)
        report.rows_skipped += len(skipped)
    groups = outbox.groups(due)
    if not groups:
        return

    try:
        connection = get_connection()
        connection.open()
    except Exception as exc:  # any failure to reach the mail server fails the whole batch
        for group in groups:
            _mark_failed(outbox, group, exc, now, report)
        return
    try:
        for group in groups:
            try:
                if connection.send_messages([outbox.message(group, now)]) != 1:
                    raise RuntimeError("the mail backend accepted no message")
            except Exception as exc:  # recorded on the rows and retried later
                _mark_failed(outbox, group, exc, now, report)
                continue
            model.objects.filter(pk__in=[row.pk for row in group]).update(
                status=DeliveryStatus.SENT,
                sent_at=now,
                attempts=F("attempts") + 1,
                last_error="",
                claim_token=None,
            )
            report.emails_sent += 1
            report.rows_sent += len(group)
    finally:
        connection.close()


def _mark_failed(
    outbox: Outbox[RowT],
    group: list[RowT],
    exc: BaseException,
    now: dt.datetime,
    report: DeliveryReport,
) -> None:
    error = f"{type(exc).__name__}: {exc}"[:2000]
    email = group[0].recipient_email
    attempts = max(row.attempts for row in group) + 1
    logger.warning("Sending %s to %s failed (attempt %d): %s", outbox.noun, email, attempts, error)
    outbox.model.objects.filter(pk__in=[row.pk for row in group]).update(
        status=DeliveryStatus.FAILED,
        attempts=F("attempts") + 1,
        last_error=error,
        next_attempt_at=retry_at(now, attempts),
        claim_token=None,
    )
    report.rows_failed += len(group)
    report.errors.append(f"{email}: {error}")
