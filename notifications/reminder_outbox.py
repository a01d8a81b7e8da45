"""The reminders' outbox: which claimed rows are still due, and one digest per address.

The loop itself (claim, send, record, retry) is ``notifications.outbox``; this module holds what
is particular to reminders: a row is skipped when its reason went away before it was sent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.mail import EmailMultiAlternatives
from django.db.models import Max, QuerySet
from django.utils import timezone

from notifications.digest import digest_message
from notifications.models import ITEM_RULES, Notification
from notifications.outbox import Outbox
from notifications.recipients import RecipientDirectory
from notifications.rules import Step
from plans.models import (
    Acknowledgement,
    CompletionSubmission,
    ExtensionRequest,
    ProgressUpdate,
)

DECISION_EVENTS = {
    Notification.Rule.EXTENSION_APPROVED,
    Notification.Rule.EXTENSION_REFUSED,
    Notification.Rule.COMPLETION_VERIFIED,
    Notification.Rule.COMPLETION_RETURNED,
}

# Rules whose steps count from the deadline: a changed deadline makes their old rows moot.
DEADLINE_RULES = {
    Notification.Rule.DUE_SOON,
    Notification.Rule.DUE_TODAY,
    Notification.Rule.OVERDUE,
    Notification.Rule.ESCALATE_HEAD,
    Notification.Rule.ESCALATE_COORDINATORS,
    Notification.Rule.STEERING_DIGEST,
}


@dataclass
class _TaskEvents:
    """What happened on the batch's tasks since their rows were recorded (four queries)."""

    acknowledged: set[tuple[int, int]]
    still_waiting: set[tuple[int, dt.date]]
    last_report: dict[int, dt.date]

    @classmethod
    def load(cls, rows: list[Notification]) -> _TaskEvents:
        task_ids = {row.task_id for row in rows if row.task_id}
        acknowledged = set(
            Acknowledgement.objects.filter(task__in=task_ids).values_list("task_id", "unit_id")
        )
        waiting = {
            (task_id, timezone.localdate(at))
            for model, field in (
                (ExtensionRequest, "requested_at"),
                (CompletionSubmission, "submitted_at"),
            )
            for task_id, at in model.objects.pending()
            .filter(task__in=task_ids)
            .values_list("task_id", field)
        }
        last_report = {
            task_id: timezone.localdate(at)
            for task_id, at in ProgressUpdate.objects.filter(task__in=task_ids)
            .values("task_id")
            .annotate(at=Max("created_at"))
            .values_list("task_id", "at")
        }
        return cls(acknowledged, waiting, last_report)


def _reason_still_there(row: Notification, events: _TaskEvents) -> bool:
    """A row waiting for a retry is dropped if its reason went away meanwhile: the task was
    completed, cancelled or submitted (or its plan closed), its deadline moved (the cadence
    restarts from it), the unit acknowledged, or the request was decided. An item's row is
    dropped once the item was submitted or accepted, its round's deadline moved, or (for a
    return) it was resubmitted."""
    if row.rule in ITEM_RULES:
        item = row.item
        if not item.is_open:
            return False
        if row.rule == Notification.Rule.ITEM_RETURNED:
            return item.status == item.Status.RETURNED
        return item.round.deadline == row.anchor_date
    task = row.task
    if row.rule in DECISION_EVENTS:
        return True  # a decision is news until it is told, whatever happened since
    if row.rule == Notification.Rule.ASSIGNED:
        return task.is_open and (task.pk, row.step) not in events.acknowledged
    if row.rule == Notification.Rule.WAITING_DECISION:
        # A task waiting for a verdict on its completion is not open, but still worth chasing.
        return task.plan.in_force and (task.pk, row.anchor_date) in events.still_waiting
    if not task.is_open:
        return False
    if row.rule in DEADLINE_RULES:
        return task.deadline == row.anchor_date
    if row.rule == Notification.Rule.NOT_ACKNOWLEDGED:
        return (task.pk, row.step) not in events.acknowledged  # the step is the unit
    if row.rule == Notification.Rule.NO_PROGRESS:
        last = events.last_report.get(task.pk)
        return last is None or last <= row.anchor_date
    return True


class ReminderOutbox(Outbox[Notification]):
    """Reminders and events: one e-mail per address listing all its rows. A row is skipped
    when its reason went away, or when its address is no longer among the step's recipients
    (the person was switched off, left the unit or the group, or the unit no longer holds the
    role): ``RecipientDirectory``, the rule the sweep recorded it by, is asked again.

    ``between_sweeps``: a run other than the morning sweep's leaves the events of people who
    want them in the morning's e-mail only (``held_for_digest``); ``events_only``: the
    short-interval events run sends nothing but events (reminders keep their morning)."""

    model = Notification
    noun = "reminders"

    def __init__(self, *, between_sweeps: bool = False, events_only: bool = False) -> None:
        self.between_sweeps = between_sweeps
        self.events_only = events_only

    def eligible(self, rows: QuerySet[Notification]) -> QuerySet[Notification]:
        if self.events_only:
            rows = rows.events()
        if self.between_sweeps:
            rows = rows.sendable_now()
        return rows

    def claimed(self, rows: QuerySet[Notification]) -> QuerySet[Notification]:
        return rows.select_related(
            "recipient",
            "unit",
            "task__plan",
            "task__indicator__parent",
            "task__lead_unit",
            "item__round",
            "item__indicator",
            "item__unit",
        ).order_by("recipient_email", "pk")

    def still_due(self, rows: list[Notification], now: dt.datetime) -> list[Notification]:
        if not rows:
            return rows
        tasks = {row.task_id: row.task for row in rows if row.task_id}
        items = {row.item_id: row.item for row in rows if row.item_id}
        directory = RecipientDirectory(list(tasks.values()), list(items.values()))
        events = _TaskEvents.load(rows)
        return [
            row
            for row in rows
            if _reason_still_there(row, events)
            and directory.reaches(Step.of(row), row.recipient_email)
        ]

    def message(self, group: list[Notification], now: dt.datetime) -> EmailMultiAlternatives:
        return digest_message(group, now)
