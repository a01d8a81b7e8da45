"""Deadlines as Vietnamese plans write them: a date, or a period meaning its last day, or an
ongoing duty reported every period.

==============================  ==============================================
Written                          Understood
==============================  ==============================================
30/06/2026, 2026-06-30           that date
Tháng 6/2026, tháng 06 năm 2026  30/06/2026 (the month's last day)
Quý III/2026, Quý 3 năm 2026     30/09/2026 (the quarter's last day)
6 tháng đầu năm 2026             30/06/2026; "6 tháng cuối năm 2026": 31/12/2026
Trước ngày 15/8/2026             15/08/2026 (also "Chậm nhất ngày", "Trước 15/8/2026")
Năm 2026, 2026                   31/12/2026
Thường xuyên, Hằng quý           ongoing, reported every quarter
Hằng tháng, Hằng năm             ongoing, reported every month, every year
==============================  ==============================================

A period without a year ("Tháng 6", "Quý III") is of the ``year`` given (the plan's).
"Hàng" is read as "Hằng" (both are written). A phrase that names no real period ("Quý V/2026",
"Tháng 13/2026") is an error, never a guess.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

from dtiplan.spreadsheets.cells import CellError, parse_date
from dtiplan.spreadsheets.text import clean_text


class Every:
    """How often an ongoing task is reported on."""

    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


@dataclass(frozen=True)
class WrittenDeadline:
    date: dt.date | None  # the deadline; None for an ongoing duty
    text: str  # as written, kept beside the date ("" for a plain date)
    every: str | None = None  # an ongoing duty's reporting period (``Every``)


_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6}
_YEAR = r"(?:/|\s*năm\s*|\s*-\s*|\s+)(?P<year>\d{4})"
_MONTH = re.compile(rf"^tháng\s*(?P<month>\d{{1,2}})(?:{_YEAR})?$")
_QUARTER = re.compile(rf"^quý\s*(?P<quarter>[ivx]+|\d)(?:{_YEAR})?$")
_HALF = re.compile(rf"^(?:6|sáu)\s*tháng\s*(?P<half>đầu|cuối)\s*năm(?:{_YEAR})?$")
_BEFORE = re.compile(r"^(?:trước|chậm nhất|hạn chót|không muộn hơn)\s*(?:ngày\s*)?(?P<date>.+)$")
_YEAR_ONLY = re.compile(r"^(?:năm\s*)?(?P<year>\d{4})$")
_DAY_MONTH_YEAR = re.compile(
    r"^(?P<day>\d{1,2})\s*tháng\s*(?P<month>\d{1,2})\s*năm\s*(?P<year>\d{4})$"
)
_DATE_SHAPED = re.compile(r"^\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}$")
_ONGOING = {
    "thường xuyên": Every.QUARTER,
    "hằng quý": Every.QUARTER,
    "hằng tháng": Every.MONTH,
    "hằng năm": Every.YEAR,
}


def _key(text: str) -> str:
    text = " ".join(text.casefold().split()).rstrip(".;,")
    text = text.replace("qúy", "quý").replace("hàng ", "hằng ")
    return text.replace("thường xuyên, liên tục", "thường xuyên")


def parse_deadline(value: object, *, year: int | None = None) -> WrittenDeadline | None:
    """The deadline a cell states, or None for an empty cell; :class:`CellError` otherwise."""
    if isinstance(value, dt.date | dt.datetime):
        return WrittenDeadline(parse_date(value), "")
    if isinstance(value, int | float) and not isinstance(value, bool) and 2000 <= value <= 2100:
        return WrittenDeadline(dt.date(int(value), 12, 31), str(int(value)))
    text = " ".join(clean_text(value).split())
    if not text:
        return None
    try:
        return WrittenDeadline(parse_date(text), "")
    except CellError:
        if _DATE_SHAPED.match(text):
            raise  # "30/02/2026": meant as a date, and not one
    key = _key(text)
    if key in _ONGOING:
        return WrittenDeadline(None, text, _ONGOING[key])
    date = _period_end(key, text, year)
    if date is None:
        raise CellError(
            _(
                '"%(value)s" is not a deadline we can read. Write a date (30/06/2026) or a '
                'period: "Tháng 6/2026", "Quý III/2026", "6 tháng đầu năm 2026", "Năm 2026", '
                '"Trước ngày 15/8/2026"; or "Thường xuyên", "Hằng quý", "Hằng năm" for an '
                "ongoing task."
            )
            % {"value": text}
        )
    return WrittenDeadline(date, text)


def _period_end(key: str, text: str, default_year: int | None) -> dt.date | None:
    if match := _MONTH.match(key):
        year = _year(match, text, default_year)
        month = int(match["month"])
        if not 1 <= month <= 12:
            raise CellError(
                _('"%(value)s": there is no month %(month)s.') % {"value": text, "month": month}
            )
        return dt.date(year, month, calendar.monthrange(year, month)[1])
    if match := _QUARTER.match(key):
        year = _year(match, text, default_year)
        written = match["quarter"]
        quarter = int(written) if written.isdigit() else _ROMAN.get(written, 0)
        if not 1 <= quarter <= 4:
            raise CellError(_('"%(value)s": a year has quarters I to IV.') % {"value": text})
        month = quarter * 3
        return dt.date(year, month, calendar.monthrange(year, month)[1])
    if match := _HALF.match(key):
        year = _year(match, text, default_year)
        return dt.date(year, 6, 30) if match["half"] == "đầu" else dt.date(year, 12, 31)
    if match := _YEAR_ONLY.match(key):
        return dt.date(int(match["year"]), 12, 31)
    if match := _BEFORE.match(key):
        return _a_date(match["date"], text)
    if match := _DAY_MONTH_YEAR.match(key):
        return _day(int(match["year"]), int(match["month"]), int(match["day"]), text)
    return None


def _a_date(written: str, text: str) -> dt.date | None:
    if match := _DAY_MONTH_YEAR.match(written):
        return _day(int(match["year"]), int(match["month"]), int(match["day"]), text)
    parts = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", written.strip())
    if parts is None:
        return None
    return _day(int(parts[3]), int(parts[2]), int(parts[1]), text)


def _day(year: int, month: int, day: int, text: str) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError as exc:
        raise CellError(_('"%(value)s" is not a real date.') % {"value": text}) from exc


def _year(match: re.Match[str], text: str, default_year: int | None) -> int:
    if match["year"]:
        return int(match["year"])
    if default_year is None:
        raise CellError(
            _('"%(value)s": write the year too, e.g. "Quý III/2026".') % {"value": text}
        )
    return default_year


def period_end(day: dt.date, every: str) -> dt.date:
    """The last day of the period (``Every``) that holds ``day``: an ongoing task's report date."""
    if every == Every.MONTH:
        month = day.month
    elif every == Every.QUARTER:
        month = (day.month - 1) // 3 * 3 + 3
    else:
        month = 12
    return dt.date(day.year, month, calendar.monthrange(day.year, month)[1])
