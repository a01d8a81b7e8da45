"""Ongoing tasks ("Thường xuyên", "Hằng quý", "Hằng năm"): no single deadline, a report every
period until the plan's year ends.

Such a task's ``deadline`` is the report date of the period under way: the last day of the
current month, quarter or year. Reminders (due soon, overdue, escalation) treat it as any
deadline; when the units report progress, the deadline moves to the next period's report date,
never past the end of the plan's year.
"""

from __future__ import annotations

import datetime as dt

from dtiplan.spreadsheets.periods import period_end
from plans.models import Plan, Task


def first_report_date(plan: Plan, every: str, today: dt.date) -> dt.date:
    """The first report date of an ongoing task of ``plan``: the end of the period holding
    today, or of the plan year's first period when the year has not begun."""
    start = max(today, dt.date(plan.year, 1, 1))
    return min(period_end(start, every), dt.date(plan.year, 12, 31))


def next_report_date(task: Task) -> dt.date | None:
    """The report date after the current one, or None when the task is not ongoing or the
    current one closes the plan's year."""
    if not task.reporting_period:
        return None
    following = period_end(task.deadline + dt.timedelta(days=1), task.reporting_period)
    if following > dt.date(task.plan.year, 12, 31):
        return None
    return following
