"""One reading of a reporting period, shared by the report pages, the pack's schedule and
``manage.py send_report``."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from plans.periods import parse_month, previous_month
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
    assert period_of("2026-05", now) == dt.date(2026, 5, 1)
    # A two-digit year was read as the year 26 by the page's own parser.
    assert period_of("26-05", now) == dt.date(2026, 5, 1)
    assert period_of(None, now) == dt.date(2026, 5, 1)


@pytest.mark.django_db
def test_send_report_refuses_a_month_that_is_not_one():
    with pytest.raises(CommandError, match="--period '2026-13' is not a month"):
        call_command("send_report", "--period", "2026-13", "--dry-run", stdout=io.StringIO())
