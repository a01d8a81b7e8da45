"""One reading of a reporting period, shared by the report pages, the pack's schedule and
``manage.py send_report``."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone, translation

from plans.periods import QUARTER, Period, parse_month, parse_period, previous_month
from plans.reports.views import period_of


def test_previous_month_crosses_the_year():
    assert previous_month(dt.date(2026, 1, 15)) == dt.date(2025, 12, 1)
    assert previous_month(dt.date(2026, 3, 31)) == dt.date(2026, 2, 1)


@pytest.mark.parametrize("value", ["2026-05", "2026-5", " 2026-05 "])
def test_a_month_is_read_alike_with_or_without_its_leading_zero(value):
    assert parse_month(value) == dt.date(2026, 5, 1)


@pytest.mark.parametrize("value", ["2026-13", "2026-00", "26-05", "05/2026", "2026-05-01", ""])
def test_anything_but_a_month_is_refused(value):
    with pytest.raises(ValueError, match="not a month"):
        parse_month(value)


def test_the_pack_page_falls_back_to_last_month_where_the_command_refuses():
    now = timezone.make_aware(dt.datetime(2026, 6, 1, 8))
    may = Period(dt.date(2026, 5, 1))
    assert period_of("2026-05", now) == may
    # A two-digit year was read as the year 26 by the page's own parser.
    assert period_of("26-05", now) == may
    assert period_of(None, now) == may


def test_a_quarter_is_read_named_and_followed_in_each_language():
    third = parse_period("2026-Q3")
    assert (third.start, third.end, third.kind) == (
        dt.date(2026, 7, 1),
        dt.date(2026, 9, 30),
        QUARTER,
    )
    assert parse_period(" 2026-q3 ") == third and third.slug == "2026-Q3"
    assert third.previous() == Period(dt.date(2026, 4, 1), QUARTER)
    assert Period(dt.date(2026, 1, 1), QUARTER).previous() == Period(dt.date(2025, 10, 1), QUARTER)
    assert Period.containing(dt.date(2026, 8, 20), QUARTER) == third
    with translation.override("vi"):
        assert third.label == "Quý III/2026"
        assert Period(dt.date(2026, 5, 1)).phrase == "tháng 05/2026"
    with translation.override("en"):
        assert third.label == "Q3 2026"
        assert Period(dt.date(2026, 5, 1)).phrase == "05/2026"
    with pytest.raises(ValueError, match="not a month such as 2026-05 or a quarter"):
        parse_period("2026-Q5")


def test_the_pack_page_falls_back_to_the_last_quarter_when_the_pack_is_quarterly(settings):
    settings.REPORTS_PERIOD = QUARTER
    now = timezone.make_aware(dt.datetime(2026, 7, 1, 8))
    assert period_of(None, now) == Period(dt.date(2026, 4, 1), QUARTER)
    assert period_of("2026-05", now) == Period(dt.date(2026, 5, 1))


@pytest.mark.django_db
def test_send_report_refuses_a_month_that_is_not_one():
    with pytest.raises(CommandError, match="--period '2026-13' is not a month"):
        call_command("send_report", "--period", "2026-13", "--dry-run", stdout=io.StringIO())
