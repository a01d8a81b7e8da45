"""The self-assessment in a real browser (Debian's chromium through playwright, as
tests/test_browser.py): a focal point completes their unit's items with evidence on a phone, a
coordinator returns one and accepts the other, the unit resubmits, and the readiness page shows
the result. Selectors use names and URLs, not text, so the test holds in either language."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group

from plans import roles
from plans.models import ItemStatus, SelfAssessmentItem
from plans.self_assessment import self_assessment_open
from plans.services import indicator_owner_set
from tests.factories import (
    PDF_BYTES,
    ComponentIndicatorFactory,
    PlanFactory,
    UnitFactory,
    UserFactory,
    focal_point_of,
    main_indicator,
)
from tests.test_browser import PHONE, _shot, _sign_in, browser  # noqa: F401

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _item_url(base: str, item: SelfAssessmentItem) -> str:
    return f"{base}/self-assessment/items/{item.pk}/"


def test_a_unit_completes_its_items_and_the_coordinator_checks_them(
    live_server,
    browser,  # noqa: F811
    tmp_path,
):
    unit = UnitFactory(name="Sở Nội vụ")
    focal_point_of(unit, "hoang.van.nam@snv.tinh.example")
    for code in ("7.1", "7.2"):
        ComponentIndicatorFactory(code=code, max_points=Decimal("10"))
    plan = PlanFactory(title="Kế hoạch DTI 2023", year=2023)
    indicator_owner_set(plan=plan, indicator=main_indicator("7"), presiding_unit=unit)
    coordinator = UserFactory(username="dti@skhcn.tinh.example", is_staff=True)
    coordinator.groups.add(Group.objects.get(name=roles.COORDINATOR))
    self_assessment_open(year=2023, deadline=dt.date(2024, 1, 15), by=coordinator)
    first, second = (
        SelfAssessmentItem.objects.get(indicator__code=code, indicator__parent__code="7")
        for code in ("7.1", "7.2")
    )
    evidence = tmp_path / "danh-sach-tap-huan.pdf"
    evidence.write_bytes(PDF_BYTES)
    base = live_server.url

    # The focal point, on a phone: both items, points, figures, a file, submit.
    context = browser.new_context(viewport=PHONE, locale="vi-VN")
    page = context.new_page()
    _sign_in(page, base, "hoang.van.nam@snv.tinh.example")
    page.goto(base + "/self-assessment/")
    assert page.locator(".task-link").count() == 2
    _shot(page, "sa-1-items")
    for item, points in ((first, "9,5"), (second, "6")):
        page.goto(_item_url(base, item))
        page.fill("input[name=points]", points)
        page.fill("textarea[name=figures]", "1.245/1.300 cán bộ đã được tập huấn")
        page.click("form[action$='/save/'] button[type=submit]")
        page.wait_for_url(_item_url(base, item))
        page.set_input_files("input[name=file]", str(evidence))
        page.click("form[action$='/evidence/'] button[type=submit]")
        page.wait_for_url(_item_url(base, item))
        assert page.locator("a[href^='/self-assessment/evidence/']").count() == 1
        _shot(page, f"sa-2-item-{item.indicator.code}")
        page.click("form[action$='/submit/'] button[type=submit]")
        page.wait_for_url(_item_url(base, item))
    context.close()
    assert set(
        SelfAssessmentItem.objects.values_list("status", flat=True).filter(
            pk__in=[first.pk, second.pk]
        )
    ) == {ItemStatus.SUBMITTED}

    # The coordinator, on a desktop: returns the second, accepts the first.
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    _sign_in(page, base, coordinator.username)
    page.goto(_item_url(base, second))
    page.check("input[name=decision][value=return]")
    page.fill("textarea[name=comment]", "Bổ sung minh chứng")
    page.click("form[action$='/review/'] button[type=submit]")
    page.wait_for_url(_item_url(base, second))
    page.goto(_item_url(base, first))
    page.check("input[name=decision][value=accept]")
    page.click("form[action$='/review/'] button[type=submit]")
    page.wait_for_url(_item_url(base, first))
    context.close()

    # The unit corrects the returned item and submits it again.
    context = browser.new_context(viewport=PHONE, locale="vi-VN")
    page = context.new_page()
    _sign_in(page, base, "hoang.van.nam@snv.tinh.example")
    page.goto(_item_url(base, second))
    assert "Bổ sung minh chứng" in page.inner_text(".facts")
    page.fill("input[name=points]", "7")
    page.click("form[action$='/save/'] button[type=submit]")
    page.wait_for_url(_item_url(base, second))
    page.click("form[action$='/submit/'] button[type=submit]")
    page.wait_for_url(_item_url(base, second))
    context.close()

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.points) == (ItemStatus.ACCEPTED, Decimal("9.5"))
    assert (second.status, second.points) == (ItemStatus.SUBMITTED, Decimal("7"))

    # The readiness page: 16.5 of 1,000 points accepted or submitted.
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(base + "/admin/login/")
    page.fill("input[name=username]", coordinator.username)
    page.fill("input[name=password]", "correct-horse-battery-staple")
    page.click("input[type=submit]")
    page.goto(base + "/admin/reports/self-assessment/")
    assert "0,0165" in page.content() or "0.0165" in page.content()
    _shot(page, "sa-3-readiness")
    context.close()
