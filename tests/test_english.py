"""English is complete: indicator names and the monthly pack's headers follow the language,
and counts read as English counts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone, translation

from plans.models import Evidence, ProgressUpdate
from plans.reports import exports
from tests.factories import ComponentIndicatorFactory, TaskFactory, UnitFactory, focal_point_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def indicator():
    return ComponentIndicatorFactory(
        code="7.1", name_vi="Tỷ lệ hồ sơ trực tuyến", name_en="Share of online applications"
    )


def test_an_indicator_is_named_in_the_active_language(indicator):
    with translation.override("en"):
        assert str(indicator) == "7.1. Share of online applications"
    with translation.override("vi"):
        assert str(indicator) == "7.1. Tỷ lệ hồ sơ trực tuyến"
    indicator.name_en = ""
    with translation.override("en"):
        assert str(indicator) == "7.1. Tỷ lệ hồ sơ trực tuyến", "no English name: the Vietnamese"


def test_the_portal_in_english_names_the_indicator_in_english(client, indicator, settings):
    unit = UnitFactory()
    task = TaskFactory(lead_unit=unit, indicator=indicator)
    client.force_login(focal_point_of(unit))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get(task.get_absolute_url()).content.decode()
    assert "Share of online applications" in page
    assert "Tỷ lệ hồ sơ trực tuyến" not in page


def test_the_monthly_pack_speaks_the_language(indicator):
    unit = UnitFactory()
    task = TaskFactory(lead_unit=unit, indicator=indicator, deadline=dt.date(2026, 12, 31))
    update = ProgressUpdate.objects.create(task=task, unit=unit, percent=10)
    Evidence.objects.create(task=task, unit=unit, progress_update=update, link="https://x.vn")
    now = timezone.now()
    with translation.override("en"):
        assert exports.pack_headers()[:3] == ["No.", "Task", "Indicator"]
        (row,) = exports.pack_rows(now)
        assert row[2] == "7.1. Share of online applications"
        assert row[-1] == "1 file or link"
    with translation.override("vi"):
        assert exports.pack_headers()[:3] == ["STT", "Nhiệm vụ", "Chỉ số"]
        (row,) = exports.pack_rows(now)
        assert row[-1] == "1 tệp hoặc đường dẫn"
