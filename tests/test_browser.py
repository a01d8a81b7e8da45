"""The portal in a real browser: Debian's chromium driven by the Python playwright package.

Skipped on a developer machine without chromium; under CI (``CI=true``) a missing browser is a
failure, so the test cannot silently stop running. Selectors use names and URLs, not text, so
the test holds in Vietnamese and in English.

Set ``PORTAL_SCREENSHOTS=/some/dir`` to keep phone-sized screenshots of each step.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.db import connections
from django.utils import timezone

from plans import roles
from plans.models import Assignment, Decision, ExtensionRequest, ProgressUpdate, Task
from tests.factories import (
    PDF_BYTES,
    AssignmentFactory,
    TaskFactory,
    UnitFactory,
    UserFactory,
    focal_point_of,
)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "correct-horse-battery-staple"
PHONE = {"width": 390, "height": 844}

# live_server needs committed data (transactions); serialized_rollback restores the migrations'
# data (the DTI 2022 set, the groups) for the transactional tests that follow, as
# tests/test_celery_worker.py does.
pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _require_browser() -> None:
    missing = []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright package (pip install -r requirements.txt)")
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} (apt-get install -y chromium)")
    if missing:
        message = "browser test needs " + " and ".join(missing)
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message + "; CI must run it")
        pytest.skip(message)


@pytest.fixture
def browser():
    _require_browser()
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django then refuses ORM calls
    # from it. The test's own ORM calls are plain synchronous code, so allow them.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield browser
            browser.close()
            # Django's connections are context-local (asgiref): ORM calls made while
            # playwright's loop runs opened a connection of their own. Close it here, or
            # PostgreSQL refuses to drop the test database at the end of the run.
            connections.close_all()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def _shot(page, name: str) -> None:
    folder = os.environ.get("PORTAL_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def _sign_in(page, base: str, username: str) -> None:
    page.goto(base + "/")
    assert "/accounts/login/" in page.url
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_url(base + "/")


def test_focal_point_reports_and_asks_for_time_and_the_coordinator_approves(
    live_server, browser, tmp_path
):
    today = timezone.localdate()
    unit = UnitFactory(name="Sở Nội vụ", short_name="SNV")
    focal_point_of(unit, "hoang.van.nam@snv.tinh.example", first_name="Nam")
    late = TaskFactory(
        lead_unit=unit,
        title="Số hóa hồ sơ công chức",
        start_date=today - dt.timedelta(days=90),
        deadline=today - dt.timedelta(days=5),
    )
    AssignmentFactory(task=late, unit=UnitFactory(), role=Assignment.Role.MONITORING)
    TaskFactory(lead_unit=unit, title="Đào tạo kỹ năng số", deadline=today + dt.timedelta(days=40))
    TaskFactory(title="Việc của đơn vị khác", deadline=today - dt.timedelta(days=2))
    coordinator = UserFactory(username="dti@skhcn.tinh.example", is_staff=True)
    coordinator.groups.add(Group.objects.get(name=roles.COORDINATOR))
    evidence = tmp_path / "bien-ban-nghiem-thu.pdf"
    evidence.write_bytes(PDF_BYTES)
    new_deadline = today + dt.timedelta(days=30)
    base = live_server.url

    # A focal point on a phone.
    context = browser.new_context(viewport=PHONE, locale="vi-VN")
    page = context.new_page()
    _sign_in(page, base, "hoang.van.nam@snv.tinh.example")
    titles = page.locator(".task-title").all_inner_texts()
    assert sorted(titles) == ["Số hóa hồ sơ công chức", "Đào tạo kỹ năng số"]
    _shot(page, "1-tasks")

    # Filter: overdue only, through the filter form.
    page.click("details.filters summary")
    page.select_option("select[name=overdue]", "true")
    page.click("form.filter-form button[type=submit]")
    page.wait_for_url("**/?*overdue=true*")
    assert page.locator(".task-title").all_inner_texts() == ["Số hóa hồ sơ công chức"]
    _shot(page, "2-overdue")

    # Report progress with a PDF; the task is overdue, so a reason for the delay is required.
    page.click(".task-link")
    page.wait_for_url(f"**/tasks/{late.pk}/")
    page.click(f"a[href='/tasks/{late.pk}/progress/']")
    page.fill("input[name=percent]", "60")
    page.fill("textarea[name=note]", "Đã số hóa 600/1000 hồ sơ")
    page.set_input_files("input[name=evidence_file]", str(evidence))
    page.click("form.form button[type=submit]")
    assert page.locator("#id_delay_reason_error, .has-error").count() > 0, "reason required"
    page.fill("textarea[name=note]", "Đã số hóa 600/1000 hồ sơ")
    page.fill("textarea[name=delay_reason]", "Máy quét hỏng hai tuần")
    page.set_input_files("input[name=evidence_file]", str(evidence))
    _shot(page, "3-progress-form")
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"**/tasks/{late.pk}/")
    assert page.locator("a[href^='/evidence/']").count() == 1
    _shot(page, "4-task")

    # Ask for more time.
    page.click(f"a[href='/tasks/{late.pk}/extension/']")
    page.fill("input[name=new_deadline]", new_deadline.isoformat())
    page.fill("textarea[name=reason]", "Chờ bổ sung máy quét")
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"**/tasks/{late.pk}/")
    context.close()

    update = ProgressUpdate.objects.get(task=late)
    assert (update.percent, update.delay_reason) == (60, "Máy quét hỏng hai tuần")
    assert update.evidence.get().original_name == "bien-ban-nghiem-thu.pdf"
    request = ExtensionRequest.objects.get(task=late)
    assert request.status == Decision.PENDING

    # The coordinator, on a desktop, approves it.
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    _sign_in(page, base, coordinator.username)
    page.goto(base + "/decisions/")
    page.click(f"a[href='/extensions/{request.pk}/decide/']")
    page.check("input[name=decision][value=approve]")
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"**/tasks/{late.pk}/")
    assert new_deadline.strftime("%d/%m/%Y") in page.inner_text(".facts")
    context.close()

    late.refresh_from_db()
    request.refresh_from_db()
    assert request.status == Decision.APPROVED
    assert late.deadline == new_deadline
    assert late.original_deadline == today - dt.timedelta(days=5)
    assert late.status == Task.Status.IN_PROGRESS
