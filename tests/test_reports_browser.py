"""The overview report in a real browser (Debian's chromium driven by playwright): the chart
renders and the XLSX download works. Pattern and fixtures of tests/test_browser.py.

Set ``PORTAL_SCREENSHOTS=/some/dir`` to keep a desktop-sized screenshot of the page.
"""

from __future__ import annotations

import datetime as dt
import io
import os
from pathlib import Path

import openpyxl
import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from plans import roles
from plans.models import Task
from tests.factories import PlanFactory, TaskFactory, UnitFactory, UserFactory, main_indicator
from tests.test_browser import PASSWORD, browser  # noqa: F401 - the fixture

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_committee_member_sees_the_overview_chart_and_downloads_it(live_server, browser):  # noqa: F811
    today = timezone.localdate()
    plan = PlanFactory(title="Kế hoạch DTI 2026", year=today.year)
    units = [UnitFactory(name="Sở Khoa học và Công nghệ"), UnitFactory(name="Sở Nội vụ")]
    states = [
        (Task.Status.COMPLETED, 30),
        (Task.Status.IN_PROGRESS, 20),
        (Task.Status.IN_PROGRESS, -12),
        (Task.Status.NEW, -3),
        (Task.Status.NEW, 40),
    ]
    for n, code in enumerate(["1", "3", "4", "7", "7", "7", "8", "9", "9"]):
        status, due = states[n % len(states)]
        TaskFactory(
            plan=plan,
            indicator=main_indicator(code),
            title=f"Nhiệm vụ {n + 1}",
            lead_unit=units[n % 2],
            status=status,
            start_date=today - dt.timedelta(days=100),
            deadline=today + dt.timedelta(days=due),
        )
    member = UserFactory(username="bcd@tinh.example", is_staff=True)
    member.groups.add(Group.objects.get(name=roles.STEERING_COMMITTEE))
    base = live_server.url

    context = browser.new_context(
        viewport={"width": 1440, "height": 1000}, locale="vi-VN", accept_downloads=True
    )
    page = context.new_page()
    page.goto(base + "/admin/login/?next=/admin/reports/")
    page.fill("input[name=username]", member.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(base + "/admin/reports/")

    chart = page.locator("#overview-chart svg.chart")
    assert chart.is_visible()
    box = chart.bounding_box()
    assert box["width"] > 400 and box["height"] > 100
    # One bar segment per non-zero count: indicators 1, 3, 4, 7, 8, 9.
    assert page.locator("#overview-chart svg rect title").count() >= 6
    folder = os.environ.get("PORTAL_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / "reports-overview.png"), full_page=True)
        page.emulate_media(media="print")
        page.screenshot(path=str(Path(folder) / "reports-overview-print.png"), full_page=True)
        page.emulate_media(media="screen")

    with page.expect_download() as download_info:
        page.click("a.download")
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    workbook = openpyxl.load_workbook(io.BytesIO(Path(download.path()).read_bytes()))
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    total = next(r for r in rows if r[0] in ("Tổng", "Total"))
    assert total[2] == 9
    context.close()
