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

from notifications.models import Notification, ReminderPolicy
from notifications.workdays import WorkCalendar
from plans.models import Task

Rule = Notification.Rule


class Audience(StrEnum):
    RESPONSIBLE = "responsible"  # focal points of the lead, implementing and monitoring units
    HEADS = "heads"  # the lead unit's head
    COORDINATORS = "coordinators"
    STEERING = "steering"


AUDIENCE = {
    Rule.DUE_SOON: Audience.RESPONSIBLE,
    Rule.DUE_TODAY: Audience.RESPONSIBLE,
    Rule.OVERDUE: Audience.RESPONSIBLE,
    Rule.NO_PROGRESS: Audience.RESPONSIBLE,
    Rule.NOT_ACKNOWLEDGED: Audience.RESPONSIBLE,
    Rule.ESCALATE_HEAD: Audience.HEADS,
    Rule.ESCALATE_COORDINATORS: Audience.COORDINATORS,
    Rule.WAITING_DECISION: Audience.COORDINATORS,
    Rule.STEERING_DIGEST: Audience.STEERING,
}


@dataclass(frozen=True)
class Step:
    task: Task
    rule: str
    step: int
    anchor: dt.date

    @property
    def audience(self) -> Audience:
        return AUDIENCE[Rule(self.rule)]


def task_steps(
    task: Task,
    *,
    today: dt.date,
    policy: ReminderPolicy,
    calendar: WorkCalendar,
    last_activity: dt.date,
) -> list[Step]:
    """The due steps of one open task on ``today`` (a working day)."""
    steps: list[Step] = []
    deadline = task.deadline
    due_day = calendar.last_working_day_on_or_before(deadline)

    if today < due_day:
        # Before the deadline: the latest "due soon" step whose day has come.
        for number, offset in reversed(list(enumerate(policy.due_soon_offsets, start=1))):
            if calendar.add_working_days(due_day, -offset) <= today:
                steps.append(Step(task, Rule.DUE_SOON, number, deadline))
                break
    elif today <= deadline:
        if policy.remind_due_today:
            steps.append(Step(task, Rule.DUE_TODAY, 1, deadline))
    else:
        days_overdue = (today - deadline).days
        number = policy.overdue_step(days_overdue)
        if number:
            steps.append(Step(task, Rule.OVERDUE, number, deadline))
        if days_overdue >= policy.escalate_head_after_days:
            steps.append(Step(task, Rule.ESCALATE_HEAD, 1, deadline))
        if days_overdue >= policy.escalate_coordinators_after_days:
            steps.append(Step(task, Rule.ESCALATE_COORDINATORS, 1, deadline))
        if days_overdue >= policy.steering_digest_after_days:
            # Once per ISO week: the week is the step, so the digest is weekly by construction.
            year, week, _weekday = today.isocalendar()
            steps.append(Step(task, Rule.STEERING_DIGEST, year * 100 + week, deadline))

    silent_days = (today - last_activity).days
    if silent_days >= policy.no_progress_days:
        steps.append(
            Step(task, Rule.NO_PROGRESS, silent_days // policy.no_progress_days, last_activity)
        )
    return steps


def horizon(today: dt.date, policy: ReminderPolicy, calendar: WorkCalendar) -> dt.date:
    """The latest deadline that can have a due step today (a week's margin for weekends and
    holidays between the working deadline day and the deadline itself)."""
    return calendar.add_working_days(today, max(policy.due_soon_offsets)) + dt.timedelta(days=7)
