"""The plan's invariants hold at every door: the database, and the admin a coordinator uses."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.admin.templatetags.admin_list import date_hierarchy
from django.contrib.auth.models import Group
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from dtiplan import admin_lists
from plans import roles
from plans.models import Assignment, ProgressUpdate, Task
from tests.factories import (
    AssignmentFactory,
    ComponentIndicatorFactory,
    PlanFactory,
    TaskFactory,
    UnitFactory,
    UserFactory,
    main_indicator,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def coordinator(client):
    user = UserFactory(username="dti@skhcn.example", is_staff=True)
    user.groups.add(Group.objects.get(name=roles.COORDINATOR))
    client.force_login(user)
    return user


def task_form(plan, indicator, lead, **overrides) -> dict:
    data = {
        "plan": plan.pk,
        "indicator": indicator.pk,
        "title": "Triển khai nền tảng họp trực tuyến",
        "description": "",
        "expected_output": "Báo cáo kết quả triển khai",
        "lead_unit": lead.pk if lead else "",
        "start_date": "01/03/2026",
        "deadline": "30/06/2026",
        "status": Task.Status.NEW,
        "percent_done": "0",
        "assignments-TOTAL_FORMS": "0",
        "assignments-INITIAL_FORMS": "0",
        "progress_updates-TOTAL_FORMS": "0",
        "progress_updates-INITIAL_FORMS": "0",
    }
    data.update(overrides)
    return data


def with_assignments(data: dict, rows: list[tuple[int, str]]) -> dict:
    data["assignments-TOTAL_FORMS"] = str(len(rows))
    for number, (unit_id, role) in enumerate(rows):
        data[f"assignments-{number}-unit"] = unit_id
        data[f"assignments-{number}-role"] = role
    return data


def test_coordinator_creates_a_task_with_all_its_units_in_the_admin(client, coordinator):
    plan, component = PlanFactory(), ComponentIndicatorFactory(code="7.3")
    lead, helper, monitor = UnitFactory(), UnitFactory(), UnitFactory()
    data = with_assignments(
        task_form(plan, component, lead),
        [
            (lead.pk, Assignment.Role.IMPLEMENTING),
            (helper.pk, Assignment.Role.COORDINATING),
            (monitor.pk, Assignment.Role.MONITORING),
        ],
    )
    response = client.post("/admin/plans/task/add/", data)
    assert response.status_code == 302, response.context["adminform"].errors
    task = Task.objects.get()
    assert task.lead_unit == lead
    assert task.deadline == dt.date(2026, 6, 30)
    assert sorted(task.assignments.values_list("unit_id", "role")) == sorted(
        [
            (lead.pk, "implementing"),
            (helper.pk, "coordinating"),
            (monitor.pk, "monitoring"),
        ]
    )


def test_admin_refuses_a_task_without_a_lead(client, coordinator):
    response = client.post(
        "/admin/plans/task/add/", task_form(PlanFactory(), main_indicator(), None)
    )
    assert response.status_code == 200
    assert "lead_unit" in response.context["adminform"].form.errors
    assert Task.objects.count() == 0


def test_admin_refuses_a_deadline_before_the_start(client, coordinator):
    data = task_form(PlanFactory(), main_indicator(), UnitFactory(), deadline="28/02/2026")
    response = client.post("/admin/plans/task/add/", data)
    assert response.status_code == 200
    assert "The deadline cannot be before the start date." in str(
        response.context["adminform"].form.errors
    ) or "Thời hạn không được trước ngày bắt đầu." in str(response.context["adminform"].form.errors)
    assert Task.objects.count() == 0


def test_admin_refuses_percent_above_100(client, coordinator):
    data = task_form(PlanFactory(), main_indicator(), UnitFactory(), percent_done="101")
    response = client.post("/admin/plans/task/add/", data)
    assert "percent_done" in response.context["adminform"].form.errors
    assert Task.objects.count() == 0


def test_admin_refuses_the_lead_as_a_coordinating_unit_and_saves_nothing(client, coordinator):
    lead = UnitFactory()
    data = with_assignments(
        task_form(PlanFactory(), main_indicator(), lead),
        [(lead.pk, Assignment.Role.COORDINATING)],
    )
    response = client.post("/admin/plans/task/add/", data)
    assert response.status_code == 200
    assert Task.objects.count() == 0
    assert Assignment.objects.count() == 0


def test_database_refuses_a_deadline_before_the_start():
    with pytest.raises(IntegrityError), transaction.atomic():
        TaskFactory(start_date=dt.date(2026, 5, 1), deadline=dt.date(2026, 4, 30))


@pytest.mark.parametrize("percent", [-1, 101])
def test_database_refuses_percent_outside_0_to_100(percent):
    task = TaskFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Task.objects.filter(pk=task.pk).update(percent_done=percent)


def test_database_refuses_a_task_without_a_lead():
    task = TaskFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Task.objects.filter(pk=task.pk).update(lead_unit=None)


def test_database_refuses_a_second_lead_as_an_assignment():
    """The lead is the task's one lead_unit; no other door can add a second one."""
    task = TaskFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Assignment.objects.create(task=task, unit=UnitFactory(), role="lead")


def test_database_refuses_the_same_role_twice_for_a_unit():
    assignment = AssignmentFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Assignment.objects.create(task=assignment.task, unit=assignment.unit, role=assignment.role)


def test_progress_report_in_admin_moves_the_task_forward(client, coordinator):
    task = TaskFactory(deadline=timezone.localdate() + dt.timedelta(days=30))
    response = client.post(
        "/admin/plans/progressupdate/add/",
        {"task": task.pk, "unit": task.lead_unit.pk, "percent": "40", "note": "Đã khảo sát"},
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.percent_done, task.status) == (40, Task.Status.IN_PROGRESS)
    assert ProgressUpdate.objects.get().author == coordinator


def test_progress_report_from_a_unit_without_a_role_is_refused(client, coordinator):
    task = TaskFactory()
    response = client.post(
        "/admin/plans/progressupdate/add/",
        {"task": task.pk, "unit": UnitFactory().pk, "percent": "40"},
    )
    assert response.status_code == 200
    assert ProgressUpdate.objects.count() == 0


def test_task_list_filters_overdue_by_unit_and_main_indicator(client, coordinator):
    today = timezone.localdate()
    lead = UnitFactory()
    TaskFactory(lead_unit=lead, deadline=today - dt.timedelta(days=2), title="Trễ hạn")
    TaskFactory(lead_unit=lead, deadline=today, title="Đến hạn hôm nay")
    other = TaskFactory(
        indicator=main_indicator("3"), title="Hạ tầng", deadline=today + dt.timedelta(days=30)
    )
    AssignmentFactory(task=other, unit=lead, role=Assignment.Role.COORDINATING)

    def titles(query: str) -> set[str]:
        response = client.get(f"/admin/plans/task/?{query}")
        return {task.title for task in response.context["cl"].result_list}

    assert titles("overdue=yes") == {"Trễ hạn"}
    assert titles(f"unit={lead.pk}") == {"Trễ hạn", "Đến hạn hôm nay", "Hạ tầng"}
    assert titles(f"main_indicator={main_indicator('3').pk}") == {"Hạ tầng"}
    assert titles(f"main_indicator={main_indicator('7').pk}") == {"Trễ hạn", "Đến hạn hôm nay"}


def test_task_list_shows_a_submitted_task_at_100_percent_awaiting_verification(client, coordinator):
    """As the portal does: the unit says it is done; the stored 60% is its last report."""
    TaskFactory(title="Đã nộp", status=Task.Status.SUBMITTED, percent_done=60)
    TaskFactory(title="Đang làm", status=Task.Status.IN_PROGRESS, percent_done=40)
    client.cookies["django_language"] = "vi"
    page = client.get("/admin/plans/task/").content.decode()
    rows = {
        title: row
        for row in page.split("<tr")[1:]
        for title in ("Đã nộp", "Đang làm")
        if title in row
    }
    assert '<td class="field-progress">100% · chờ xác nhận</td>' in rows["Đã nộp"]
    assert '<td class="field-progress">40%</td>' in rows["Đang làm"]


def test_task_list_costs_the_same_queries_for_5_and_50_tasks(
    client, coordinator, django_assert_max_num_queries
):
    """Expected: session, user, groups/permissions, count, page of tasks with plan, indicator,
    parent and lead unit joined, and the filters' choices (plans, units, main indicators)."""
    for count in (5, 50):
        TaskFactory.create_batch(count - Task.objects.count())
        with django_assert_max_num_queries(14):
            response = client.get("/admin/plans/task/")
        assert response.status_code == 200
        assert len(response.context["cl"].result_list) == count


def test_a_list_of_every_task_in_a_big_table_is_counted_from_the_estimate(
    client, coordinator, monkeypatch
):
    """PostgreSQL's row estimate stands in for COUNT(*) over a big table; what a filter or a
    search narrows down is counted exactly, and so is a small table (SQLite has no estimate:
    the tests stand one in)."""
    TaskFactory.create_batch(3, status=Task.Status.NEW)
    TaskFactory(status=Task.Status.COMPLETED)

    def listing(query: str = "") -> tuple[int, int]:
        cl = client.get(f"/admin/plans/task/?{query}").context["cl"]
        return cl.result_count, len(cl.result_list)

    monkeypatch.setattr(admin_lists, "table_estimate", lambda model, using: 60_000)
    assert listing() == (60_000, 4)
    assert listing("status=new") == (3, 3)
    assert listing("q=nonexistent") == (0, 0)
    monkeypatch.setattr(admin_lists, "table_estimate", lambda model, using: 4_000)
    assert listing() == (4, 4)


@pytest.mark.parametrize("few_rows", [admin_lists.FEW_ROWS, 0], ids=["few rows", "many rows"])
def test_the_deadline_drill_down_lists_the_years_months_and_days_that_have_tasks(
    client, coordinator, django_assert_max_num_queries, monkeypatch, few_rows
):
    """Both ways of finding the periods: from the rows' distinct deadlines (a list of few rows),
    or one EXISTS per period (a long list)."""
    monkeypatch.setattr(admin_lists, "FEW_ROWS", few_rows)
    for day in (dt.date(2026, 3, 5), dt.date(2026, 3, 20), dt.date(2026, 7, 1)):
        TaskFactory(deadline=day)
    TaskFactory(deadline=dt.date(2028, 1, 9))

    def choices(query: str = "") -> list[str]:
        with django_assert_max_num_queries(16):
            response = client.get(f"/admin/plans/task/?{query}")
        with translation.override("en"):  # the drill-down the page drew
            drill_down = date_hierarchy(response.context["cl"])
            return [str(choice["title"]) for choice in drill_down["choices"]]

    assert choices() == ["2026", "2028"]  # no 2027: no task is due then
    assert choices("deadline__year=2026") == ["03/2026", "07/2026"]
    assert choices("deadline__year=2026&deadline__month=3") == ["05/03", "20/03"]


def test_the_drill_down_asks_for_the_first_and_last_deadline_once(client, coordinator, monkeypatch):
    """Django's drill-down asks for them to pick its level, then again to list the years."""
    monkeypatch.setattr(admin_lists, "FEW_ROWS", 0)  # the long list's way: EXISTS per year
    TaskFactory(deadline=dt.date(2026, 3, 5))
    TaskFactory(deadline=dt.date(2028, 1, 9))
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/admin/plans/task/")
    assert response.status_code == 200
    asked = [q["sql"] for q in captured.captured_queries]
    bounds = [sql for sql in asked if 'MIN("plans_task"."deadline")' in sql]
    assert len(bounds) == 1, bounds
    with translation.override("en"):
        drill_down = date_hierarchy(response.context["cl"])
    assert [str(choice["title"]) for choice in drill_down["choices"]] == ["2026", "2028"]


def test_a_searched_list_reads_its_tasks_deadlines_once_for_the_whole_drill_down(
    client, coordinator
):
    """A search finds its tasks' ids first; asking "any task due this year?" once per year
    would find them again for each year. A list of few rows reads its distinct deadlines once
    instead, for the drill-down's bounds and its years."""
    for year in (2021, 2023, 2026, 2028):
        TaskFactory(
            title=f"Số hoá hồ sơ {year}",
            start_date=dt.date(year, 1, 1),
            deadline=dt.date(year, 5, 1),
        )
    TaskFactory(title="Đào tạo kỹ năng", deadline=dt.date(2030, 1, 1))
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/admin/plans/task/?q=hồ+sơ")
    assert response.status_code == 200
    with translation.override("en"):
        drill_down = date_hierarchy(response.context["cl"])
    assert [str(c["title"]) for c in drill_down["choices"]] == ["2021", "2023", "2026", "2028"]
    asked = [q["sql"] for q in captured.captured_queries]
    # The distinct deadlines; or the first and last, then "any in this year?" (p0, p1, …).
    deadlines = [
        sql
        for sql in asked
        if "SELECT DISTINCT" in sql or 'MIN("plans_task"."deadline")' in sql or '"p0"' in sql
    ]
    assert len(deadlines) == 1, deadlines


def test_steering_committee_can_read_the_plan_but_not_change_it(client):
    member = UserFactory(username="bcd@tinh.example", is_staff=True)
    member.groups.add(Group.objects.get(name=roles.STEERING_COMMITTEE))
    client.force_login(member)
    task = TaskFactory()
    assert client.get("/admin/plans/task/").status_code == 200
    page = client.get(f"/admin/plans/task/{task.pk}/change/")
    assert page.status_code == 200 and not page.context["has_change_permission"]
    response = client.post(
        f"/admin/plans/task/{task.pk}/change/",
        task_form(task.plan, task.indicator, task.lead_unit, title="Đổi tên"),
    )
    assert response.status_code == 403
    task.refresh_from_db()
    assert task.title != "Đổi tên"


def test_task_page_costs_the_same_queries_with_3_and_30_reports(
    client, coordinator, django_assert_max_num_queries
):
    """The read-only inlines (progress, evidence, requests) join their foreign keys."""
    from plans.services import progress_report

    task = TaskFactory(deadline=timezone.localdate() + dt.timedelta(days=60))
    counts = []
    for total in (3, 30):
        while task.progress_updates.count() < total:
            progress_report(task=task, unit=task.lead_unit, author=coordinator, percent=10)
        with django_assert_max_num_queries(60) as captured:
            assert client.get(f"/admin/plans/task/{task.pk}/change/").status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1], counts


def test_the_task_list_for_one_unit_lists_every_task_it_has_a_role_in_and_no_other(
    admin_client, django_assert_max_num_queries
):
    """The admin's "unit" filter: tasks it leads and tasks it implements, coordinates or
    monitors, read through the unit's own rows (on PostgreSQL, ``= ANY(ARRAY(...))``)."""
    unit, other = UnitFactory(name="Sở Y tế"), UnitFactory(name="Sở Tài chính")
    TaskFactory(title="Chủ trì số hóa bệnh án", lead_unit=unit)
    AssignmentFactory(
        task=TaskFactory(title="Phối hợp cổng dịch vụ công"),
        unit=unit,
        role=Assignment.Role.COORDINATING,
    )
    AssignmentFactory(task=TaskFactory(title="Theo dõi an toàn thông tin"), unit=unit)
    TaskFactory(title="Việc của đơn vị khác", lead_unit=other)
    with django_assert_max_num_queries(16):
        page = admin_client.get(f"/admin/plans/task/?unit={unit.pk}").content.decode()
    for title in (
        "Chủ trì số hóa bệnh án",
        "Phối hợp cổng dịch vụ công",
        "Theo dõi an toàn thông tin",
    ):
        assert title in page
    assert "Việc của đơn vị khác" not in page


def test_the_open_tasks_index_covers_exactly_the_open_statuses():
    """The overdue list reads ``task_open_order``: PostgreSQL uses a partial index only when the
    query's statuses are the index's, so a status added to OPEN_STATUSES must be added there."""
    index = next(i for i in Task._meta.indexes if i.name == "task_open_order")
    assert index.condition == Q(status__in=[str(s) for s in Task.OPEN_STATUSES])
