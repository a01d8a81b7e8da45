"""The time a run is told to act at: ``--now`` of the commands and ``now`` of the Celery tasks.

One reading for every door, so an operator replaying a day gets the same run from the shell
and from the queue.
"""

from __future__ import annotations

import datetime as dt

from django.core.management.base import CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

# The time the schedule runs the sweep and the monthly pack: what a bare date means.
SCHEDULED_TIME = dt.time(8, 0)


def parse_now(value: str) -> dt.datetime:
    """An ISO date or date-time, as an aware datetime.

    A bare date means 08:00 local time that day (the scheduled run; ``parse_datetime`` alone
    would read it as midnight); a date-time without an offset is local (Asia/Ho_Chi_Minh)
    time; an offset, when given, is respected. Raises ``ValueError`` for anything else,
    including well-formed but impossible dates such as 2026-02-30.
    """
    text = value.strip()
    try:
        day = parse_date(text) if len(text) == 10 else None
        parsed = dt.datetime.combine(day, SCHEDULED_TIME) if day else parse_datetime(text)
    except ValueError:
        parsed = None
    if parsed is None:
        raise ValueError(
            f"{value!r} is not an ISO date or date-time, e.g. 2026-11-23, "
            "2026-11-23T08:00 or 2026-11-23T08:00+07:00."
        )
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


def now_option(value: str) -> dt.datetime:
    """``parse_now`` as a command's ``--now`` option (``type=now_option``)."""
    try:
        return parse_now(value)
    except ValueError as exc:
        raise CommandError(f"--now {exc}") from exc
