"""Reporting periods: a month or a quarter, named by its first day (the steering committee's
pack, the report pages).

In ``plans`` because the report pages read a period; ``notifications`` (the pack's schedule and
``send_report``) imports it from here. Which of the two the pack covers is the installation's
``REPORTS_PERIOD`` setting (``month`` or ``quarter``).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext_lazy, pgettext

MONTH = "month"
QUARTER = "quarter"
PERIOD_KINDS = [(MONTH, gettext_lazy("month")), (QUARTER, gettext_lazy("quarter"))]
# Vietnamese names a quarter in Roman numerals ("Quý III/2026"), English by its number ("Q3
# 2026"): one message per quarter, so each language writes it its own way.
QUARTER_NAMES = {
    1: gettext_lazy("Q1 %(year)s"),
    2: gettext_lazy("Q2 %(year)s"),
    3: gettext_lazy("Q3 %(year)s"),
    4: gettext_lazy("Q4 %(year)s"),
}


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def previous_month(day: dt.date) -> dt.date:
    """The month before ``day``'s: the pack sent in early June reports on May."""
    return month_start(month_start(day) - dt.timedelta(days=1))


def parse_month(value: str) -> dt.date:
    """'2026-05' (or '2026-5') → 1 May 2026. Raises ``ValueError`` for anything else."""
    match = re.fullmatch(r"(\d{4})-(\d{1,2})", value.strip())
    if not match or not 1 <= int(match[2]) <= 12:
        raise ValueError(f"{value!r} is not a month such as 2026-05.")
    return dt.date(int(match[1]), int(match[2]), 1)


def month_end(period: dt.date) -> dt.date:
    """The last day of ``period``'s month."""
    return month_start(month_start(period) + dt.timedelta(days=31)) - dt.timedelta(days=1)


@dataclass(frozen=True)
class Period:
    """A month or a quarter, named by its first day: ``Period(date(2026, 7, 1), QUARTER)`` is
    the third quarter of 2026."""

    start: dt.date
    kind: str = MONTH

    def __post_init__(self) -> None:
        if self.kind not in (MONTH, QUARTER):
            raise ValueError(f"{self.kind!r} is not a period kind (month or quarter).")
        if self.start.day != 1 or (self.kind == QUARTER and self.start.month % 3 != 1):
            raise ValueError(f"{self.start} does not start a {self.kind}.")

    @classmethod
    def containing(cls, day: dt.date, kind: str) -> Period:
        month = day.month if kind == MONTH else day.month - (day.month - 1) % 3
        return cls(dt.date(day.year, month, 1), kind)

    @property
    def months(self) -> int:
        return 1 if self.kind == MONTH else 3

    @property
    def end(self) -> dt.date:
        """The period's last day."""
        last_month = self.start.month + self.months - 1
        return month_end(self.start.replace(month=last_month))

    def previous(self) -> Period:
        """The period before: the pack sent early in July reports on June, or on the second
        quarter."""
        return Period.containing(self.start - dt.timedelta(days=1), self.kind)

    @property
    def quarter(self) -> int:
        return (self.start.month - 1) // 3 + 1

    @property
    def slug(self) -> str:
        """'2026-05' or '2026-Q3': in file names and in ``?period=``; ``parse_period`` reads it."""
        if self.kind == MONTH:
            return f"{self.start:%Y-%m}"
        return f"{self.start.year}-Q{self.quarter}"

    @property
    def label(self) -> str:
        """As people name it, in the active language: "05/2026"; "Quý III/2026", "Q3 2026"."""
        if self.kind == MONTH:
            return f"{self.start:%m/%Y}"
        return str(QUARTER_NAMES[self.quarter]) % {"year": self.start.year}

    @property
    def phrase(self) -> str:
        """The period inside a sentence: "tháng 05/2026" or "Quý III/2026" ("05/2026", "Q3
        2026" in English)."""
        if self.kind == MONTH:
            # Vietnamese says "tháng 05/2026" inside a sentence; English needs no word.
            return pgettext("a month inside a sentence", "%(month)s") % {"month": self.label}
        return self.label


def parse_period(value: str) -> Period:
    """'2026-05' (or '2026-5') → May 2026; '2026-Q3' (or '2026-q3') → the third quarter.
    Raises ``ValueError`` for anything else."""
    match = re.fullmatch(r"(\d{4})-[Qq]([1-4])", value.strip())
    if match:
        return Period(dt.date(int(match[1]), 3 * int(match[2]) - 2, 1), QUARTER)
    try:
        return Period(parse_month(value), MONTH)
    except ValueError as error:
        raise ValueError(
            f"{value!r} is not a month such as 2026-05 or a quarter such as 2026-Q3."
        ) from error


def period_before(day: dt.date) -> Period:
    """The last period of the installation's kind (``REPORTS_PERIOD``) ended before ``day``:
    the pack sent early in July reports on June, or on the second quarter."""
    return Period.containing(day, settings.REPORTS_PERIOD).previous()
