"""Which reminder steps are due: a pure function of the plan's state, the policy and the day.

Every rule yields at most its *latest* due step, so a sweep after an outage catches up on what
it missed once, instead of sending every missed step. The step number and the date it counts
from (``anchor``) form part of the notification's unique key: the same step is never recorded
twice, and a new anchor (an extended deadline, a new progress report) restarts the cadence.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from django.utils import timezone

from notifications.models import Notification, ReminderPolicy
from notifications.workdays import WorkCalendar
from plans.models import ItemStatus, SelfAssessmentItem, Task, Unit

Rule = Notification.Rule


class Audience(StrEnum):
    RESPONSIBLE = "responsible"  # focal points of the lead, implementing and monitoring units
    UNIT = "unit"  # the focal points of one unit (the one that has not acknowledged)
    HEADS = "heads"  # the lead unit's head
    COORDINATORS = "coordinators"
    STEERING = "steering"


AUDIENCE = {
    Rule.DUE_SOON: Audience.RESPONSIBLE,
    Rule.DUE_TODAY: Audience.RESPONSIBLE,
    Rule.OVERDUE: Audience.RESPONSIBLE,
    Rule.NO_PROGRESS: Audience.RESPONSIBLE,
    Rule.NOT_ACKNOWLEDGED: Audience.UNIT,
    Rule.ESCALATE_HEAD: Audience.HEADS,
    Rule.ESCALATE_COORDINATORS: Audience.COORDINATORS,
    Rule.WAITING_DECISION: Audience.COORDINATORS,
    Rule.STEERING_DIGEST: Audience.STEERING,
    # Events are told to the unit concerned: the one given the task, the one that asked.
    Rule.ASSIGNED: Audience.UNIT,
    Rule.EXTENSION_APPROVED: Audience.UNIT,
    Rule.EXTENSION_REFUSED: Audience.UNIT,
    Rule.COMPLETION_VERIFIED: Audience.UNIT,
    Rule.COMPLETION_RETURNED: Audience.UNIT,
    # A self-assessment item: its presiding unit's focal points, then its head (the step's
    # unit) and the coordinators.
    Rule.ITEM_DUE_SOON: Audience.UNIT,
    Rule.ITEM_OVERDUE: Audience.UNIT,
    Rule.ITEM_RETURNED: Audience.UNIT,
    Rule.ITEM_ESCALATE_HEAD: Audience.HEADS,
    Rule.ITEM_ESCALATE_COORDINATORS: Audience.COORDINATORS,
}


@dataclass(frozen=True)
class Step:
    task: Task | None  # None for a step about a self-assessment item
    rule: str
    step: int
    anchor: dt.date
    unit: Unit | None = None  # for rules about one unit (not acknowledged, events, items)
    item: SelfAssessmentItem | None = None

    @property
    def audience(self) -> Audience:
        return AUDIENCE[Rule(self.rule)]

    @classmethod
    def of(cls, row: Notification) -> Step:
        """The step a recorded row is for, to ask again whom it concerns."""
        if row.item_id:
            item = row.item
            return cls(None, row.rule, row.step, row.anchor_date, item.unit, item)
        unit = row.unit if AUDIENCE[Rule(row.rule)] == Audience.UNIT else None
        return cls(row.task, row.rule, row.step, row.anchor_date, unit)


def deadline_steps(
    deadline: dt.date, *, today: dt.date, policy: ReminderPolicy, calendar: WorkCalendar
) -> list[tuple[str, int]]:
    """The (rule, step) pairs a task with ``deadline`` is due on ``today`` (a working day),
    counted from the deadline: a pure function of the date, so the sweep can also ask it
    which deadlines have which step today (``sweep.unrecorded_q``)."""
    steps: list[tuple[str, int]] = []
    due_day = calendar.last_working_day_on_or_before(deadline)

    if today < due_day:
        # Before the deadline: the latest "due soon" step whose day has come.
        for number, offset in reversed(list(enumerate(policy.due_soon_offsets, start=1))):
            if calendar.add_working_days(due_day, -offset) <= today:
                steps.append((Rule.DUE_SOON, number))
                break
    elif today <= deadline:
        if policy.remind_due_today:
            steps.append((Rule.DUE_TODAY, 1))
    else:
        days_overdue = (today - deadline).days
        number = policy.overdue_step(days_overdue)
        if number:
            steps.append((Rule.OVERDUE, number))
        if days_overdue >= policy.escalate_head_after_days:
            steps.append((Rule.ESCALATE_HEAD, 1))
        if days_overdue >= policy.escalate_coordinators_after_days:
            steps.append((Rule.ESCALATE_COORDINATORS, 1))
        if days_overdue >= policy.steering_digest_after_days:
            # Once per ISO week: the week is the step, so the digest is weekly by construction.
            year, week, _weekday = today.isocalendar()
            steps.append((Rule.STEERING_DIGEST, year * 100 + week))
    return steps


def no_progress_step(last_activity: dt.date, *, today: dt.date, policy: ReminderPolicy) -> int:
    """Which "no progress report" reminder is due for a task silent since ``last_activity``:
    0 (none), 1 after ``no_progress_days``, 2 after twice as many, ..."""
    return (today - last_activity).days // policy.no_progress_days


def task_steps(
    task: Task,
    *,
    today: dt.date,
    policy: ReminderPolicy,
    calendar: WorkCalendar,
    last_activity: dt.date,
) -> list[Step]:
    """The due steps of one open task on ``today`` (a working day)."""
    steps = [
        Step(task, rule, number, task.deadline)
        for rule, number in deadline_steps(
            task.deadline, today=today, policy=policy, calendar=calendar
        )
    ]
    silent = no_progress_step(last_activity, today=today, policy=policy)
    if silent > 0:
        steps.append(Step(task, Rule.NO_PROGRESS, silent, last_activity))
    return steps


def acknowledgement_steps(
    task: Task,
    *,
    today: dt.date,
    policy: ReminderPolicy,
    calendar: WorkCalendar,
    units: list[Unit],
    acknowledged: set[int],
) -> list[Step]:
    """One reminder to each unit holding a role that has not acknowledged the task within
    ``unacknowledged_working_days`` working days of its creation."""
    created = timezone.localdate(task.created_at)
    wait = policy.unacknowledged_working_days
    # Counting day by day is only needed near the threshold: far beyond it (2N + 14 calendar
    # days hold N working days even across Tết) the answer is known.
    if (today - created).days <= 2 * wait + 14 and (
        calendar.working_days_between(created, today) < wait
    ):
        return []
    # The step is the unit's id: the notification key then holds one row per unit, so a person
    # who is focal point of two such units is reminded for each until each acknowledges.
    return [
        Step(task, Rule.NOT_ACKNOWLEDGED, unit.pk, created, unit)
        for unit in units
        if unit.pk not in acknowledged
    ]


def decision_steps(
    task: Task,
    *,
    today: dt.date,
    policy: ReminderPolicy,
    calendar: WorkCalendar,
    requested_on: list[dt.date],
) -> list[Step]:
    """A reminder to the coordinators for each request on the task (an extension, a completion
    to verify) still waiting ``decision_waiting_working_days`` working days after it came."""
    return [
        Step(task, Rule.WAITING_DECISION, 1, day)
        for day in sorted(set(requested_on))
        if calendar.working_days_between(day, today) >= policy.decision_waiting_working_days
    ]


# A self-assessment item follows the task cadence, less "due today", under its own rules.
ITEM_RULE = {
    Rule.DUE_SOON: Rule.ITEM_DUE_SOON,
    Rule.OVERDUE: Rule.ITEM_OVERDUE,
    Rule.ESCALATE_HEAD: Rule.ITEM_ESCALATE_HEAD,
    Rule.ESCALATE_COORDINATORS: Rule.ITEM_ESCALATE_COORDINATORS,
}


def item_deadline_steps(
    deadline: dt.date, *, today: dt.date, policy: ReminderPolicy, calendar: WorkCalendar
) -> list[tuple[str, int]]:
    """The (rule, step) pairs an open item whose round's internal deadline is ``deadline`` is
    due on ``today``: the task cadence (``deadline_steps``) under the items' rules."""
    return [
        (ITEM_RULE[rule], number)
        for rule, number in deadline_steps(deadline, today=today, policy=policy, calendar=calendar)
        if rule in ITEM_RULE
    ]


def item_steps(
    item: SelfAssessmentItem,
    *,
    today: dt.date,
    policy: ReminderPolicy,
    calendar: WorkCalendar,
) -> list[Step]:
    """The due steps of one open self-assessment item (``SelfAssessmentItemQuerySet.open``)
    on ``today``: the task cadence counted from the round's internal deadline (due soon on
    the policy's working days before it, then overdue, escalating to the presiding unit's
    head and the coordinators), and one reminder per return to the unit."""
    deadline = item.round.deadline
    unit = item.unit
    steps = [
        Step(None, rule, number, deadline, unit, item)
        for rule, number in item_deadline_steps(
            deadline, today=today, policy=policy, calendar=calendar
        )
    ]
    if item.status == ItemStatus.RETURNED and item.reviewed_at:
        # Anchored on the day of the return: a second return is a new reminder.
        returned_on = timezone.localdate(item.reviewed_at)
        steps.append(Step(None, Rule.ITEM_RETURNED, 1, returned_on, unit, item))
    return steps


def horizon(today: dt.date, policy: ReminderPolicy, calendar: WorkCalendar) -> dt.date:
    """The latest deadline that can have a due step today (a week's margin for weekends and
    holidays between the working deadline day and the deadline itself)."""
    return calendar.add_working_days(today, max(policy.due_soon_offsets)) + dt.timedelta(days=7)
