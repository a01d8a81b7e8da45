"""The steering committee's reports: figures against data built here, read-only access over
HTTP, the XLSX downloads, and a constant number of queries for 10 and for 5,000 tasks."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
import time_machine
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from indicators.models import WeakRule
from plans import roles
from plans.models import (
    Acknowledgement,
    Assignment,
    CompletionSubmission,
    Decision,
    ExtensionRequest,
    Plan,
    ProgressUpdate,
    Task,
)
from plans.reports import exports, queries
from plans.reports.filters import ReportFilters
from tests.factories import (
    PlanFactory,
    TaskFactory,
    UnitFactory,
    UserFactory,
    assessment_with_scores,
    main_indicator,
    province,
)

pytestmark = pytest.mark.django_db

NOW = timezone.make_aware(dt.datetime(2026, 6, 15, 10, 0))
TODAY = NOW.date()
REPORT_URLS = [
    "/admin/reports/",
    "/admin/reports/units/",
    "/admin/reports/owners/",
    "/admin/reports/coverage/",
    "/admin/reports/overdue/",
    "/admin/reports/trend/",
    "/admin/reports/pack/",
]


def days(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


def at(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(9)))


@pytest.fixture
def world():
    """Lạng Sơn's 2024 and 2025 results, Hà Nội's 2025, and a 2026 plan for Lạng Sơn whose
    tasks are in every state a report tells apart."""
    ls = province("Lạng Sơn", 2025)
    assessment_with_scores("Lạng Sơn", 2024, {"1": "30", "7": "60"})
    assessment_with_scores("Lạng Sơn", 2025, {"1": "40", "2": "20", "7": "80", "8": "150"})
    assessment_with_scores("Hà Nội", 2025, {"1": "90", "7": "180", "8": "120"})
    WeakRule.objects.create(year=2025, zero_points=True, below_percent=50)
    plan = PlanFactory(title="Kế hoạch DTI 2026", year=2026, province=ls)
    a = UnitFactory(name="Sở Khoa học và Công nghệ")
    b = UnitFactory(name="Sở Nội vụ")
    i1, i7, i8 = main_indicator("1"), main_indicator("7"), main_indicator("8")

    def task(title: str, indicator, lead, status, deadline, **kw) -> Task:
        return TaskFactory(
            plan=plan,
            title=title,
            indicator=indicator,
            lead_unit=lead,
            status=status,
            start_date=days(-120),
            deadline=deadline,
            **kw,
        )

    on_time = task("Đúng hạn", i7, a, Task.Status.COMPLETED, days(-30), percent_done=100)
    late = task("Trễ hạn", i7, a, Task.Status.COMPLETED, days(-60), percent_done=100)
    stuck = task("Đang trễ", i7, b, Task.Status.IN_PROGRESS, days(-10), percent_done=40)
    fresh = task("Mới giao", i1, b, Task.Status.NEW, days(30))
    submitted = task("Chờ xác nhận", i8, a, Task.Status.SUBMITTED, days(5), percent_done=100)
    task("Bản nháp", i1, a, Task.Status.DRAFT, days(60))
    task("Đã hủy", i1, a, Task.Status.CANCELLED, days(-5))
    waiting = task("Trễ lâu", i7, a, Task.Status.IN_PROGRESS, days(-40), percent_done=10)

    for done, was_overdue in ((on_time, False), (late, True)):
        CompletionSubmission.objects.create(
            task=done,
            unit=a,
            document_number="45/BC-SKHCN",
            document_date=days(-31),
            summary="Đã hoàn thành",
            was_overdue=was_overdue,
            delay_reason="Chậm phê duyệt" if was_overdue else "",
            status=Decision.APPROVED,
            decided_at=at(days(-20)),
        )
    ProgressUpdate.objects.create(
        task=stuck,
        unit=b,
        created_at=at(days(-3)),
        percent=40,
        note="Đã khảo sát",
        was_overdue=True,
        delay_reason="Thiếu kinh phí",
    )
    ExtensionRequest.objects.create(
        task=waiting,
        unit=a,
        requested_at=at(days(-2)),
        previous_deadline=days(-40),
        new_deadline=days(20),
        reason="Chờ nhà thầu",
    )
    Assignment.objects.create(task=on_time, unit=b, role=Assignment.Role.COORDINATING)
    for t, unit in ((on_time, a), (late, a), (stuck, b)):
        Acknowledgement.objects.create(task=t, unit=unit)
    return {
        "plan": plan,
        "a": a,
        "b": b,
        "stuck": stuck,
        "waiting": waiting,
        "fresh": fresh,
        "submitted": submitted,
    }


@pytest.fixture
def committee_member(client):
    user = UserFactory(username="bcd@tinh.example", is_staff=True)
    user.groups.add(Group.objects.get(name=roles.STEERING_COMMITTEE))
    client.force_login(user)
    client.cookies["django_language"] = "en"  # pages and files asserted in English
    return user


# --- Figures ---------------------------------------------------------------------------------


def test_overview_counts_tasks_per_main_indicator_and_pillar_with_points_targeted(world):
    data = queries.overview(filters=ReportFilters(), now=NOW)
    by_code = {line.indicator.code: line for line in data.indicators}
    seven = by_code["7"]
    assert (seven.total, seven.completed, seven.in_progress, seven.overdue) == (4, 2, 0, 2)
    assert seven.percent_complete == Decimal("50.0")
    assert seven.points_targeted == Decimal("120.00")  # 200 - 80 in DTI 2025
    assert (by_code["1"].total, by_code["1"].in_progress, by_code["1"].points_targeted) == (
        1,
        1,
        Decimal("60.00"),
    )
    assert (by_code["8"].in_progress, by_code["8"].points_targeted) == (1, Decimal("0.00"))
    pillars = {line.pillar: line for line in data.pillars}
    assert pillars["foundation"].total == 1
    assert pillars["government"].overdue == 2
    assert pillars["economy"].total == 1
    total = data.total
    assert (total.total, total.completed, total.in_progress, total.overdue) == (6, 2, 2, 2)
    assert total.points_targeted == Decimal("180.00")


def test_overview_filters_by_unit_and_main_indicator(world):
    by_unit = queries.overview(filters=ReportFilters(unit=world["b"]), now=NOW)
    # B leads "Đang trễ" and "Mới giao" and coordinates "Đúng hạn".
    assert by_unit.total.total == 3
    seven = queries.overview(filters=ReportFilters(main_indicator=main_indicator("7")), now=NOW)
    assert [line.indicator.code for line in seven.indicators] == ["7"]


def test_a_report_opens_on_the_latest_plan_years_work_and_all_years_is_one_choice_away(
    world, client, committee_member
):
    """Last year's closed plan, its work done, does not swell this year's figures when the
    report is opened; "All years" (an empty year) and last year's plan itself are asked."""
    closed = PlanFactory(
        title="Kế hoạch DTI 2025", year=2025, province=world["plan"].province, status="closed"
    )
    for n in range(3):
        TaskFactory(
            plan=closed,
            title=f"Việc năm trước {n}",
            indicator=main_indicator("7"),
            status=Task.Status.COMPLETED,
            start_date=dt.date(2025, 1, 1),
            deadline=dt.date(2025, 9, 30),
        )

    def total(query: str = "") -> tuple[int, str]:
        with time_machine.travel(NOW, tick=False):
            response = client.get(f"/admin/reports/{query}")
        year = response.context["filterset"].form["year"].value()
        return response.context["data"].total.total, year

    assert total() == (6, "2026")  # the 2026 plan in force; its 6 tasks
    assert total("?year=") == (9, "")  # every year: 2025's 3 completed tasks too
    assert total("?year=2025") == (3, "2025")
    assert total(f"?plan={closed.pk}") == (3, None)
    with time_machine.travel(NOW, tick=False):
        page = client.get("/admin/reports/units/").content.decode()
    assert '<option value="2026" selected>2026</option>' in page
    assert '<option value="">All years</option>' in page


def test_units_report_counts_lead_tasks_timeliness_and_acknowledgements(world):
    lines = {line.unit.name: line for line in queries.units(filters=ReportFilters(), now=NOW)}
    a, b = lines["Sở Khoa học và Công nghệ"], lines["Sở Nội vụ"]
    assert (a.lead, a.completed_on_time, a.completed_late, a.overdue) == (4, 1, 1, 1)
    assert (a.acknowledged, a.with_role, a.acknowledged_share) == (2, 4, Decimal("50.0"))
    assert (b.lead, b.overdue, b.acknowledged, b.with_role) == (2, 1, 1, 3)
    assert timezone.localdate(b.last_report_at) == days(-3)
    assert a.last_report_at is None


def test_units_report_takes_each_units_last_report_on_the_reports_tasks_only(world):
    """A later report on a task the report leaves out (cancelled, another plan's) is not the
    unit's last report there; a unit with two roles on one task counts the task once."""
    b = world["b"]
    other_plan = PlanFactory(title="Kế hoạch khác", year=2026)
    other = TaskFactory(
        plan=other_plan, lead_unit=b, status=Task.Status.IN_PROGRESS, deadline=days(30)
    )
    cancelled = Task.objects.get(title="Đã hủy")
    for task, day in ((cancelled, -1), (other, -2)):
        ProgressUpdate.objects.create(task=task, unit=b, created_at=at(days(day)), percent=10)
    Assignment.objects.create(
        task=Task.objects.get(title="Đúng hạn"), unit=b, role=Assignment.Role.MONITORING
    )
    in_plan = queries.units(filters=ReportFilters(plan=world["plan"]), now=NOW)
    line = next(line for line in in_plan if line.unit == b)
    assert timezone.localdate(line.last_report_at) == days(-3)
    assert (line.lead, line.with_role) == (2, 3)
    elsewhere = queries.units(filters=ReportFilters(plan=other_plan), now=NOW)
    assert [(line.unit, timezone.localdate(line.last_report_at)) for line in elsewhere] == [
        (b, days(-2))
    ]


def test_coverage_lists_weak_indicators_with_and_without_an_open_task(world):
    data = queries.coverage(filters=ReportFilters(plan=world["plan"]), now=NOW)
    assert (data.province.name, data.year) == ("Lạng Sơn", 2025)
    covered = {row.indicator.code: row.covered for row in data.rows}
    assert covered == {"1": True, "2": False, "7": True}
    assert data.uncovered == 1


def test_coverage_counts_only_the_provinces_plans_and_tells_drafts_apart(world):
    # Hà Nội's plan works on indicator 2; Lạng Sơn's has only a draft for it.
    ha_noi_plan = PlanFactory(title="Kế hoạch Hà Nội", year=2026, province=province("Hà Nội", 2025))
    TaskFactory(plan=ha_noi_plan, indicator=main_indicator("2"), title="Việc của Hà Nội")
    TaskFactory(
        plan=world["plan"], indicator=main_indicator("2"), title="Nháp", status=Task.Status.DRAFT
    )
    data = queries.coverage(filters=ReportFilters(plan=world["plan"]), now=NOW)
    rows = {row.indicator.code: row for row in data.rows}
    assert {code: row.coverage for code, row in rows.items()} == {
        "1": "covered",
        "2": "drafted",
        "7": "covered",
    }
    assert [t.title for t in rows["2"].addressing_tasks] == ["Nháp"]
    assert (data.covered, data.drafted, data.uncovered) == (2, 1, 0)


def test_overdue_report_gives_days_lead_unit_and_reason(world):
    data = queries.overdue(filters=ReportFilters(), now=NOW)
    assert dict(data.bands) == {"1-7": 0, "8-30": 1, "31-90": 1, "91+": 0}
    rows = [
        (t.title, t.lead_unit.name, t.days_overdue(NOW), t.delay_reason)
        for t in data.page.object_list
    ]
    assert rows == [
        ("Trễ lâu", "Sở Khoa học và Công nghệ", 40, "Chờ nhà thầu"),
        ("Đang trễ", "Sở Nội vụ", 10, "Thiếu kinh phí"),
    ]


def test_trend_gives_dti_value_rank_and_indicator_means(world):
    data = queries.trend(filters=ReportFilters(plan=world["plan"]), now=NOW)
    years = {y.year: y for y in data.years}
    assert list(years) == [2024, 2025]
    assert (years[2024].dti.value, years[2024].dti.rank) == (Decimal("0.0900"), 1)
    assert (years[2025].dti.value, years[2025].dti.rank, years[2025].dti.out_of) == (
        Decimal("0.2900"),
        2,
        2,
    )
    assert years[2025].dti_mean == Decimal("0.3400")
    seven = next(i for i in years[2025].indicators if i.indicator.code == "7")
    assert (seven.value, seven.mean) == (Decimal("0.4000"), Decimal("0.6500"))


# --- HTTP: who reads, nobody changes -----------------------------------------------------------


@pytest.mark.parametrize("url", REPORT_URLS)
def test_committee_member_reads_every_report_and_changes_nothing(
    world, client, committee_member, url
):
    with time_machine.travel(NOW, tick=False):
        page = client.get(url)
        assert page.status_code == 200
        assert "<svg" in page.content.decode() or url.endswith("pack/")
        before = list(Task.objects.values_list("pk", "status", "deadline", "percent_done"))
        for method in (client.post, client.put, client.delete):
            assert method(url).status_code == 405
        assert list(Task.objects.values_list("pk", "status", "deadline", "percent_done")) == before


def test_admin_index_lists_the_reports_for_the_committee(client, committee_member):
    page = client.get("/admin/")
    assert page.status_code == 200
    assert 'href="/admin/reports/units/"' in page.content.decode()


def test_staff_without_the_permission_cannot_read_reports(client):
    client.force_login(UserFactory(is_staff=True))
    assert client.get("/admin/reports/").status_code == 403
    assert 'href="/admin/reports/' not in client.get("/admin/").content.decode()


def test_focal_point_and_anonymous_are_kept_out(client, world):
    assert client.get("/admin/reports/").status_code == 302  # to the admin's sign-in
    user = UserFactory()
    user.groups.add(Group.objects.get(name=roles.FOCAL_POINT))
    client.force_login(user)
    assert client.get("/admin/reports/units/").status_code == 302


def test_coordinator_reads_reports(client, world):
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=roles.COORDINATOR))
    client.force_login(user)
    assert client.get("/admin/reports/trend/").status_code == 200


# --- Downloads -------------------------------------------------------------------------------


def _sheet(content: bytes):
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    return workbook, workbook.worksheets[0]


def test_overview_xlsx_holds_the_same_figures(world, client, committee_member):
    with time_machine.travel(NOW, tick=False):
        response = client.get("/admin/reports/?download=xlsx")
    assert response["Content-Type"] == exports.XLSX_TYPE
    _wb, sheet = _sheet(response.content)
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0][:3] == ["Main indicator", "Pillar", "Tasks"]
    seven = next(r for r in rows if r[0] and str(r[0]).startswith("7."))
    assert seven[2:8] == [4, 2, 0, 2, 50, 120]
    total = next(r for r in rows if r[0] == "Total")
    assert total[2:6] == [6, 2, 2, 2]


@pytest.mark.parametrize("name", ["units", "owners", "coverage", "overdue", "trend"])
def test_every_report_downloads_as_xlsx(world, client, committee_member, name):
    with time_machine.travel(NOW, tick=False):
        response = client.get(f"/admin/reports/{name}/?download=xlsx")
    assert response.status_code == 200
    _wb, sheet = _sheet(response.content)
    assert sheet.max_row > 1


def test_coverage_page_lists_five_tasks_a_row_and_the_download_every_one(
    world, client, committee_member
):
    for n in range(1, 9):
        TaskFactory(plan=world["plan"], indicator=main_indicator("1"), title=f"Thêm {n}")
    url = f"/admin/reports/coverage/?plan={world['plan'].pk}"
    with time_machine.travel(NOW, tick=False):
        page = client.get(url).content.decode()
        download = client.get(f"{url}&download=xlsx")
    # Indicator 1 is addressed by 10 tasks: "Mới giao", the draft "Bản nháp" and 8 more.
    [row] = [r for r in page.split("<tr") if "Thêm" in r]
    assert row.count("Thêm ") + row.count("Mới giao") + row.count("Bản nháp") == 5
    assert "and 5 more tasks" in row
    _wb, sheet = _sheet(download.content)
    cells = " ".join(str(c) for r in sheet.iter_rows(values_only=True) for c in r)
    assert all(f"Thêm {n} " in cells for n in range(1, 9))


def test_overdue_xlsx_has_days_and_reason(world, client, committee_member):
    with time_machine.travel(NOW, tick=False):
        response = client.get("/admin/reports/overdue/?download=xlsx")
    _wb, sheet = _sheet(response.content)
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[4], r[7]) for r in rows] == [
        ("Trễ lâu", 40, "Chờ nhà thầu"),
        ("Đang trễ", 10, "Thiếu kinh phí"),
    ]


def test_a_formula_in_a_title_is_neutralised_in_the_download(world, client, committee_member):
    world["stuck"].title = '=HYPERLINK("http://evil")'
    world["stuck"].save()
    with time_machine.travel(NOW, tick=False):
        response = client.get("/admin/reports/overdue/?download=xlsx")
    _wb, sheet = _sheet(response.content)
    titles = [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)]
    assert '\'=HYPERLINK("http://evil")' in titles


def test_monthly_pack_has_the_provinces_columns_and_a_docx(world, client, committee_member):
    with time_machine.travel(NOW, tick=False):
        response = client.get("/admin/reports/pack/?period=2026-05&download=xlsx")
        docx = client.get("/admin/reports/pack/?period=2026-05&download=docx")
    workbook, sheet = _sheet(response.content)
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == exports.pack_headers()
    assert len(rows) == 1 + 6  # the six assigned tasks
    stuck = next(r for r in rows if r[1] == "Đang trễ")
    assert stuck[3] == "Sở Nội vụ"
    assert stuck[7] == "Thiếu kinh phí"
    waiting = next(r for r in rows if r[1] == "Trễ lâu")
    assert "Chờ nhà thầu" in waiting[8]
    on_time = next(r for r in rows if r[1] == "Đúng hạn")
    assert (on_time[4], on_time[9].split(";")[0]) == ("Sở Nội vụ", "45/BC-SKHCN")
    assert len(workbook.worksheets) == 7

    import docx as python_docx

    document = python_docx.Document(io.BytesIO(docx.content))
    table = document.tables[0]
    assert [c.text for c in table.rows[0].cells] == exports.pack_headers()
    assert len(table.rows) == 7


# --- Queries do not grow with tasks ------------------------------------------------------------


def _bulk_tasks(count: int, plan: Plan, units: list, start: int = 0) -> None:
    indicators = [main_indicator(code) for code in ("1", "2", "7", "8", "9")]
    statuses = [Task.Status.NEW, Task.Status.IN_PROGRESS, Task.Status.COMPLETED]
    tasks = Task.objects.bulk_create(
        Task(
            plan=plan,
            indicator=indicators[n % len(indicators)],
            title=f"Nhiệm vụ hàng loạt {start + n}",
            lead_unit=units[n % len(units)],
            deadline=days((n % 90) - 45),
            status=statuses[n % len(statuses)],
        )
        for n in range(count)
    )
    ProgressUpdate.objects.bulk_create(
        ProgressUpdate(task=t, unit=t.lead_unit, percent=50, was_overdue=True, delay_reason="Chậm")
        for t in tasks[::3]
    )
    Assignment.objects.bulk_create(
        Assignment(task=t, unit=units[(i + 1) % len(units)], role=Assignment.Role.COORDINATING)
        for i, t in enumerate(tasks[::2])
    )
    Acknowledgement.objects.bulk_create(
        Acknowledgement(task=t, unit=t.lead_unit) for t in tasks[::4]
    )


def _queries_per_page(client, count: int, start: int) -> dict[str, int]:
    plan = Plan.objects.get(title="Kế hoạch DTI 2026")
    units = [UnitFactory() for _ in range(5)]
    _bulk_tasks(count, plan, units, start)
    used = {}
    with time_machine.travel(NOW, tick=False):
        for url in REPORT_URLS:
            with CaptureQueriesContext(connection) as captured:
                assert client.get(url).status_code == 200
            used[url] = len(captured)
    return used


def test_each_report_page_costs_the_same_queries_for_10_and_5000_tasks(
    world, client, committee_member, django_assert_max_num_queries
):
    small = _queries_per_page(client, 10, start=0)
    large = _queries_per_page(client, 4990, start=10)  # 5,000 tasks in all, and 5 more units
    assert large == small, (small, large)
    # Each page within its bound, with 5,000 tasks loaded: LIMITS says what each query is.
    with time_machine.travel(NOW, tick=False):
        for url in REPORT_URLS:
            with django_assert_max_num_queries(LIMITS[url]):
                assert client.get(url).status_code == 200


# Session and user (2) and the permission check (2: the user's and the groups' permissions),
# the filter form's choices (plan, year, main indicator, unit, province: 5), then the report.
BASE = 9
LIMITS = {
    # the counts per (plan, indicator), their indicators with the main ones, the baseline scores
    "/admin/reports/": BASE + 3,
    "/admin/reports/units/": BASE + 4,  # as lead, other roles, acknowledged, units and last reports
    # owner rows, assessment years, weak scores, tasks, the round, its items, the units
    "/admin/reports/owners/": BASE + 7,
    # the plan, baseline year, weak rows, open tasks, the sets and the year's weakness rule
    "/admin/reports/coverage/": BASE + 6,
    "/admin/reports/overdue/": BASE + 3,  # bands, page count, page rows
    # the plan, provinces, years, then per year (2 here) its assessments, published figures,
    # indicators, scores and main indicators: grows with the years loaded, never with tasks
    "/admin/reports/trend/": BASE + 3 + 2 * 5,
    # no filter form; the first rows' ids, those rows, their coordinating units
    "/admin/reports/pack/": 4 + 3,
}


def test_trend_with_a_year_filter_keeps_the_years_known_by_then(world):
    data = queries.trend(
        filters=ReportFilters(year=2024, province=province("Lạng Sơn", 2025)), now=NOW
    )
    assert [y.year for y in data.years] == [2024]
