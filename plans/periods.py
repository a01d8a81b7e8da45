"""Reporting periods: a month, named by its first day (the monthly pack, the report pages).

In ``plans`` because the report pages read a period; ``notifications`` (the pack's schedule and
``send_report``) imports it from here.
"""

from __future__ import annotations

import datetime as dt
import re


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
