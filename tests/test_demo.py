"""``manage.py load_demo``: what ``make run`` shows a newcomer, loaded once however often."""

from __future__ import annotations

import datetime as dt
import re
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from plans.models import Assignment, Plan, ProgressUpdate, Task, Unit, UnitMembership, User
from plans.roles import COORDINATOR, FOCAL_POINT

pytestmark = pytest.mark.django_db

# A Monday morning in the province; the demo's deadlines count from this day.
NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
PASSWORD = re.compile(r"password: (\S+)")


@pytest.fixture(autouse=True)
def _development(settings) -> None:
    # pytest-django runs with DEBUG=False; load_demo is a development command.
    settings.DEBUG = True


def load_demo(*args: str) -> str:
    out = StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("load_demo", *args, stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    models = [User, Group, Unit, UnitMembership, Plan, Task, Assignment, ProgressUpdate]
    return {model.__name__: model.objects.count() for model in models}


def test_loading_the_demo_twice_changes_nothing_the_second_time() -> None:
    first_output = load_demo()
    after_first = counts()
    second_output = load_demo()

    assert counts() == after_first
    assert after_first["Plan"] == 1
    assert after_first["Task"] == 5
    assert after_first["Unit"] >= 6
    assert PASSWORD.search(first_output)
    assert not PASSWORD.search(second_output), "the password is printed only once"
    assert "changepassword coordinator" in second_output


def test_demo_has_one_overdue_one_due_soon_and_one_completed_task() -> None:
    load_demo()
    today = NOW.date()

    overdue = Task.objects.overdue(NOW)
    assert overdue.count() == 1
    assert overdue.get().deadline < today
    due_soon = Task.objects.open().filter(
        deadline__gte=today, deadline__lte=today + dt.timedelta(days=7)
    )
    assert due_soon.count() == 1
    completed = Task.objects.get(status=Task.Status.COMPLETED, percent_done=100)
    # Completed as the portal completes a task: a verified completion report, not a bare status.
    [report] = completed.completions.all()
    assert report.status == "approved" and report.decided_by is not None
    assert report.unit == completed.lead_unit
    plan = Plan.objects.get()
    assert plan.year == today.year


def test_demo_tasks_are_on_main_indicators_and_have_every_role() -> None:
    load_demo()

    for task in Task.objects.select_related("indicator__indicator_set", "lead_unit"):
        assert task.indicator.is_main, "components are the user's data, never invented"
        assert task.indicator.indicator_set.code == "DTI2024"
        roles = set(task.assignments.values_list("role", flat=True))
        assert roles == {
            Assignment.Role.IMPLEMENTING,
            Assignment.Role.COORDINATING,
            Assignment.Role.MONITORING,
        }, task
        assert task.start_date is not None
        assert task.start_date <= task.deadline


def test_demo_focal_points_are_people_on_a_reserved_domain_without_a_password() -> None:
    load_demo()

    # All but the one demo account meant for trying the portal.
    focal_points = User.objects.filter(groups__name=FOCAL_POINT).exclude(username="focalpoint")
    assert focal_points.count() >= 6
    for person in focal_points:
        assert person.email.endswith(".example")
        assert not person.has_usable_password(), "they activate through a password reset"
        assert not person.is_staff
        assert person.memberships.filter(role=UnitMembership.Role.FOCAL_POINT).exists()
    # Every unit gets its reminders somewhere: a focal point or its shared mailbox.
    for unit in Unit.objects.all():
        assert unit.email or unit.memberships.exists(), unit


def test_demo_coordinator_is_staff_in_the_coordinator_group_and_not_a_superuser() -> None:
    load_demo()

    coordinator = User.objects.get(username="coordinator")
    assert coordinator.is_staff
    assert not coordinator.is_superuser
    assert list(coordinator.groups.values_list("name", flat=True)) == [COORDINATOR]


def test_demo_coordinator_signs_in_and_sees_the_task_list_in_vietnamese() -> None:
    password = PASSWORD.search(load_demo()).group(1)
    client = Client()  # no Accept-Language: the site's default language applies

    response = client.post(
        reverse("admin:login"),
        {"username": "coordinator", "password": password, "next": reverse("admin:index")},
    )
    assert response.status_code == 302, "the login form was refused"
    assert response.url == reverse("admin:index")

    with time_machine.travel(NOW, tick=False):
        response = client.get(reverse("admin:plans_task_changelist"))
    assert response.status_code == 200
    page = response.content.decode()
    # Django's own admin catalogue for vi, and the demo's Vietnamese data.
    assert "Trang chủ" in page
    assert "Bộ lọc" in page
    assert "Nâng tỷ lệ hồ sơ thủ tục hành chính được xử lý trực tuyến toàn trình" in page
    assert page.count('class="field-title_short"') == 5, "one row per demo task"


def test_demo_is_not_loaded_into_a_database_that_already_has_units() -> None:
    Unit.objects.create(name="Sở Xây dựng")

    output = load_demo()

    assert Plan.objects.count() == 0
    assert Unit.objects.count() == 1
    assert "not loaded" in output
    assert User.objects.filter(username="coordinator").exists()


def test_demo_deadlines_can_count_from_a_given_day() -> None:
    load_demo("--today", "2026-09-14")

    assert Plan.objects.get().year == 2026
    overdue = Task.objects.overdue(dt.datetime(2026, 9, 14, 8, tzinfo=ZoneInfo("UTC")))
    assert overdue.get().deadline == dt.date(2026, 9, 4)


def test_demo_refuses_to_run_in_production(settings) -> None:
    settings.DEBUG = False

    with pytest.raises(CommandError, match="DEBUG"):
        call_command("load_demo", stdout=StringIO())
    assert Unit.objects.count() == 0
    assert not User.objects.filter(username="coordinator").exists()


def test_demo_focal_point_signs_in_to_the_portal_and_sees_only_its_units_tasks() -> None:
    output = load_demo()
    password = PASSWORD.findall(output)[1]
    client = Client()
    response = client.post("/accounts/login/", {"username": "focalpoint", "password": password})
    assert response.status_code == 302
    with time_machine.travel(NOW, tick=False):
        page = client.get("/").content.decode()
    unit = User.objects.get(username="focalpoint").units.get()
    visible = Task.objects.for_unit(unit)
    assert visible.exists() and visible.count() < Task.objects.count()
    for task in Task.objects.all():
        assert (task.title in page) == visible.filter(pk=task.pk).exists(), task.title


def test_demo_has_sample_results_so_the_weak_list_and_reports_show_something(admin_client) -> None:
    from indicators.models import Assessment

    load_demo()
    lang_son = Assessment.objects.get(province__name="Lạng Sơn", year=2024)
    assert str(lang_son.value) == "0.3941"
    page = admin_client.get("/admin/reports/coverage/").content.decode()
    assert "Lạng Sơn" in page and "Hoạt động kinh tế số" in page  # 8: weak, no demo task


def test_demo_focal_point_sees_the_indicators_its_unit_presides_over_or_monitors() -> None:
    output = load_demo()
    password = PASSWORD.findall(output)[1]
    client = Client()
    client.post("/accounts/login/", {"username": "focalpoint", "password": password})
    unit = User.objects.get(username="focalpoint").units.get()
    owners = client.get("/indicators/").context["owners"]
    assert owners and all(unit in owner.presiding + owner.monitoring for owner in owners)
    # The 2024 set publishes no max points: nothing to self-assess against, no round.
    assert "No self-assessment round opened" in output
