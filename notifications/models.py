"""Notifications: every message the system must send is first a row.

The row's unique key (task, rule, step, deadline, recipient) is what makes "exactly once per
step" hold when the schedule fires twice or two workers sweep at once: the second insert is
ignored, and a sender must claim a row (a conditional UPDATE) before it sends.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from plans.models import Task, Unit, User


class NotificationQuerySet(models.QuerySet["Notification"]):
    def deliverable(self, now: dt.datetime, stale_before: dt.datetime) -> NotificationQuerySet:
        """Rows a sender may claim now: new, failed and due for a retry, or claimed by a sender
        that has not finished in time (it died: at-least-once, see docs/reminders.md)."""
        return self.filter(
            Q(status=Notification.Status.PENDING)
            | Q(status=Notification.Status.FAILED, next_attempt_at__lte=now)
            | Q(status=Notification.Status.SENDING, claimed_at__lt=stale_before)
        )


class Notification(models.Model):
    class Rule(models.TextChoices):
        OVERDUE = "overdue", _("Overdue")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENDING = "sending", _("Being sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed, will retry")
        SKIPPED = "skipped", _("Skipped: no longer due")

    task = models.ForeignKey(
        Task, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("task")
    )
    rule = models.CharField(_("rule"), max_length=30, choices=Rule.choices)
    step = models.PositiveSmallIntegerField(
        _("step"), help_text=_("Which reminder of the rule's cadence this is, from 1.")
    )
    deadline = models.DateField(
        _("deadline"), help_text=_("The deadline the step counts from; a new deadline restarts it.")
    )
    recipient_email = models.EmailField(_("recipient e-mail"))
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
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"))
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    claim_token = models.UUIDField(null=True, blank=True, editable=False, db_index=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["task", "rule", "step", "deadline", "recipient_email"],
                name="notification_once_per_step",
            ),
            models.CheckConstraint(
                condition=Q(recipient_email=models.functions.Lower("recipient_email")),
                name="notification_email_lowercase",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_rule_display()} #{self.step} – {self.task} → {self.recipient_email}"

    @staticmethod
    def new_claim_token() -> uuid.UUID:
        return uuid.uuid4()
