"""The one delivery loop for every outbox row (reminders and the monthly report pack).

Claim, check the row is still due, send, record the outcome, retry with back-off: written once
here; what differs between kinds of row (which rows go in one e-mail, what "still due" means,
the message) is an ``Outbox`` subclass's hooks.

Exactly once, except for a sender killed mid-send: a batch is claimed with one conditional
UPDATE (only the sender whose UPDATE changed a row sends it), and each e-mail's outcome is
written right after it is sent. A live sender keeps its claim fresh (a heartbeat, at most every
``heartbeat()``, between e-mails), so a claim that has not been refreshed for ``stale_claim()``
belongs to a sender that died, and its rows are claimed again: at-least-once for the e-mail in
flight when the sender died, and only for it (see docs/reminders.md).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.message import EmailAlternative
from django.db import transaction
from django.db.models import F, Min, QuerySet
from django.utils import timezone

from dtiplan.text import printable
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

    def eligible(self, rows: QuerySet[RowT]) -> QuerySet[RowT]:
        """The deliverable rows this run may claim; the others wait for another run."""
        return rows

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
    """A claim not refreshed for this long (NOTIFICATIONS_STALE_CLAIM_SECONDS) belongs to a
    sender that died; its rows are sent again."""
    return dt.timedelta(seconds=settings.NOTIFICATIONS_STALE_CLAIM_SECONDS)


def heartbeat() -> float:
    """Seconds between a live sender's refreshes of its claim: a fifth of the stale window, so
    a claim stays fresh even when one e-mail takes several times longer than usual."""
    return settings.NOTIFICATIONS_STALE_CLAIM_SECONDS / 5


def claims_stale_at(model: type[OutboxRow]) -> dt.datetime | None:
    """When the oldest claim a sender holds on ``model``'s rows goes stale (None: no claim).
    A run scheduled for then takes over the rows if that sender has died meanwhile."""
    oldest = model.objects.filter(status=DeliveryStatus.SENDING).aggregate(at=Min("claimed_at"))
    return oldest["at"] + stale_claim() if oldest["at"] else None


def rows_insert_counted(model: type[RowT], rows: list[RowT]) -> int:
    """Insert ``rows``, ignoring those whose unique key another run recorded first, and return
    how many this call inserted. ``bulk_create(ignore_conflicts=True)`` cannot tell (it returns
    every object given): each row goes in carrying a token of this call, which the same
    transaction reads back and clears, so two concurrent sweeps never both count a row. Rows
    are inserted in the order given: callers sort by key, so two inserts of overlapping keys
    wait on each other instead of deadlocking."""
    if not rows:
        return 0
    token = model.new_claim_token()
    for row in rows:
        row.claim_token = token
    with transaction.atomic():
        model.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
        # Other transactions never see the token: the rows are invisible until the commit,
        # which comes after it is cleared.
        return model.objects.filter(claim_token=token).update(claim_token=None)


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
            outbox.eligible(model.objects.deliverable(now, stale_before))
            .order_by("recipient_email")
            .values_list("recipient_email", flat=True)
            .distinct()[: outbox.batch_recipients]
        )
        if not emails:
            return report
        token = model.new_claim_token()
        claimed = (
            outbox.eligible(model.objects.deliverable(now, stale_before))
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
    beat = _Heartbeat(model, token, [row.pk for row in due])
    try:
        for group in groups:
            if not beat.still_ours(group):
                continue  # taken over by another sender while this one was stalled
            try:
                if connection.send_messages([_printable(outbox.message(group, now))]) != 1:
                    raise RuntimeError("the mail backend accepted no message")
            except Exception as exc:  # recorded on the rows and retried later
                beat.done(group)
                _mark_failed(outbox, group, exc, now, report)
                continue
            beat.done(group)
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


def _printable(message: EmailMessage) -> EmailMessage:
    """The message without the characters no output should carry (``dtiplan.text``): rows
    stored before the forms cleaned their text may hold them, and every kind of e-mail goes
    through here. The subject is one line (a line break in it would be refused as a header)."""
    message.subject = printable(str(message.subject), multiline=False)
    message.body = printable(str(message.body))
    alternatives = getattr(message, "alternatives", None)
    if alternatives:
        message.alternatives = [  # type: ignore[attr-defined]
            EmailAlternative(printable(content) if isinstance(content, str) else content, mime)
            for content, mime in alternatives
        ]
    return message


class _Heartbeat:
    """Keeps a sender's claim fresh while it works through its batch: between e-mails, once
    ``heartbeat()`` seconds have passed, one UPDATE moves ``claimed_at`` of the rows still to
    send to now. An UPDATE that finds fewer rows than expected means another sender took some
    over (this one stalled past the stale window); those are left to it."""

    def __init__(self, model: type[OutboxRow], token: object, pks: list[int]) -> None:
        self.model = model
        self.token = token
        self.pending = set(pks)
        self.lost: set[int] = set()
        self.last = time.monotonic()

    def still_ours(self, group: list[RowT]) -> bool:
        if time.monotonic() - self.last >= heartbeat():
            self.beat()
        return not any(row.pk in self.lost for row in group)

    def beat(self) -> None:
        ours = self.model.objects.filter(
            pk__in=self.pending, claim_token=self.token, status=DeliveryStatus.SENDING
        )
        refreshed = ours.update(claimed_at=timezone.now())
        if refreshed < len(self.pending):
            kept = set(ours.values_list("pk", flat=True))
            self.lost |= self.pending - kept
            self.pending = kept
            logger.warning("%d claimed rows were taken over by another sender", len(self.lost))
        self.last = time.monotonic()

    def done(self, group: list[RowT]) -> None:
        self.pending -= {row.pk for row in group}


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
