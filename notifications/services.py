"""The reminder sweep: derive what is due from the plan's state, record it, then deliver it.

Delivery is at-least-once for a sender that dies mid-send (its claimed rows are retried after
``stale_claim()``) and exactly-once otherwise: see docs/reminders.md for why and what an operator
sees.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import Exists, Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from notifications.models import Notification, ReminderPolicy
from notifications.outbox import DeliveryReport, Outbox, outbox_deliver
from notifications.recipients import Recipient, RecipientDirectory
from notifications.rules import (
    Step,
    acknowledgement_steps,
    decision_steps,
    horizon,
    task_steps,
)
from notifications.workdays import WorkCalendar
from plans import roles
from plans.models import (
    Acknowledgement,
    Assignment,
    CompletionSubmission,
    Decision,
    ExtensionRequest,
    Plan,
    ProgressUpdate,
    Task,
    UnitMembership,
    User,
)

logger = logging.getLogger(__name__)

# Recipients claimed at a time (see ``Outbox.batch_recipients``).
BATCH_RECIPIENTS = 25


@dataclass(frozen=True)
class DueReminder:
    step: Step
    recipient: Recipient

    @property
    def task(self) -> Task:
        return self.step.task

    @property
    def key(self) -> tuple[int, str, int, dt.date, str]:
        step = self.step
        return (step.task.pk, step.rule, step.step, step.anchor, self.recipient.email)


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
    directory = RecipientDirectory(tasks + waiting_tasks)
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
    due: dict[tuple, DueReminder] = {}
    for step in steps:
        for recipient in directory.for_step(step):
            reminder = DueReminder(step, recipient)
            due.setdefault(reminder.key, reminder)
    return list(due.values())


def _existing_keys(due: list[DueReminder]) -> set[tuple[int, str, int, dt.date, str]]:
    rows = Notification.objects.filter(task__in={d.task.pk for d in due}).values_list(
        "task_id", "rule", "step", "anchor_date", "recipient_email"
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
                rule=d.step.rule,
                step=d.step.step,
                anchor_date=d.step.anchor,
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


# Rules whose steps count from the deadline: a changed deadline makes their old rows moot.
DEADLINE_RULES = {
    Notification.Rule.DUE_SOON,
    Notification.Rule.DUE_TODAY,
    Notification.Rule.OVERDUE,
    Notification.Rule.ESCALATE_HEAD,
    Notification.Rule.ESCALATE_COORDINATORS,
    Notification.Rule.STEERING_DIGEST,
}

# The order of sections in a digest: what needs acting on first.
SECTION_ORDER = [
    Notification.Rule.WAITING_DECISION,
    Notification.Rule.ESCALATE_COORDINATORS,
    Notification.Rule.ESCALATE_HEAD,
    Notification.Rule.STEERING_DIGEST,
    Notification.Rule.OVERDUE,
    Notification.Rule.DUE_TODAY,
    Notification.Rule.DUE_SOON,
    Notification.Rule.NOT_ACKNOWLEDGED,
    Notification.Rule.NO_PROGRESS,
]
SECTION_TITLES = {
    Notification.Rule.WAITING_DECISION: _("Requests waiting for your decision"),
    Notification.Rule.ESCALATE_COORDINATORS: _("Overdue tasks escalated to the coordinators"),
    Notification.Rule.ESCALATE_HEAD: _("Overdue tasks of your unit, escalated to you as its head"),
    Notification.Rule.STEERING_DIGEST: _("Weekly digest: tasks long overdue"),
    Notification.Rule.OVERDUE: _("Overdue tasks"),
    Notification.Rule.DUE_TODAY: _("Tasks due today"),
    Notification.Rule.DUE_SOON: _("Tasks due soon"),
    Notification.Rule.NOT_ACKNOWLEDGED: _("New tasks not yet acknowledged"),
    Notification.Rule.NO_PROGRESS: _("Open tasks without a recent progress report"),
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


def _item(row: Notification, today: dt.date) -> dict[str, object]:
    task = row.task
    return {
        "task": task,
        "rule": row.rule,
        "days_overdue": max(0, (today - task.deadline).days),
        "days_left": max(0, (task.deadline - today).days),
        "last_activity": row.anchor_date if row.rule == Notification.Rule.NO_PROGRESS else None,
        "url": settings.SITE_URL + task.get_absolute_url(),
    }


def _message(
    recipient_email: str, rows: list[Notification], now: dt.datetime
) -> EmailMultiAlternatives:
    """One e-mail for everything that concerns a person in this run, in sections by rule."""
    first = rows[0]
    language = first.recipient.language if first.recipient else settings.LANGUAGE_CODE
    today = timezone.localdate(now)
    by_rule: dict[str, list[dict[str, object]]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: (r.task.deadline, r.task.pk)):
        by_rule[row.rule].append(_item(row, today))
    with translation.override(language):
        sections = [
            {"rule": rule, "title": str(SECTION_TITLES[rule]), "items": by_rule[rule]}
            for rule in SECTION_ORDER
            if by_rule.get(rule)
        ]
        context = {
            "sections": sections,
            "count": len({row.task_id for row in rows}),
            "overdue": len({row.task_id for row in rows if row.task.deadline < today}),
            "recipient": first.recipient,
            "unit": first.unit,
            "site_url": settings.SITE_URL,
        }
        subject = render_to_string("notifications/email/digest_subject.txt", context)
        text = render_to_string("notifications/email/digest.txt", context)
        html = render_to_string("notifications/email/digest.html", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()), body=text, to=[recipient_email]
    )
    message.attach_alternative(html, "text/html")
    return message


class ReminderOutbox(Outbox[Notification]):
    """Reminders: one e-mail per address listing all its rows; a row is skipped when its
    reason went away (``_still_due``)."""

    model = Notification
    noun = "reminders"
    batch_recipients = BATCH_RECIPIENTS

    def claimed(self, rows: QuerySet[Notification]) -> QuerySet[Notification]:
        return rows.select_related(
            "recipient", "unit", "task__plan", "task__indicator__parent", "task__lead_unit"
        ).order_by("recipient_email", "pk")

    def still_due(self, rows: list[Notification], now: dt.datetime) -> list[Notification]:
        moot = _Moot.load(rows)
        return [row for row in rows if _still_due(row, moot)]

    def message(self, group: list[Notification], now: dt.datetime) -> EmailMultiAlternatives:
        return _message(group[0].recipient_email, group, now)


def notifications_deliver(*, now: dt.datetime, report: SweepReport | None = None) -> SweepReport:
    """Send every deliverable reminder, one e-mail per recipient listing all their rows.
    Nothing is sent on a weekend, a public holiday or an announced day off."""
    report = report or SweepReport()
    if not work_calendar(timezone.localdate(now)).is_working_day(timezone.localdate(now)):
        return report
    outbox_deliver(ReminderOutbox(), now=now, report=report)
    return report


def reminders_send_due(*, now: dt.datetime | None = None) -> SweepReport:
    """The scheduled sweep: record what is due at ``now``, then deliver everything deliverable.
    Safe to run twice, concurrently, or again after a crash."""
    now = now or timezone.now()
    report = SweepReport()
    notifications_create_due(now=now, report=report)
    notifications_deliver(now=now, report=report)
    logger.info("Reminder sweep at %s: %s", now.isoformat(), report.as_dict())
    return report


@dataclass(frozen=True)
class PreviewLine:
    rule: str
    rule_label: str
    task: Task
    days_overdue: int
    days_left: int


def reminders_preview(*, now: dt.datetime) -> dict[str, list[PreviewLine]]:
    """What a sweep at ``now`` would send, per recipient, leaving out steps already sent.
    Records nothing; the dry run and the admin's preview both show this."""
    due = reminders_due(now=now)
    done = (
        set(
            Notification.objects.filter(
                task__in={d.task.pk for d in due},
                status__in=[Notification.Status.SENT, Notification.Status.SKIPPED],
            ).values_list("task_id", "rule", "step", "anchor_date", "recipient_email")
        )
        if due
        else set()
    )
    today = timezone.localdate(now)
    preview: dict[str, list[PreviewLine]] = defaultdict(list)
    for reminder in due:
        if reminder.key in done:
            continue
        task = reminder.task
        preview[reminder.recipient.email].append(
            PreviewLine(
                rule=reminder.step.rule,
                rule_label=str(Notification.Rule(reminder.step.rule).label),
                task=task,
                days_overdue=max(0, (today - task.deadline).days),
                days_left=max(0, (task.deadline - today).days),
            )
        )
    return dict(sorted(preview.items()))
