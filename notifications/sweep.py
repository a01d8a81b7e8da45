"""The reminder sweep: what is due at a given time, derived from the plan's state.

A pure read: recording the rows is ``services.notifications_create_due``, sending them the
reminders' outbox (``reminder_outbox``). See docs/reminders.md.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from notifications.models import Notification, ReminderPolicy
from notifications.outbox import DeliveryReport
from notifications.recipients import Recipient, RecipientDirectory
from notifications.rules import (
    Step,
    acknowledgement_steps,
    decision_steps,
    horizon,
    item_steps,
    task_steps,
)
from notifications.workdays import WorkCalendar
from plans.models import (
    Acknowledgement,
    Assignment,
    CompletionSubmission,
    Decision,
    ExtensionRequest,
    ProgressUpdate,
    SelfAssessmentItem,
    Task,
)

# (task id, item id, rule, step, anchor, address): one of the two ids is None.
ReminderKey = tuple[int | None, int | None, str, int, dt.date, str]


@dataclass(frozen=True)
class DueReminder:
    step: Step
    recipient: Recipient

    @property
    def task(self) -> Task | None:
        return self.step.task

    @property
    def item(self) -> SelfAssessmentItem | None:
        return self.step.item

    @property
    def key(self) -> ReminderKey:
        step = self.step
        task_id = step.task.pk if step.task else None
        item_id = step.item.pk if step.item else None
        return (task_id, item_id, step.rule, step.step, step.anchor, self.recipient.email)


@dataclass
class SweepReport(DeliveryReport):
    due: int = 0
    created: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "due": self.due,
            "created": self.created,
            "emails_sent": self.emails_sent,
            "rows_sent": self.rows_sent,
            "rows_failed": self.rows_failed,
            "rows_skipped": self.rows_skipped,
        }


def work_calendar(today: dt.date) -> WorkCalendar:
    return WorkCalendar(today - dt.timedelta(days=60), today + dt.timedelta(days=60))


def candidate_tasks(
    *, today: dt.date, policy: ReminderPolicy, calendar: WorkCalendar
) -> list[Task]:
    """Open tasks that can have a due step today: deadline within the due-soon horizon or
    past, or silent for ``no_progress_days``. One query, with the date of the last report."""
    last_report = (
        ProgressUpdate.objects.filter(task=OuterRef("pk"))
        .order_by("-created_at")
        .values("created_at")[:1]
    )
    silent_since = local_midnight(today - dt.timedelta(days=policy.no_progress_days - 1))
    # N working days are at least N calendar days: a cheap bound, refined per task in Python.
    ack_before = local_midnight(today - dt.timedelta(days=policy.unacknowledged_working_days - 1))
    acknowledged = Acknowledgement.objects.filter(task=OuterRef("task"), unit=OuterRef("unit"))
    unacknowledged = ~Exists(
        Acknowledgement.objects.filter(task=OuterRef("pk"), unit=OuterRef("lead_unit"))
    ) | Exists(Assignment.objects.filter(task=OuterRef("pk")).filter(~Exists(acknowledged)))
    return list(
        Task.objects.open()
        .with_list_columns()
        .annotate(last_activity_at=Coalesce(Subquery(last_report), "created_at"))
        .filter(
            Q(deadline__lte=horizon(today, policy, calendar))
            | Q(last_activity_at__lt=silent_since)
            | (Q(created_at__lt=ack_before) & unacknowledged)
        )
        .order_by("deadline", "pk")
    )


def candidate_items(
    *, today: dt.date, policy: ReminderPolicy, calendar: WorkCalendar
) -> list[SelfAssessmentItem]:
    """Open self-assessment items that can have a due step today: their round's internal
    deadline within the due-soon horizon or past, or returned to the unit. One query."""
    return list(
        SelfAssessmentItem.objects.open()
        .filter(
            Q(round__deadline__lte=horizon(today, policy, calendar))
            | Q(pk__in=SelfAssessmentItem.objects.returned().values("pk"))
        )
        .select_related("round", "indicator", "unit")
        .order_by("round__deadline", "pk")
    )


def pending_requests(*, today: dt.date, policy: ReminderPolicy) -> dict[int, list[dt.date]]:
    """Task id → the local dates of its extension requests and completion submissions still
    waiting for a decision, old enough to be worth a reminder (two queries)."""
    before = local_midnight(today - dt.timedelta(days=policy.decision_waiting_working_days - 1))
    waiting: dict[int, list[dt.date]] = defaultdict(list)
    extensions = ExtensionRequest.objects.filter(
        status=Decision.PENDING, requested_at__lt=before
    ).values_list("task_id", "requested_at")
    completions = CompletionSubmission.objects.filter(
        status=Decision.PENDING, submitted_at__lt=before
    ).values_list("task_id", "submitted_at")
    for task_id, at in [*extensions, *completions]:
        waiting[task_id].append(timezone.localdate(at))
    return waiting


def local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def reminders_due(*, now: dt.datetime) -> list[DueReminder]:
    """Every reminder that should exist at ``now``: each due step of each open task, once per
    person it concerns. Nothing is due on a weekend, a public holiday or an announced day off.
    A constant number of queries, whatever the number of tasks."""
    today = timezone.localdate(now)
    calendar = work_calendar(today)
    if not calendar.is_working_day(today):
        return []
    policy = ReminderPolicy.current()
    tasks = candidate_tasks(today=today, policy=policy, calendar=calendar)
    waiting = pending_requests(today=today, policy=policy)
    known = {task.pk for task in tasks}
    waiting_tasks = (
        list(
            Task.objects.with_list_columns().filter(
                pk__in=[pk for pk in waiting if pk not in known]
            )
        )
        if waiting.keys() - known
        else []
    )
    items = candidate_items(today=today, policy=policy, calendar=calendar)
    directory = RecipientDirectory(tasks + waiting_tasks, items)
    acknowledged: dict[int, set[int]] = defaultdict(set)
    for task_id, unit_id in Acknowledgement.objects.filter(task__in=known).values_list(
        "task_id", "unit_id"
    ):
        acknowledged[task_id].add(unit_id)

    steps: list[Step] = []
    for task in tasks:
        steps += task_steps(
            task,
            today=today,
            policy=policy,
            calendar=calendar,
            last_activity=timezone.localdate(task.last_activity_at),
        )
        steps += acknowledgement_steps(
            task,
            today=today,
            policy=policy,
            calendar=calendar,
            units=directory.acting_units[task.pk],
            acknowledged=acknowledged[task.pk],
        )
    for task in tasks + waiting_tasks:
        if task.pk in waiting:
            steps += decision_steps(
                task, today=today, policy=policy, calendar=calendar, requested_on=waiting[task.pk]
            )
    for item in items:
        steps += item_steps(item, today=today, policy=policy, calendar=calendar)
    due: dict[tuple, DueReminder] = {}
    for step in steps:
        for recipient in directory.for_step(step):
            reminder = DueReminder(step, recipient)
            due.setdefault(reminder.key, reminder)
    return list(due.values())


def recorded_keys(due: list[DueReminder]) -> set[ReminderKey]:
    """The keys of ``due`` that already have a row (one query)."""
    if not due:
        return set()
    task_ids = {d.task.pk for d in due if d.task}
    item_ids = {d.item.pk for d in due if d.item}
    rows = Notification.objects.filter(Q(task__in=task_ids) | Q(item__in=item_ids)).values_list(
        "task_id", "item_id", "rule", "step", "anchor_date", "recipient_email"
    )
    return set(rows)
