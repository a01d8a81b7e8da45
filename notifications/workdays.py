"""Working days in Vietnam: Monday to Friday, minus public holidays, adjusted each year by the
government's announced make-up working days and extra days off (entered in the admin).

The public holidays (Tết and the others, including lunar dates) come from the ``holidays``
library; exceptions from ``CalendarException`` rows. A ``WorkCalendar`` is built once per sweep
for a window of dates, so counting costs no query per task.
"""

from __future__ import annotations

import datetime as dt
from functools import cached_property

import holidays

from notifications.models import CalendarException

ONE_DAY = dt.timedelta(days=1)


class WorkCalendar:
    def __init__(self, start: dt.date, end: dt.date) -> None:
        self.start, self.end = start, end

    @cached_property
    def _public_holidays(self) -> holidays.HolidayBase:
        return holidays.country_holidays("VN", years=range(self.start.year - 1, self.end.year + 2))

    @cached_property
    def _exceptions(self) -> dict[dt.date, bool]:
        """date → is it a working day, as the coordinator entered it."""
        rows = CalendarException.objects.filter(
            date__gte=self.start - dt.timedelta(days=400),
            date__lte=self.end + dt.timedelta(days=400),
        ).values_list("date", "kind")
        return {day: kind == CalendarException.Kind.WORKING_DAY for day, kind in rows}

    def is_working_day(self, day: dt.date) -> bool:
        if day in self._exceptions:
            return self._exceptions[day]
        return day.weekday() < 5 and day not in self._public_holidays

    def holiday_name(self, day: dt.date) -> str | None:
        return self._public_holidays.get(day)

    def add_working_days(self, day: dt.date, count: int) -> dt.date:
        """The working day ``count`` working days after ``day`` (before it when negative)."""
        step = ONE_DAY if count >= 0 else -ONE_DAY
        remaining = abs(count)
        while remaining:
            day += step
            if self.is_working_day(day):
                remaining -= 1
        return day

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after ``start`` up to and including ``end`` (negative if end < start)."""
        if end < start:
            return -self.working_days_between(end, start)
        count, day = 0, start
        while day < end:
            day += ONE_DAY
            count += self.is_working_day(day)
        return count

    def last_working_day_on_or_before(self, day: dt.date) -> dt.date:
        while not self.is_working_day(day):
            day -= ONE_DAY
        return day
