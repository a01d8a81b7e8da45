"""When the monthly pack goes out: the N-th working day of the month, for the month before.

Beat runs the job daily and this decides whether today is the day, because a crontab knows
neither Tết nor make-up Saturdays (``WorkCalendar`` does).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from notifications.workdays import WorkCalendar
from plans.periods import month_start, previous_month


def sending_day(month: dt.date) -> dt.date:
    """The day the pack goes out in ``month``: its N-th working day (N from settings)."""
    first = month_start(month)
    calendar = WorkCalendar(first, first + dt.timedelta(days=45))
    day = first if calendar.is_working_day(first) else calendar.add_working_days(first, 1)
    return calendar.add_working_days(day, settings.REPORTS_MONTHLY_WORKING_DAY - 1)


def period_due(now: dt.datetime) -> dt.date | None:
    """The period whose pack is due today, or None on any other day."""
    today = timezone.localdate(now)
    return previous_month(today) if sending_day(today) == today else None
