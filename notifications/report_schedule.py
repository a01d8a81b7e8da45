"""When the report pack goes out: the N-th working day of the month after a period ends, for
that period (a month, or a quarter: ``REPORTS_PERIOD``).

Beat runs the job daily and this decides whether today is the day, because a crontab knows
neither Tết nor make-up Saturdays (``WorkCalendar`` does).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from notifications.workdays import WorkCalendar
from plans.periods import Period, month_start


def sending_day(month: dt.date) -> dt.date:
    """The day a pack goes out in ``month``: its N-th working day (N from settings)."""
    first = month_start(month)
    calendar = WorkCalendar(first, first + dt.timedelta(days=45))
    day = first if calendar.is_working_day(first) else calendar.add_working_days(first, 1)
    return calendar.add_working_days(day, settings.REPORTS_MONTHLY_WORKING_DAY - 1)


def period_due(now: dt.datetime) -> Period | None:
    """The period whose pack is due today, or None on any other day: on the sending day of the
    first month of a period (every month; January, April, July and October for quarters), the
    period before."""
    today = timezone.localdate(now)
    current = Period.containing(today, settings.REPORTS_PERIOD)
    return current.previous() if sending_day(current.start) == today else None
