"""Open, overdue and days overdue: one definition, and every page that shows them agrees.

The decision (docs/decisions.md, "A task is open only while its plan is in force"): a task is
open when it is assigned or in progress and its plan is in force; overdue when it is open and
its deadline is before today. A closed plan's tasks are no longer chased, a draft plan's are not
live yet: neither is open, nor overdue, wherever the question is asked.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.utils import timezone

from plans import roles
from plans.models import Plan, Task, task_overdue_q
from tests.factories import PlanFactory, TaskFactory, UnitFactory, UserFactory, focal_point_of

pytestmark = pytest.mark.django_db

NOW = timezone.make_aware(dt.datetime(2026, 6, 15, 10, 0))
TODAY = NOW.date()


def days(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


@pytest.fixture
def coordinator(client):
    user = UserFactory(username="dti@skhcn.tinh.example", is_staff=True)
    user.groups.add(Group.objects.get(name=roles.COORDINATOR))
    client.force_login(user)
    return user


def _overdue_everywhere(client) -> dict[str, int]:
    """The overdue figure on each page a person reads it from, through HTTP."""
    with time_machine.travel(NOW, tick=False):
        portal = client.get("/")
        filtered = client.get("/?overdue=true")
        overview = client.get("/admin/reports/")
        units = client.get("/admin/reports/units/")
        report = client.get("/admin/reports/overdue/")
    chip = re.search(r'href="\?overdue=true">[^<]*<b>(\d+)</b>', portal.content.decode())
    assert chip, "the overdue chip is on the portal's list"
    return {
        "portal chip": int(chip.group(1)),
        "portal filter": filtered.context["page"].paginator.count,
        "reports overview": overview.context["data"].total.overdue,
        "units report": sum(line.overdue for line in units.context["lines"]),
        "overdue report": report.context["data"].total,
        "overdue report rows": report.context["data"].page.paginator.count,
    }


@pytest.mark.parametrize("plan_status", [Plan.Status.CLOSED, Plan.Status.DRAFT])
def test_a_past_deadline_task_of_a_plan_not_in_force_is_overdue_nowhere(
    client, coordinator, plan_status
):
    plan = PlanFactory(status=plan_status)
    TaskFactory(plan=plan, status=Task.Status.IN_PROGRESS, deadline=days(-10))

    figures = _overdue_everywhere(client)

    assert figures == dict.fromkeys(figures, 0)


def test_a_past_deadline_task_of_a_plan_in_force_is_overdue_everywhere(client, coordinator):
    TaskFactory(status=Task.Status.IN_PROGRESS, deadline=days(-10))
    # Not overdue: due today, completed, and a closed plan's task.
    TaskFactory(status=Task.Status.NEW, deadline=TODAY)
    TaskFactory(status=Task.Status.COMPLETED, deadline=days(-10), percent_done=100)
    TaskFactory(
        plan=PlanFactory(status=Plan.Status.CLOSED), status=Task.Status.NEW, deadline=days(-3)
    )

    figures = _overdue_everywhere(client)

    assert figures == dict.fromkeys(figures, 1)


def test_a_focal_point_sees_a_closed_plans_task_neither_overdue_nor_due_soon(client):
    """The unit still sees the task (visibility is unchanged), but it is not chased."""
    unit = UnitFactory()
    client.force_login(focal_point_of(unit))
    closed = PlanFactory(status=Plan.Status.CLOSED)
    late = TaskFactory(plan=closed, lead_unit=unit, status=Task.Status.NEW, deadline=days(-10))
    TaskFactory(plan=closed, lead_unit=unit, status=Task.Status.NEW, deadline=days(3))

    with time_machine.travel(NOW, tick=False):
        page = client.get("/")
        detail = client.get(f"/tasks/{late.pk}/")

    assert page.context["counts"]["all"] == 2
    assert page.context["counts"]["overdue"] == 0
    assert page.context["counts"]["due_soon"] == 0
    assert not any(task.overdue or task.needs_ack for task in page.context["tasks"])
    assert detail.context["overdue"] is False
    assert detail.context["days_overdue"] == 0


def test_the_python_and_the_database_answers_agree_for_every_state():
    """``Task.is_open``/``is_overdue``/``days_overdue`` and the querysets built on the ``Q``
    objects give the same answer for every status, plan status and deadline."""
    tasks = [
        TaskFactory(plan=plan, status=status, deadline=deadline, title=f"{plan}{status}{deadline}")
        for plan in [PlanFactory(status=s) for s in Plan.Status.values]
        for status in Task.Status.values
        for deadline in (days(-40), days(-1), TODAY, days(3), days(30))
    ]
    rows = Task.objects.with_days_overdue(NOW).select_related("plan")
    by_pk = {task.pk: task for task in rows}
    open_ = set(Task.objects.open().values_list("pk", flat=True))
    overdue = set(Task.objects.overdue(NOW).values_list("pk", flat=True))
    due = set(Task.objects.due_within(NOW, 7).values_list("pk", flat=True))
    assert set(Task.objects.filter(task_overdue_q(NOW)).values_list("pk", flat=True)) == overdue
    for task in tasks:
        task = by_pk[task.pk]
        assert task.is_open == (task.pk in open_), task
        assert task.is_overdue(NOW) == (task.pk in overdue), task
        assert task.days_overdue(NOW) == task.overdue_by.days, task
        assert (task.pk in due) == (task.is_open and TODAY <= task.deadline <= days(7)), task
        expected_days = (TODAY - task.deadline).days if task.pk in overdue else 0
        assert task.days_overdue(NOW) == expected_days, task
    assert len(overdue) == 4  # the plan in force: new and in progress, 40 and 1 days late
