"""Each kind of user's first week, in a real browser (Debian's chromium through playwright):

- the coordinator: DTI results → weak indicators → drafted tasks → deciding requests;
- a focal point on a phone: acknowledge, progress with evidence, extension, completion, inbox;
- the steering committee: the reports and the monthly pack.

Every step is saved as a screenshot at 1366 px and at 390 px under ``var/screenshots/``
(``JOURNEY_SCREENSHOTS`` overrides the folder); docs/portal.md shows them with their captions.
Skipped without chromium like tests/test_browser.py, a failure under CI.
"""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.utils import timezone

from indicators.models import Assessment
from plans import roles
from plans.models import (
    Assignment,
    CompletionSubmission,
    Decision,
    ExtensionRequest,
    Plan,
    Task,
)
from plans.services import extension_decide
from tests.factories import (
    PDF_BYTES,
    AssignmentFactory,
    ComponentIndicatorFactory,
    PlanFactory,
    TaskFactory,
    UnitFactory,
    UserFactory,
    assessment_with_scores,
    focal_point_of,
    main_indicator,
    province,
)
from tests.test_browser import PASSWORD, browser  # noqa: F401 - the fixture

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


def _folder(journey: str) -> Path:
    root = os.environ.get("JOURNEY_SCREENSHOTS") or str(Path(settings.VAR_DIR) / "screenshots")
    folder = Path(root) / journey
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def shots(page, journey: str, name: str) -> None:
    """The page at both widths, whole length; the page is left at the width it had."""
    folder = _folder(journey)
    before = page.viewport_size
    for label, size in (("1366", DESKTOP), ("390", PHONE)):
        page.set_viewport_size(size)
        page.screenshot(path=str(folder / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(before)


def sign_in_portal(page, base: str, username: str) -> None:
    page.goto(base + "/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_url(base + "/")


def sign_in_admin(page, base: str, username: str, then: str) -> None:
    page.goto(f"{base}/admin/login/?next={then}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(base + then)


def member_of(group: str, username: str, **fields):
    user = UserFactory(username=username, is_staff=True, **fields)
    user.groups.add(Group.objects.get(name=group))
    return user


def test_coordinator_goes_from_results_to_weak_list_to_drafts_to_decisions(
    live_server,
    browser,  # noqa: F811
):
    today = timezone.localdate()
    for code in ("7.1", "7.2", "7.3"):
        ComponentIndicatorFactory(code=code, max_points=Decimal("10"))
    lang_son = province("Lạng Sơn")
    plan = PlanFactory(title="Kế hoạch nâng cao DTI 2026", year=2026, province=lang_son)
    assessment_with_scores("Lạng Sơn", 2024, {"7.1": "0", "7.2": "0", "7.3": "8"})
    department = UnitFactory(name="Sở Khoa học và Công nghệ")
    coordinator = member_of(
        roles.COORDINATOR, "dti@skhcn.tinh.example", first_name="Hà", last_name="Trần Thu"
    )
    focal_point_of(department, "focal@skhcn.tinh.example")
    late = TaskFactory(
        plan=plan,
        indicator=main_indicator("7"),
        title="Số hóa hồ sơ thủ tục hành chính",
        lead_unit=department,
        deadline=today + dt.timedelta(days=3),
    )
    request = ExtensionRequest.objects.create(
        task=late,
        unit=department,
        previous_deadline=late.deadline,
        new_deadline=late.deadline + dt.timedelta(days=30),
        reason="Chờ kinh phí bổ sung",
    )
    base = live_server.url
    context = browser.new_context(viewport=DESKTOP, locale="vi-VN")
    page = context.new_page()

    # The province's results.
    assessment = Assessment.objects.get(year=2024, province=lang_son)
    sign_in_admin(page, base, coordinator.username, "/admin/")
    shots(page, "coordinator", "1-admin-home")
    page.goto(f"{base}/admin/indicators/assessment/{assessment.pk}/change/")
    shots(page, "coordinator", "2-results")

    # The weak indicators, then one draft task for each.
    page.goto(base + "/admin/indicators/weakindicator/")
    assert page.locator("#result_list tbody tr").count() == 2
    shots(page, "coordinator", "3-weak-indicators")
    page.check("#action-toggle")
    page.select_option("select[name=action]", "create_draft_tasks")
    page.click("button[name=index]")
    page.select_option("select[name=plan]", str(plan.pk))
    page.select_option("select[name=lead_unit]", str(department.pk))
    shots(page, "coordinator", "4-draft-form")
    page.click("input[type=submit].default")
    page.wait_for_url("**/weakindicator/**")
    assert Task.objects.filter(status=Task.Status.DRAFT, plan=plan).count() == 2
    page.goto(base + "/admin/plans/task/?status__exact=draft")
    assert page.locator("#result_list tbody tr").count() == 2
    shots(page, "coordinator", "5-drafted-tasks")

    # Decisions: the list in the portal, then the request's decide page in the admin.
    page.goto(base + "/decisions/")
    assert page.locator(f"a[href='/extensions/{request.pk}/decide/']").count() == 1
    shots(page, "coordinator", "6-decisions")
    page.goto(f"{base}/admin/plans/extensionrequest/{request.pk}/change/")
    shots(page, "coordinator", "7-request")
    page.click("a.decide-link")
    page.check("input[name=decision][value=refuse]")
    page.fill("textarea[name=note]", "Đề nghị bố trí nguồn trong dự toán năm")
    shots(page, "coordinator", "8-decide")
    page.click(".decide-form input[type=submit]")
    page.wait_for_url(f"**/extensionrequest/{request.pk}/change/")
    shots(page, "coordinator", "9-decided")
    page.goto(base + "/admin/plans/extensionrequest/")
    assert page.locator("#result_list tbody tr").count() == 1
    shots(page, "coordinator", "10-requests")
    context.close()

    request.refresh_from_db()
    assert (request.status, request.decided_by) == (Decision.REFUSED, coordinator)


def test_focal_point_on_a_phone_acknowledges_reports_asks_completes_and_reads_the_inbox(
    live_server,
    browser,  # noqa: F811
    tmp_path,
):
    today = timezone.localdate()
    unit = UnitFactory(name="Sở Nội vụ", short_name="SNV")
    nam = focal_point_of(
        unit, "hoang.van.nam@snv.tinh.example", first_name="Nam", last_name="Hoàng Văn"
    )
    plan = PlanFactory(title="Kế hoạch nâng cao DTI 2026", year=2026)
    late = TaskFactory(
        plan=plan,
        lead_unit=unit,
        title="Số hóa hồ sơ công chức",
        start_date=today - dt.timedelta(days=90),
        deadline=today - dt.timedelta(days=5),
    )
    AssignmentFactory(task=late, unit=UnitFactory(), role=Assignment.Role.MONITORING)
    done = TaskFactory(
        plan=plan, lead_unit=unit, title="Đào tạo kỹ năng số", deadline=today + dt.timedelta(40)
    )
    coordinator = member_of(roles.COORDINATOR, "dti@skhcn.tinh.example")
    evidence = tmp_path / "bien-ban-nghiem-thu.pdf"
    evidence.write_bytes(PDF_BYTES)
    base = live_server.url

    context = browser.new_context(viewport=PHONE, locale="vi-VN", is_mobile=True)
    page = context.new_page()
    sign_in_portal(page, base, nam.username)
    shots(page, "focal-point", "1-tasks")

    # Acknowledge the late task.
    page.click(f"a[href='/tasks/{late.pk}/']")
    page.wait_for_url(f"**/tasks/{late.pk}/")
    shots(page, "focal-point", "2-task")
    page.click(f"form[action='/tasks/{late.pk}/acknowledge/'] button")
    page.wait_for_url(f"**/tasks/{late.pk}/")

    # Progress with evidence: a first try without the delay reason is refused and the page
    # says the file must be attached again.
    page.click(f"a[href='/tasks/{late.pk}/progress/']")
    page.fill("input[name=percent]", "60")
    page.fill("textarea[name=note]", "Đã số hóa 600/1000 hồ sơ")
    page.set_input_files("input[name=evidence_file]", str(evidence))
    page.click("form.form button[type=submit]")
    assert "bien-ban-nghiem-thu.pdf" in page.inner_text("p.msg.warning")
    shots(page, "focal-point", "3-progress-error")
    page.fill("textarea[name=delay_reason]", "Máy quét hỏng hai tuần")
    page.set_input_files("input[name=evidence_file]", str(evidence))
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"**/tasks/{late.pk}/")
    assert page.locator("a[href^='/evidence/']").count() == 1

    # Ask for more time.
    page.click(f"a[href='/tasks/{late.pk}/extension/']")
    page.fill("input[name=new_deadline]", (today + dt.timedelta(days=30)).isoformat())
    page.fill("textarea[name=reason]", "Chờ bổ sung máy quét")
    shots(page, "focal-point", "4-extension")
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"**/tasks/{late.pk}/")

    # Submit the other task's completion.
    page.goto(f"{base}/tasks/{done.pk}/completion/")
    page.fill("input[name=document_number]", "45/BC-SNV")
    page.fill("input[name=document_date]", today.isoformat())
    page.fill("textarea[name=summary]", "Đã đào tạo 1.200 cán bộ")
    page.set_input_files("input[name=document]", str(evidence))
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"**/tasks/{done.pk}/")
    shots(page, "focal-point", "5-awaiting-verification")

    # The coordinator refuses the extension; the unit's inbox has it at once.
    request = ExtensionRequest.objects.get(task=late)
    extension_decide(request=request, by=coordinator, approve=False, note="Không đủ căn cứ")
    page.goto(base + "/notifications/")
    assert "Số hóa hồ sơ công chức" in page.inner_text("ul.notifications")
    shots(page, "focal-point", "6-inbox")
    page.goto(base + "/profile/")
    shots(page, "focal-point", "7-settings")
    context.close()

    assert CompletionSubmission.objects.get(task=done).status == Decision.PENDING


def test_steering_committee_reads_the_reports_and_the_pack(
    live_server,
    browser,  # noqa: F811
):
    today = timezone.localdate()
    plan = PlanFactory(title="Kế hoạch DTI 2026", year=today.year, status=Plan.Status.ACTIVE)
    units = [UnitFactory(name="Sở Khoa học và Công nghệ"), UnitFactory(name="Sở Nội vụ")]
    states = [
        (Task.Status.COMPLETED, 30),
        (Task.Status.IN_PROGRESS, 20),
        (Task.Status.IN_PROGRESS, -12),
        (Task.Status.NEW, -3),
        (Task.Status.SUBMITTED, 40),
    ]
    for n, code in enumerate(["1", "3", "4", "7", "7", "8", "9"]):
        status, due = states[n % len(states)]
        TaskFactory(
            plan=plan,
            indicator=main_indicator(code),
            title=f"Nhiệm vụ số {n + 1}",
            lead_unit=units[n % 2],
            status=status,
            start_date=today - dt.timedelta(days=100),
            deadline=today + dt.timedelta(days=due),
        )
    member = member_of(roles.STEERING_COMMITTEE, "bcd@tinh.example")
    base = live_server.url
    context = browser.new_context(viewport=DESKTOP, locale="vi-VN")
    page = context.new_page()
    sign_in_admin(page, base, member.username, "/admin/reports/")
    assert page.locator("#overview-chart svg.chart").is_visible()
    shots(page, "committee", "1-overview")
    names = ("units", "owners", "overdue", "coverage", "trend", "pack", "targets")
    for number, name in enumerate(names, start=2):
        page.goto(f"{base}/admin/reports/{name}/")
        assert page.locator("#content").is_visible()
        shots(page, "committee", f"{number}-{name}")
        # On a phone the page keeps the screen's width: a wide table scrolls inside itself.
        page.set_viewport_size(PHONE)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], name
        page.set_viewport_size(DESKTOP)
    context.close()
