"""Progress per indicator owner: for each presiding unit of the plans' indicators, the
indicators it answers for, the weak ones, the tasks on them and its self-assessment items of
the open round; as a report page, an XLSX, and a sheet and a table of the pack."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import docx
import openpyxl
import pytest
import time_machine
from django.contrib.auth.models import Group
from django.utils import timezone

from indicators.models import WeakRule
from plans import roles
from plans.models import ItemStatus, Task
from plans.periods import Period
from plans.reports import exports, queries
from plans.reports.filters import ReportFilters
from plans.self_assessment import self_assessment_close, self_assessment_open, self_assessment_save
from plans.services import indicator_owner_set
from tests.factories import (
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

pytestmark = pytest.mark.django_db

# Decision 922's set is in force in 2023; the plan's baseline is Lạng Sơn's DTI 2022.
YEAR = 2023
NOW = timezone.make_aware(dt.datetime(2023, 11, 15, 10, 0))


@pytest.fixture
def coordinator():
    user = UserFactory(username="dti@skhcn.tinh.example", is_staff=True)
    user.groups.add(Group.objects.get(name=roles.COORDINATOR))
    return user


@pytest.fixture
def owned(coordinator):
    """Sở KH&CN presides over main indicator 7 (its component 7.1 inherits it), Sở Nội vụ
    over main indicator 1; main indicator 8 has no presiding unit. In DTI 2022, 1 and 7 are
    weak (below half their max points), 8 is not."""
    lang_son = province("Lạng Sơn", YEAR)
    assessment_with_scores("Lạng Sơn", 2022, {"1": "40", "7": "80", "8": "150"})
    WeakRule.objects.create(year=2022, zero_points=True, below_percent=50)
    plan = PlanFactory(title="Kế hoạch DTI 2023", year=YEAR, province=lang_son)
    science = UnitFactory(name="Sở Khoa học và Công nghệ")
    home = UnitFactory(name="Sở Nội vụ")
    component = ComponentIndicatorFactory(code="7.1", max_points=Decimal("10"))
    indicator_owner_set(
        plan=plan, indicator=main_indicator("7"), presiding_unit=science, monitoring_unit=home
    )
    indicator_owner_set(plan=plan, indicator=main_indicator("1"), presiding_unit=home)

    def task(title, indicator, lead, status, deadline):
        return TaskFactory(
            plan=plan,
            title=title,
            indicator=indicator,
            lead_unit=lead,
            status=status,
            start_date=dt.date(2023, 1, 1),
            deadline=deadline,
        )

    task("Xong", main_indicator("7"), science, Task.Status.COMPLETED, dt.date(2023, 6, 30))
    # Led by Sở Nội vụ, but on a component of 7: it counts for 7's presiding unit.
    task("Trễ", component, home, Task.Status.IN_PROGRESS, dt.date(2023, 10, 31))
    task("Mới", main_indicator("1"), home, Task.Status.NEW, dt.date(2023, 12, 31))
    task("Không chủ trì", main_indicator("8"), science, Task.Status.NEW, dt.date(2023, 12, 31))
    task("Nháp", main_indicator("1"), home, Task.Status.DRAFT, dt.date(2023, 12, 31))
    opened = self_assessment_open(
        year=YEAR, deadline=dt.date(2024, 1, 15), by=coordinator, plan=plan
    )
    item = opened.round.items.get(indicator=component)
    self_assessment_save(item=item, by=focal_point_of(science), points="8")
    return {"plan": plan, "science": science, "home": home, "round": opened.round}


def test_each_presiding_unit_has_its_indicators_weak_ones_tasks_and_items(owned):
    data = queries.owners(filters=ReportFilters(), now=NOW)
    assert data.round == owned["round"]
    lines = {line.unit.name if line.unit else None: line for line in data.lines}
    science, home, nobody = lines["Sở Khoa học và Công nghệ"], lines["Sở Nội vụ"], lines[None]
    assert (science.indicators, science.weak) == (1, 1)
    assert (science.total, science.completed, science.in_progress, science.overdue) == (2, 1, 0, 1)
    assert science.items[ItemStatus.IN_PROGRESS] == 1 and science.items_total == 1
    assert (home.indicators, home.weak) == (1, 1)
    assert (home.total, home.completed, home.in_progress, home.overdue) == (1, 0, 1, 0)
    assert home.items[ItemStatus.NOT_STARTED] == 1
    # The task on 8 and the items no unit answers for (the other main indicators).
    assert (nobody.indicators, nobody.total) == (0, 1)
    assert nobody.items_total == nobody.items[ItemStatus.NOT_STARTED] > 0
    assert [line.unit for line in data.lines][-1] is None


def test_the_unit_filter_keeps_one_line_and_a_closed_round_counts_no_items(owned, coordinator):
    only = queries.owners(filters=ReportFilters(unit=owned["home"]), now=NOW)
    assert [line.unit for line in only.lines] == [owned["home"]]
    self_assessment_close(round=owned["round"], by=coordinator)
    data = queries.owners(filters=ReportFilters(), now=NOW)
    assert data.round is None
    assert all(line.items_total == 0 for line in data.lines)


@pytest.fixture
def committee_client(client):
    user = UserFactory(username="bcd@tinh.example", is_staff=True)
    user.groups.add(Group.objects.get(name=roles.STEERING_COMMITTEE))
    client.force_login(user)
    client.cookies["django_language"] = "en"
    return client


def test_the_report_page_and_its_xlsx(owned, committee_client, django_assert_max_num_queries):
    # Session, user and permissions (4), the filter form's choices (5), then the figures:
    # owner rows, assessment years, weak scores, tasks, the round, its items, the units.
    with time_machine.travel(NOW, tick=False), django_assert_max_num_queries(9 + 7):
        page = committee_client.get("/admin/reports/owners/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "Sở Khoa học và Công nghệ" in text and "No presiding unit" in text and "<svg" in text
    assert "self-assessment DTI 2023" in text
    with time_machine.travel(NOW, tick=False):
        sheet = committee_client.get("/admin/reports/owners/?download=xlsx")
    rows = list(openpyxl.load_workbook(io.BytesIO(sheet.content)).active.values)
    assert rows[0][:7] == (
        "Presiding unit",
        "Indicators",
        "Weak indicators",
        "Tasks",
        "Completed",
        "In progress",
        "Overdue",
    )
    assert rows[0][7] == "Self-assessment: Not started"
    assert rows[1][:7] == ("Sở Khoa học và Công nghệ", 1, 1, 2, 1, 0, 1)


def test_the_report_costs_the_same_queries_for_few_and_many_tasks(owned, committee_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count() -> int:
        with time_machine.travel(NOW, tick=False), CaptureQueriesContext(connection) as used:
            assert committee_client.get("/admin/reports/owners/").status_code == 200
        return len(used)

    few = count()
    Task.objects.bulk_create(
        Task(
            plan=owned["plan"],
            indicator=main_indicator(code),
            title=f"Nhiệm vụ {n}",
            lead_unit=owned["home"],
            deadline=dt.date(2023, 10, 1) + dt.timedelta(days=n % 90),
            status=Task.Status.IN_PROGRESS,
        )
        for n, code in enumerate(["1", "7", "8"] * 300)
    )
    assert count() == few


def test_the_pack_has_the_owners_as_a_sheet_and_a_table(owned):
    _pack, files = exports.pack_files(period=Period(dt.date(2023, 10, 1)), now=NOW)
    workbook = openpyxl.load_workbook(io.BytesIO(files[0][1]))
    owners = workbook["Đơn vị phụ trách chỉ số"]
    rows = list(owners.values)
    # As of 31 October, the end of the period: the task due that day is not yet overdue.
    assert rows[1][:7] == ("Sở Khoa học và Công nghệ", 1, 1, 2, 1, 1, 0)
    document = docx.Document(io.BytesIO(files[1][1]))
    table = document.tables[1]
    assert table.rows[1].cells[0].text == "Sở Khoa học và Công nghệ"
