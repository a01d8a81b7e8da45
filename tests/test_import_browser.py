"""The plan appendix (Word) imported through the admin in a real browser: choose the file, its
format and the plan, read the preview, confirm. Skipped like tests/test_browser.py when the
browser is missing (a failure under CI)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command

from plans.models import Task
from tests.factories import PlanFactory, UserFactory
from tests.test_browser import PASSWORD, browser  # noqa: F401  (the fixture)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"
SAMPLE_PLAN = "Kế hoạch nâng cao chỉ số DTI năm 2026 (mẫu)"


def test_coordinator_imports_the_example_word_appendix_through_the_admin_preview(
    browser,  # noqa: F811
    live_server,
) -> None:
    call_command(
        "import",
        "plans.resources.UnitResource",
        str(EXAMPLES / "units.csv"),
        "--no-input",
        stdout=io.StringIO(),
    )
    plan = PlanFactory(title=SAMPLE_PLAN, year=2026)
    UserFactory(username="admin@tinh.example", is_staff=True, is_superuser=True)
    base = live_server.url
    page = browser.new_page(viewport={"width": 1366, "height": 768})

    page.goto(base + "/admin/login/?next=/admin/plans/task/import/")
    page.fill("input[name=username]", "admin@tinh.example")
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(base + "/admin/plans/task/import/")

    page.set_input_files("input[name=import_file]", str(EXAMPLES / "phu-luc-ke-hoach.docx"))
    page.select_option("select[name=format]", label="docx")
    page.select_option("select[name=plan]", value=str(plan.pk))
    page.click("form[enctype] input[type=submit]")
    page.wait_for_selector("input[name=confirm]")

    preview = page.inner_text("table.import-preview")
    assert "Tuyên truyền về chuyển đổi số trên báo, đài của tỉnh" in preview
    assert "Sở KH&CN → Sở Khoa học và Công nghệ" in preview
    assert "Quý III/2026" in preview
    # The preview fits the screen's width: nothing pushes the page sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    assert not Task.objects.exists()

    page.click("input[name=confirm]")
    page.wait_for_url(base + "/admin/plans/task/")
    assert Task.objects.filter(plan=plan).count() == 5
