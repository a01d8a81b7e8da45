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
from notifications.models import Notification
from notifications.outbox import Outbox
from plans import roles
from plans.models import (
    Acknowledgement,
    CompletionSubmission,
    Decision,
    ExtensionRequest,
    Plan,
    ProgressUpdate,
    Task,
    UnitMembership,
    User,
)

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
class _Moot:
    """What makes a claimed row moot, loaded once per batch (six queries)."""

    acknowledged: set[tuple[int, int]]
    still_waiting: set[tuple[int, dt.date]]
    last_report: dict[int, dt.date]
    memberships: set[tuple[int, int]]  # (unit, person) still in place
    in_admin_groups: set[int]  # people still coordinators or steering committee members

    @classmethod
    def load(cls, rows: list[Notification]) -> _Moot:
        task_ids = {row.task_id for row in rows}
        acknowledged = set(
            Acknowledgement.objects.filter(task__in=task_ids).values_list("task_id", "unit_id")
        )
        waiting = {
            (task_id, timezone.localdate(at))
            for model, field in (
                (ExtensionRequest, "requested_at"),
                (CompletionSubmission, "submitted_at"),
            )
            for task_id, at in model.objects.filter(
                task__in=task_ids, status=Decision.PENDING
            ).values_list("task_id", field)
        }
        last_report = {
            task_id: timezone.localdate(at)
            for task_id, at in ProgressUpdate.objects.filter(task__in=task_ids)
            .values("task_id")
            .annotate(at=Max("created_at"))
            .values_list("task_id", "at")
        }
        people = {row.recipient_id for row in rows if row.recipient_id}
        memberships = set(
            UnitMembership.objects.filter(
                user__in=people, unit__in={row.unit_id for row in rows if row.unit_id}
            ).values_list("unit_id", "user_id")
        )
        in_admin_groups = set(
            User.objects.filter(pk__in=people, groups__name__in=roles.ADMIN_GROUPS).values_list(
                "pk", flat=True
            )
        )
        return cls(acknowledged, waiting, last_report, memberships, in_admin_groups)


def _still_due(notification: Notification, moot: _Moot) -> bool:
    """A row waiting for a retry is dropped if its reason went away meanwhile: the task was
    completed, cancelled or submitted, its deadline moved (the cadence restarts from it), the
    unit acknowledged, or the request was decided; or its recipient left the role it was
    addressed to them in (switched off, no longer in the unit or the group)."""
    task = notification.task
    person = notification.recipient
    if person is not None:
        if not person.is_active:
            return False
        if notification.unit_id is not None:
            if (notification.unit_id, person.pk) not in moot.memberships:
                return False
        elif person.pk not in moot.in_admin_groups:
            return False
    if task.plan.status != Plan.Status.ACTIVE:
        return False
    if notification.rule == Notification.Rule.WAITING_DECISION:
        return (task.pk, notification.anchor_date) in moot.still_waiting
    if task.status not in Task.OPEN_STATUSES:
        return False
    if notification.rule in DEADLINE_RULES:
        return task.deadline == notification.anchor_date
    if notification.rule == Notification.Rule.NOT_ACKNOWLEDGED:
        return (task.pk, notification.step) not in moot.acknowledged  # the step is the unit
    if notification.rule == Notification.Rule.NO_PROGRESS:
        last = moot.last_report.get(task.pk)
        return last is None or last <= notification.anchor_date
    return True


class ReminderOutbox(Outbox[Notification]):
    """Reminders: one e-mail per address listing all its rows; a row is skipped when its
    reason went away (``_still_due``)."""

    model = Notification
    noun = "reminders"

    def claimed(self, rows: QuerySet[Notification]) -> QuerySet[Notification]:
        return rows.select_related(
            "recipient", "unit", "task__plan", "task__indicator__parent", "task__lead_unit"
        ).order_by("recipient_email", "pk")

    def still_due(self, rows: list[Notification], now: dt.datetime) -> list[Notification]:
        moot = _Moot.load(rows)
        return [row for row in rows if _still_due(row, moot)]

    def message(self, group: list[Notification], now: dt.datetime) -> EmailMultiAlternatives:
        return digest_message(group, now)
