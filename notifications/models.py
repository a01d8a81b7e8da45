"""Notifications: every message the system must send is first a row.

The row's unique key (task, rule, step, deadline, recipient; period, recipient for the
committee's report pack) is what makes "exactly once per step" hold when the schedule fires
twice or two workers sweep at once: the second insert is ignored, and a sender must claim a
row (a conditional UPDATE) before it sends.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Self

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from plans.models import SelfAssessmentItem, Task, Unit, User
from plans.periods import MONTH, PERIOD_KINDS, QUARTER, Period


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENDING = "sending", _("Being sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed, will retry")
    SKIPPED = "skipped", _("Skipped: no longer due")


# A row that has failed this many times is shown to the coordinators (the admin's index), with
# its error: by then the mail server has refused it for at least 45 minutes (15 + 30 min of
# back-off), longer than a passing outage.
FAILING_AFTER_ATTEMPTS = 3


class OutboxQuerySet(models.QuerySet):
    def failing(self) -> Self:
        """Rows that keep failing: still to retry, after FAILING_AFTER_ATTEMPTS attempts."""
        return self.filter(status=DeliveryStatus.FAILED, attempts__gte=FAILING_AFTER_ATTEMPTS)

    def deliverable(self, now: dt.datetime, stale_before: dt.datetime) -> Self:
        """Rows a sender may claim now: new, failed and due for a retry, or claimed by a sender
        that has not finished in time (it died: at-least-once, see docs/reminders.md)."""
        return self.filter(
            Q(status=DeliveryStatus.PENDING)
            | Q(status=DeliveryStatus.FAILED, next_attempt_at__lte=now)
            | Q(status=DeliveryStatus.SENDING, claimed_at__lt=stale_before)
        )


class OutboxRow(models.Model):
    """One e-mail's worth of work for one address, written before anything is sent.

    The concrete model's unique key is what makes "exactly once" hold when two runs record the
    same thing; the claim (``claim_token``, ``claimed_at``) is what keeps two senders from
    sending the same row. ``notifications.outbox`` is the one loop that claims, sends and
    records the outcome on these fields, for every kind of row.
    """

    Status = DeliveryStatus

    recipient_email = models.EmailField(_("recipient e-mail"))
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=DeliveryStatus.choices,
        default=DeliveryStatus.PENDING,
        db_index=True,
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"))
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    claim_token = models.UUIDField(null=True, blank=True, editable=False, db_index=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        abstract = True
        constraints = [
            # Addresses are compared as stored: the unique keys must not let "An@x" and "an@x"
            # be two recipients.
            models.CheckConstraint(
                condition=Q(recipient_email=models.functions.Lower("recipient_email")),
                name="%(class)s_email_lowercase",
            ),
        ]

    @staticmethod
    def new_claim_token() -> uuid.UUID:
        return uuid.uuid4()


class NotificationQuerySet(OutboxQuerySet):
    def events(self) -> NotificationQuerySet:
        """Rows telling of something that happened (a decision, a new task), not reminders."""
        return self.filter(rule__in=EVENT_RULES)

    def held_for_digest(self) -> NotificationQuerySet:
        """Event rows of people who want them only in the morning's e-mail: the runs between
        the morning sweeps leave these for it (the inbox shows them at once anyway)."""
        return self.events().filter(recipient__event_emails=User.EventEmails.DIGEST)

    def sendable_now(self) -> NotificationQuerySet:
        """What a run between the morning sweeps may send."""
        return self.exclude(rule__in=EVENT_RULES, recipient__event_emails=User.EventEmails.DIGEST)

    def for_person(self, user: User) -> NotificationQuerySet:
        """What the portal's inbox shows a person: every reminder addressed to them, whether or
        not its e-mail has gone out yet (so a mail outage hides nothing), but not rows that
        became moot before sending."""
        return self.filter(recipient=user).exclude(status=Notification.Status.SKIPPED)

    def unread(self) -> NotificationQuerySet:
        return self.filter(read_at__isnull=True)


class Notification(OutboxRow):
    class Rule(models.TextChoices):
        DUE_SOON = "due_soon", _("Due soon")
        DUE_TODAY = "due_today", _("Due today")
        OVERDUE = "overdue", _("Overdue")
        # Labels read by the person the row is for (the inbox, the e-mail's subject).
        ESCALATE_HEAD = "escalate_head", _("Long overdue in your unit")
        ESCALATE_COORDINATORS = (
            "escalate_coordinators",
            _("Long overdue: to follow up with the lead unit"),
        )
        STEERING_DIGEST = "steering_digest", _("Steering committee's weekly digest")
        NOT_ACKNOWLEDGED = "not_acknowledged", _("Not acknowledged")
        NO_PROGRESS = "no_progress", _("No progress report")
        WAITING_DECISION = "waiting_decision", _("Waiting for a decision")
        # Events: told once, within minutes (notifications.events), not on a cadence.
        ASSIGNED = "assigned", _("New task for your unit")
        EXTENSION_APPROVED = "extension_approved", _("Extension approved")
        EXTENSION_REFUSED = "extension_refused", _("Extension refused")
        COMPLETION_VERIFIED = "completion_verified", _("Completion verified")
        COMPLETION_RETURNED = "completion_returned", _("Completion returned for more work")
        # The self-assessment: rows about one item (``item``), not a task.
        ITEM_DUE_SOON = "item_due_soon", _("Self-assessment item due soon")
        ITEM_OVERDUE = "item_overdue", _("Self-assessment item overdue")
        ITEM_ESCALATE_HEAD = "item_escalate_head", _("Self-assessment item of your unit overdue")
        ITEM_ESCALATE_COORDINATORS = (
            "item_escalate_coordinators",
            _("Self-assessment item overdue: to follow up with the unit"),
        )
        ITEM_RETURNED = "item_returned", _("Self-assessment item returned to your unit")

    # A row is about a task or about a self-assessment item, never both (a check constraint).
    task = models.ForeignKey(
        Task,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("task"),
    )
    item = models.ForeignKey(
        SelfAssessmentItem,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("self-assessment item"),
    )
    rule = models.CharField(_("rule"), max_length=30, choices=Rule.choices)
    # An integer, not a small one: the weekly digest's step is the ISO week, e.g. 202627.
    step = models.PositiveIntegerField(
        _("step"), help_text=_("Which reminder of the rule's cadence this is, from 1.")
    )
    anchor_date = models.DateField(
        _("counted from"),
        help_text=_(
            "The date the rule's steps count from (the deadline, the last report, the week); "
            "a new date, such as an extended deadline, restarts the steps."
        ),
    )
    recipient = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("recipient"),
    )
    unit = models.ForeignKey(
        Unit,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("on behalf of unit"),
    )
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta(OutboxRow.Meta):
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        # The delivery log's order and its date drill-down's first and last day: index reads,
        # not a sort of every row the sweeps recorded.
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="notification_log_order"),
            # The delivery loop's claim (``outbox.outbox_deliver``): the next addresses in order,
            # then their rows. Only rows still to send are in it, so a batch reads its own rows,
            # not every row of every sweep (a scan per batch made delivery grow with the
            # table's size times the number of batches).
            models.Index(
                fields=["recipient_email"],
                condition=Q(
                    status__in=[
                        DeliveryStatus.PENDING,
                        DeliveryStatus.FAILED,
                        DeliveryStatus.SENDING,
                    ]
                ),
                name="notification_claim_order",
            ),
        ]
        constraints = [
            *OutboxRow.Meta.constraints,
            models.UniqueConstraint(
                fields=["task", "rule", "step", "anchor_date", "recipient_email"],
                name="notification_once_per_step",
            ),
            # The task key above never matches an item row (a NULL task is distinct), so the
            # items have their own: once per item, step and recipient.
            models.UniqueConstraint(
                fields=["item", "rule", "step", "anchor_date", "recipient_email"],
                name="notification_item_once_per_step",
            ),
            models.CheckConstraint(
                condition=Q(task__isnull=False, item__isnull=True)
                | Q(task__isnull=True, item__isnull=False),
                name="notification_task_or_item",
            ),
        ]

    def __str__(self) -> str:
        about = self.task if self.task_id else self.item
        return f"{self.get_rule_display()} #{self.step} – {about} → {self.recipient_email}"


EVENT_RULES = frozenset(
    {
        Notification.Rule.ASSIGNED,
        Notification.Rule.EXTENSION_APPROVED,
        Notification.Rule.EXTENSION_REFUSED,
        Notification.Rule.COMPLETION_VERIFIED,
        Notification.Rule.COMPLETION_RETURNED,
    }
)
# Rules about a self-assessment item (the row's ``item``), reminded by the same sweep.
ITEM_RULES = frozenset(
    {
        Notification.Rule.ITEM_DUE_SOON,
        Notification.Rule.ITEM_OVERDUE,
        Notification.Rule.ITEM_ESCALATE_HEAD,
        Notification.Rule.ITEM_ESCALATE_COORDINATORS,
        Notification.Rule.ITEM_RETURNED,
    }
)


class SweepAudience(models.Model):
    """Whom the reminders of one unit's focal points, one unit's heads, or one group went to,
    as the last sweep that recorded rows found them.

    The sweep looks only at steps that have no row yet; a person who joins a unit (or a group)
    after a step was recorded would be missed. So each sweep compares every unit's and group's
    recipients with what it stored here, and looks again at every due step of the tasks and
    items of those whose people changed (``sweep.reminders_due``)."""

    key = models.CharField(max_length=60, unique=True)  # "focal:<unit id>", "heads:…", "group:…"
    emails = models.TextField(blank=True)  # the recipients' addresses, sorted, one a line

    def __str__(self) -> str:
        return self.key


class SweepChange(models.Model):
    """A change to a table the reminders are derived from, since the last complete sweep.

    Written by the database itself (triggers installed by ``notifications.changes``), in the
    changing transaction: a form, ``QuerySet.update``, ``bulk_create``, an import, a delete or
    raw SQL all leave a row, visible exactly when the change is. A complete sweep removes the
    rows it saw; a sweep on the same day that finds none (``SweepMark``) has nothing new to
    derive."""

    table = models.CharField(max_length=63)
    at = models.DateTimeField(db_default=models.functions.Now())

    def __str__(self) -> str:
        return f"{self.table} {self.at}"


class SweepMark(models.Model):
    """The last complete sweep (one row): the day it derived, and a version every completing
    sweep moves on, so a sweep that raced another one never claims to be complete."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    day = models.DateField(null=True)
    version = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.day} v{self.version}"


class CalendarException(models.Model):
    """A day the government announced as a make-up working day or an extra day off."""

    class Kind(models.TextChoices):
        WORKING_DAY = "working_day", _("Working day (make-up)")
        DAY_OFF = "day_off", _("Day off")

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    note = models.CharField(
        _("note"), max_length=255, blank=True, help_text=_("e.g. the announcing document")
    )

    class Meta:
        verbose_name = _("calendar exception")
        verbose_name_plural = _("calendar exceptions")
        ordering = ["-date"]

    def __str__(self) -> str:
        return f"{self.date:%d/%m/%Y} – {self.get_kind_display()}"


def _offsets_validator(value: str) -> None:
    from django.core.exceptions import ValidationError

    try:
        offsets = parse_offsets(value)
    except ValueError:
        offsets = []
    if not offsets:
        raise ValidationError(
            _("Enter whole numbers of days separated by commas, e.g. 7, 3, 1."), code="invalid"
        )


def parse_offsets(value: str) -> list[int]:
    """'7, 3, 1' → [7, 3, 1]: distinct positive numbers, largest first."""
    numbers = {int(part) for part in value.replace(";", ",").split(",") if part.strip()}
    if any(n <= 0 for n in numbers):
        raise ValueError(value)
    return sorted(numbers, reverse=True)


class ReminderPolicy(models.Model):
    """The cadence every reminder follows; one row, edited by coordinators in the admin."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    due_soon_working_days = models.CharField(
        _("due soon: working days before the deadline"),
        max_length=50,
        default="7, 3, 1",
        validators=[_offsets_validator],
    )
    remind_due_today = models.BooleanField(_("remind on the deadline"), default=True)
    overdue_first_day = models.PositiveSmallIntegerField(
        _("overdue: first reminder, days after the deadline"), default=1
    )
    overdue_second_day = models.PositiveSmallIntegerField(
        _("overdue: second reminder, days after the deadline"), default=7
    )
    overdue_repeat_days = models.PositiveSmallIntegerField(
        _("overdue: then every N days"), default=7
    )
    escalate_head_after_days = models.PositiveSmallIntegerField(
        _("escalate to the lead unit's head after N days overdue"), default=7
    )
    escalate_coordinators_after_days = models.PositiveSmallIntegerField(
        _("escalate to the coordinators after N days overdue"), default=14
    )
    steering_digest_after_days = models.PositiveSmallIntegerField(
        _("include in the steering committee's weekly digest after N days overdue"), default=30
    )
    unacknowledged_working_days = models.PositiveSmallIntegerField(
        _("remind a unit that has not acknowledged a new task after N working days"), default=3
    )
    no_progress_days = models.PositiveSmallIntegerField(
        _("remind when an open task has no progress report for N days"), default=30
    )
    decision_waiting_working_days = models.PositiveSmallIntegerField(
        _("remind coordinators of a request waiting for a decision after N working days"),
        default=2,
    )

    class Meta:
        verbose_name = _("reminder policy")
        verbose_name_plural = _("reminder policy")
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="reminderpolicy_single_row"),
            models.CheckConstraint(
                condition=Q(overdue_first_day__gte=1)
                & Q(overdue_second_day__gt=F("overdue_first_day"))
                & Q(overdue_repeat_days__gte=1)
                & Q(escalate_head_after_days__gte=1)
                & Q(escalate_coordinators_after_days__gte=1)
                & Q(steering_digest_after_days__gte=1)
                & Q(unacknowledged_working_days__gte=1)
                & Q(no_progress_days__gte=1)
                & Q(decision_waiting_working_days__gte=1),
                name="reminderpolicy_positive_days",
                violation_error_message=_(
                    "Every number of days must be at least 1, and the second overdue reminder "
                    "must come after the first."
                ),
            ),
        ]

    def __str__(self) -> str:
        return str(_("Reminder policy"))

    @classmethod
    def current(cls) -> ReminderPolicy:
        policy, _created = cls.objects.get_or_create(id=1)
        return policy

    @property
    def due_soon_offsets(self) -> list[int]:
        return parse_offsets(self.due_soon_working_days)

    def overdue_step(self, days_overdue: int) -> int:
        """Which overdue reminder is due after ``days_overdue`` days: 0 (none yet), 1, 2, ..."""
        if days_overdue < self.overdue_first_day:
            return 0
        if days_overdue < self.overdue_second_day:
            return 1
        return 2 + (days_overdue - self.overdue_second_day) // self.overdue_repeat_days


class ReportDelivery(OutboxRow):
    """The report pack for one period (a month or a quarter) to one person.

    Not a ``Notification``: those are about one task, and the pack is about the whole plan.
    The same outbox, though: the row is written first under a unique (period, kind, recipient)
    key and delivered by the same loop, so a schedule that fires twice, or a command run by hand
    on the same day, sends one pack per person and period. The kind is part of the key: July's
    monthly pack and the third quarter's both start on 1 July.
    """

    period = models.DateField(
        _("period"), help_text=_("The first day of the month or quarter the pack reports on.")
    )
    kind = models.CharField(_("period kind"), max_length=8, choices=PERIOD_KINDS, default=MONTH)
    recipient = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="report_deliveries",
        verbose_name=_("recipient"),
    )

    objects = OutboxQuerySet.as_manager()

    class Meta(OutboxRow.Meta):
        verbose_name = _("report delivery")
        verbose_name_plural = _("report deliveries")
        ordering = ["-period", "kind", "recipient_email"]
        constraints = [
            *OutboxRow.Meta.constraints,
            models.UniqueConstraint(
                fields=["period", "kind", "recipient_email"],
                name="report_delivery_once_per_period",
            ),
            models.CheckConstraint(
                condition=Q(period__day=1), name="report_delivery_period_is_a_month"
            ),
            models.CheckConstraint(
                condition=Q(kind=MONTH) | Q(kind=QUARTER, period__month__in=[1, 4, 7, 10]),
                name="report_delivery_period_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.report_period.label} → {self.recipient_email}"

    @property
    def report_period(self) -> Period:
        return Period(self.period, self.kind)


class PasswordResetMail(OutboxRow):
    """A password-reset e-mail someone asked for on the public reset page, to the address they
    typed, sent from the background.

    The page records this row for any address, known or not, and answers at once: it does the
    same work either way, so neither its answer nor its timing tells whether an account exists.
    The sender looks the address up (``plans.accounts.reset_recipients``) and skips a row no
    active account has. Rows are kept a week (what was asked, and whether it went out), then
    removed: they hold addresses people typed.
    """

    objects = OutboxQuerySet.as_manager()

    class Meta(OutboxRow.Meta):
        verbose_name = _("password reset e-mail")
        verbose_name_plural = _("password reset e-mails")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%d/%m/%Y %H:%M} → {self.recipient_email}"
